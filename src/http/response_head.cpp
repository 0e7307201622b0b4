#include "response_head.hpp"

#include <charconv>

namespace overlap::http::head {
namespace {

void number(std::string& h, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  h.append(buf, r.ptr);
}

}  // namespace

void begin(std::string& h, http_status s, std::string_view date) {
  h.clear();
  h.append("HTTP/1.1 ");
  number(h, code(s));
  h.push_back(' ');
  h.append(reason_phrase(s));
  h.append("\r\nDate: ").append(date).append("\r\nServer: overlap\r\n");
}

void content_length(std::string& h, std::uint64_t n) {
  h.append("Content-Length: ");
  number(h, n);
  h.append("\r\n");
}

void content_range(std::string& h, std::uint64_t first, std::uint64_t length, std::uint64_t size) {
  h.append("Content-Range: bytes ");
  number(h, first);
  h.push_back('-');
  number(h, first + length - 1);
  h.push_back('/');
  number(h, size);
  h.append("\r\n");
}

void unsatisfied_range(std::string& h, std::uint64_t size) {
  h.append("Content-Range: bytes */");
  number(h, size);
  h.append("\r\n");
}

void end(std::string& h, std::string_view added_fields, bool close, bool say_keep_alive) {
  h.append(added_fields);
  if (close) {
    h.append("Connection: close\r\n");
  } else if (say_keep_alive) {
    h.append("Connection: keep-alive\r\n");
  }
  h.append("\r\n");
}

}  // namespace overlap::http::head
