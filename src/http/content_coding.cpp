#include <overlap/http/content_coding.hpp>

#include "text.hpp"

#include <algorithm>

namespace overlap::http {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && text::is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && text::is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; -1 when it does not parse.
int parse_qvalue(std::string_view v) noexcept {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (const char c : v.substr(2)) {
    if (!text::is_digit(static_cast<unsigned char>(c))) return -1;
    q += (c - '0') * scale;
    scale /= 10;
  }
  return q <= 1000 ? q : -1;
}

// One list element's weight in thousandths (1000 without a "q"
// parameter); -1 when its parameters do not parse.
int weight_of(std::string_view params) noexcept {
  int q = 1000;
  while (!params.empty()) {
    // params starts just after a ';'
    const std::size_t semi = params.find(';');
    const std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) return -1;
    if (text::iequals(trim(param.substr(0, eq)), "q")) {
      q = parse_qvalue(trim(param.substr(eq + 1)));
      if (q < 0) return -1;
    }
  }
  return q;
}

// Indexed by content_coding.
struct names {
  std::string_view token;   // Content-Encoding
  std::string_view suffix;  // of the twin's file name
};
constexpr std::array<names, content_coding_count> coding_names{{
    {"br", ".br"},
    {"zstd", ".zst"},
    {"gzip", ".gz"},
}};

}  // namespace

std::string_view coding_token(content_coding c) noexcept {
  return coding_names[static_cast<std::size_t>(c)].token;
}

std::string_view twin_suffix(content_coding c) noexcept {
  return coding_names[static_cast<std::size_t>(c)].suffix;
}

std::optional<content_coding> coding_of_twin(std::string_view path) noexcept {
  for (std::size_t i = 0; i < content_coding_count; ++i) {
    const auto c = static_cast<content_coding>(i);
    if (path.ends_with(twin_suffix(c))) return c;
  }
  return std::nullopt;
}

accepted_codings accepted_codings_of(std::optional<std::string_view> accept_encoding) noexcept {
  accepted_codings out;
  if (!accept_encoding) return out;
  // Best weight named for each coding (-1: not named), and the weight of "*".
  std::array<int, content_coding_count> named{-1, -1, -1};
  int any = -1;
  std::string_view rest = *accept_encoding;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view element = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t semi = element.find(';');
    const std::string_view name = trim(element.substr(0, semi));
    if (name.empty()) continue;  // "a, , b": empty list elements are allowed (§5.6.1)
    const int q = semi == std::string_view::npos ? 1000 : weight_of(element.substr(semi + 1));
    if (q < 0) continue;
    if (name == "*") {
      any = std::max(any, q);
      continue;
    }
    for (std::size_t i = 0; i < content_coding_count; ++i) {
      const auto c = static_cast<content_coding>(i);
      if (text::iequals(name, coding_token(c)) ||
          (c == content_coding::gzip && text::iequals(name, "x-gzip"))) {
        named[i] = std::max(named[i], q);
      }
    }
  }
  std::array<int, content_coding_count> weight{};
  for (std::size_t i = 0; i < content_coding_count; ++i) {
    weight[i] = named[i] >= 0 ? named[i] : std::max(any, 0);
  }
  // At most three: insertion by weight, stable for the server's order.
  for (std::size_t i = 0; i < content_coding_count; ++i) {
    if (weight[i] <= 0) continue;
    std::size_t at = out.count;
    while (at > 0 && weight[static_cast<std::size_t>(out.best_first[at - 1])] < weight[i]) {
      out.best_first[at] = out.best_first[at - 1];
      --at;
    }
    out.best_first[at] = static_cast<content_coding>(i);
    ++out.count;
  }
  return out;
}

}  // namespace overlap::http
