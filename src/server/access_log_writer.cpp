#include "access_log_writer.hpp"

#include <charconv>
#include <cstdio>
#include <system_error>

#include "overlap/server/server_config.hpp"

namespace overlap::server {
namespace {

// CLF fields are quoted: keep a field from breaking out of its quotes or the
// line (log injection) by escaping quotes, backslashes and control bytes.
void append_escaped(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += '-';
    return;
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

access_log_writer::access_log_writer(proactor& p, std::string target)
    : out_(p, std::move(target), "access log", access_log_flush_bytes,
           access_log_max_buffer_bytes) {}

void access_log_writer::append(std::string_view client, const http::access_log_record& r,
                               std::time_t now) {
  if (!out_.has_room()) {
    ++dropped_;  // the log cannot keep up; never block or grow without bound
    return;
  }
  if (now != stamp_second_) {
    stamp_second_ = now;
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    stamp_len_ = std::strftime(stamp_, sizeof(stamp_), "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
  }
  std::string& out = out_.buffer();
  out.append(client);
  out += " - - ";
  out.append(stamp_, stamp_len_);
  out += " \"";
  append_escaped(out, r.method);
  out += ' ';
  append_escaped(out, r.target);
  out += ' ';
  append_escaped(out, r.protocol);
  out += "\" ";
  append_number(out, r.status);
  out += ' ';
  if (r.body_bytes == 0) {
    out += '-';
  } else {
    append_number(out, r.body_bytes);
  }
  out += " \"";
  append_escaped(out, r.referer);
  out += "\" \"";
  append_escaped(out, r.user_agent);
  out += "\"\n";
  if (out_.wants_flush()) out_.flush();
}

}  // namespace overlap::server
