#include "access_log_format.hpp"

#include <charconv>
#include <cstdint>

namespace overlap::server {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// A CLF quoted field; "-" when empty.
void append_clf_field(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += '-';
    return;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex_digits[u >> 4];
      out += hex_digits[u & 0xf];
    } else {
      out += c;
    }
  }
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 §4: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = at(i);
  const auto tail = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i + k < s.size() && at(i + k) >= lo && at(i + k) <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return tail(1) ? 2 : 0;
  if (b0 == 0xe0) return tail(1, 0xa0) && tail(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 == 0xee || b0 == 0xef) return tail(1) && tail(2) ? 3 : 0;
  if (b0 == 0xed) return tail(1, 0x80, 0x9f) && tail(2) ? 3 : 0;
  if (b0 == 0xf0) return tail(1, 0x90) && tail(2) && tail(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return tail(1) && tail(2) && tail(3) ? 4 : 0;
  if (b0 == 0xf4) return tail(1, 0x80, 0x8f) && tail(2) && tail(3) ? 4 : 0;
  return 0;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x80) {
      if (const std::size_t n = utf8_sequence(text, i); n > 0) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    if (u == '"' || u == '\\') {
      out += '\\';
      out += static_cast<char>(u);
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\u00";
      out += hex_digits[u >> 4];
      out += hex_digits[u & 0xf];
    } else {
      out += static_cast<char>(u);
    }
    ++i;
  }
  out += '"';
}

}  // namespace

void append_combined_line(std::string& out, std::string_view client,
                          const http::access_log_record& r, std::string_view stamp) {
  out.append(client);
  out += " - - ";
  out.append(stamp);
  out += " \"";
  append_clf_field(out, r.method);
  out += ' ';
  append_clf_field(out, r.target);
  out += ' ';
  append_clf_field(out, r.protocol);
  out += "\" ";
  append_number(out, r.status);
  out += ' ';
  if (r.body_bytes == 0) {
    out += '-';
  } else {
    append_number(out, r.body_bytes);
  }
  out += " \"";
  append_clf_field(out, r.referer);
  out += "\" \"";
  append_clf_field(out, r.user_agent);
  out += "\"\n";
}

void append_json_line(std::string& out, std::string_view client, const http::access_log_record& r,
                      std::string_view time) {
  // Each member after the first starts with a comma; the name is a literal.
  char lead = '{';
  const auto name = [&](std::string_view n) {
    out += lead;
    lead = ',';
    out += '"';
    out.append(n);
    out += "\":";
  };
  const auto text = [&](std::string_view n, std::string_view v) {
    name(n);
    append_json_string(out, v);
  };
  const auto number = [&](std::string_view n, std::uint64_t v) {
    name(n);
    append_number(out, v);
  };
  text("time", time);
  text("client", client);
  text("method", r.method);
  text("target", r.target);
  text("protocol", r.protocol);
  number("status", r.status);
  number("bytes", r.body_bytes);
  text("referer", r.referer);
  text("user_agent", r.user_agent);
  number("duration_us",
         static_cast<std::uint64_t>(r.duration.count() > 0 ? r.duration.count() : 0));
  out += "}\n";
}

}  // namespace overlap::server
