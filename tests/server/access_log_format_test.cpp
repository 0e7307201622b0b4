// The access log's two line formats: exact lines for ordinary requests, and
// hostile request text that must neither forge a field or a line nor make a
// JSON line invalid.
#include "access_log_format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace overlap::server {
namespace {

using namespace std::string_view_literals;

http::access_log_record typical() {
  http::access_log_record r;
  r.method = "GET";
  r.target = "/docs/index.html?lang=en";
  r.protocol = "HTTP/1.1";
  r.status = 200;
  r.body_bytes = 2326;
  r.referer = "http://example.test/";
  r.user_agent = "curl/7.88.1";
  r.duration = std::chrono::microseconds(181);
  return r;
}

std::string combined(const http::access_log_record& r) {
  std::string out;
  append_combined_line(out, "192.0.2.7", r, "[10/Oct/2000:13:55:36 +0000]");
  return out;
}

std::string json(const http::access_log_record& r) {
  std::string out;
  append_json_line(out, "2001:db8::1", r, "2000-10-10T13:55:36Z");
  return out;
}

TEST(access_log_format, combined_line_of_a_typical_request) {
  EXPECT_EQ(combined(typical()),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /docs/index.html?lang=en "
            "HTTP/1.1\" 200 2326 \"http://example.test/\" \"curl/7.88.1\"\n");
}

TEST(access_log_format, combined_line_uses_dashes_for_absent_fields_and_no_body) {
  auto r = typical();
  r.status = 304;
  r.body_bytes = 0;
  r.referer = {};
  r.user_agent = {};
  EXPECT_EQ(combined(r),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /docs/index.html?lang=en "
            "HTTP/1.1\" 304 - \"-\" \"-\"\n");
}

TEST(access_log_format, combined_fields_cannot_break_out_of_their_quotes_or_line) {
  auto r = typical();
  r.target = "/a\"b\\c";
  r.user_agent = "x\" 500 0 \"forged\nline\x7f";
  const std::string line = combined(r);
  EXPECT_NE(line.find("\"GET /a\\\"b\\\\c HTTP/1.1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"x\\\" 500 0 \\\"forged\\x0aline\\x7f\"\n"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
}

TEST(access_log_format, json_line_of_a_typical_request) {
  EXPECT_EQ(json(typical()),
            "{\"time\":\"2000-10-10T13:55:36Z\",\"client\":\"2001:db8::1\",\"method\":\"GET\","
            "\"target\":\"/docs/index.html?lang=en\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"bytes\":2326,\"referer\":\"http://example.test/\",\"user_agent\":\"curl/7.88.1\","
            "\"duration_us\":181}\n");
}

TEST(access_log_format, json_line_has_empty_strings_for_absent_fields) {
  auto r = typical();
  r.body_bytes = 0;
  r.referer = {};
  r.user_agent = {};
  const std::string line = json(r);
  EXPECT_NE(line.find("\"bytes\":0,\"referer\":\"\",\"user_agent\":\"\","), std::string::npos)
      << line;
}

TEST(access_log_format, json_escapes_quotes_backslashes_and_control_bytes) {
  auto r = typical();
  r.user_agent = "a\"b\\c\nd\te\x01\x7f"sv;
  const std::string line = json(r);
  EXPECT_NE(line.find("\"user_agent\":\"a\\\"b\\\\c\\u000ad\\u0009e\\u0001\\u007f\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(access_log_format, json_keeps_utf8_and_escapes_bytes_that_are_not) {
  auto r = typical();
  // é (2 bytes), € (3), 😀 (4) pass as they are.
  r.user_agent = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"sv;
  EXPECT_NE(json(r).find("\"user_agent\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
            std::string::npos);
  struct bad_case {
    std::string_view in, out;
  };
  for (const bad_case& c : {
           bad_case{"\xff"sv, "\\u00ff"sv},                                   // never in UTF-8
           bad_case{"\xc0\xaf"sv, "\\u00c0\\u00af"sv},                        // overlong '/'
           bad_case{"\xed\xa0\x80"sv, "\\u00ed\\u00a0\\u0080"sv},             // a surrogate
           bad_case{"\xf4\x90\x80\x80"sv, "\\u00f4\\u0090\\u0080\\u0080"sv},  // past U+10FFFF
           bad_case{"\xe2\x82"sv, "\\u00e2\\u0082"sv},                        // cut short
           bad_case{"\xe2\x82x"sv, "\\u00e2\\u0082x"sv},                      // interrupted
       }) {
    r.target = c.in;
    const std::string line = json(r);
    EXPECT_NE(line.find("\"target\":\"" + std::string(c.out) + "\""), std::string::npos) << line;
  }
}

// --- every line is valid JSON, whatever the request held ---------------

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629), or 0; written
// independently of the code under test.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  char32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  const char32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// A strict reader of the lines append_json_line writes: an object of string
// and unsigned-number members, then a newline and nothing else. Returns the
// members' raw values with escapes undone (\u00HH back to the byte HH), or
// nullopt when the line is not valid JSON of that shape.
struct json_line_reader {
  std::string_view in;
  std::size_t at = 0;

  bool eat(char c) {
    if (at < in.size() && in[at] == c) return ++at, true;
    return false;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (at < in.size()) {
      const auto c = static_cast<unsigned char>(in[at]);
      if (c == '"') return ++at, out;
      if (c < 0x20) return std::nullopt;  // raw control characters are not JSON
      if (c == '\\') {
        if (at + 1 >= in.size()) return std::nullopt;
        const char e = in[at + 1];
        if (e == '"' || e == '\\' || e == '/') {
          out += e, at += 2;
        } else if (e == 'u' && at + 5 < in.size() && in.substr(at + 2, 2) == "00") {
          unsigned v = 0;
          for (std::size_t k = at + 4; k < at + 6; ++k) {
            const char h = in[k];
            const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
            if (d < 0) return std::nullopt;
            v = v * 16 + static_cast<unsigned>(d);
          }
          out += static_cast<char>(v), at += 6;
        } else {
          return std::nullopt;  // the writer uses no other escape
        }
      } else if (c >= 0x80) {
        const std::size_t n = utf8_length(in, at);
        if (n == 0) return std::nullopt;  // JSON text must be UTF-8
        out.append(in.substr(at, n)), at += n;
      } else {
        out += static_cast<char>(c), ++at;
      }
    }
    return std::nullopt;
  }
  std::optional<std::vector<std::string>> object() {
    std::vector<std::string> values;
    if (!eat('{')) return std::nullopt;
    do {
      if (!string() || !eat(':')) return std::nullopt;
      if (at < in.size() && in[at] == '"') {
        auto v = string();
        if (!v) return std::nullopt;
        values.push_back(*v);
      } else {
        const std::size_t start = at;
        while (at < in.size() && in[at] >= '0' && in[at] <= '9') ++at;
        if (at == start) return std::nullopt;
        values.emplace_back(in.substr(start, at - start));
      }
    } while (eat(','));
    if (!eat('}') || !eat('\n') || at != in.size()) return std::nullopt;
    return values;
  }
};

TEST(access_log_format, json_lines_of_random_request_text_are_valid_and_lossless) {
  std::mt19937_64 rng(20261125);
  // Bytes skewed towards the troublesome: controls, quotes, backslashes,
  // UTF-8 lead and continuation bytes.
  const std::string alphabet =
      std::string("\"\\\x01\x1f\x7f\x80\xbf\xc0\xc2\xe0\xed\xf0\xf4\xff") + "aZ/?%" + "\xc3\xa9";
  const auto random_text = [&](std::size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (char& c : s) {
      c = rng() % 2 == 0 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    }
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    auto r = typical();
    const std::string target = random_text(40), agent = random_text(40), referer = random_text(8);
    r.target = target;
    r.user_agent = agent;
    r.referer = referer;
    const std::string line = json(r);
    json_line_reader reader{line};
    const auto values = reader.object();
    ASSERT_TRUE(values.has_value()) << "not a valid JSON line: " << line;
    // time, client, method, target, protocol, status, bytes, referer, agent, duration
    ASSERT_EQ(values->size(), 10u) << line;
    EXPECT_EQ((*values)[3], target) << line;
    EXPECT_EQ((*values)[7], referer) << line;
    EXPECT_EQ((*values)[8], agent) << line;
  }
}

}  // namespace
}  // namespace overlap::server
