#include <overlap/http/content_coding.hpp>

#include "text.hpp"

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

}  // namespace

bool accepts_gzip(std::optional<std::string_view> accept_encoding) noexcept {
  if (!accept_encoding) return false;
  int gzip = -1;  // best weight given to gzip, -1: not listed
  int any = -1;   // weight of "*"
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
    if (text::iequals(name, "gzip") || text::iequals(name, "x-gzip")) {
      gzip = gzip > q ? gzip : q;
    } else if (name == "*") {
      any = any > q ? any : q;
    }
  }
  return gzip >= 0 ? gzip > 0 : any > 0;
}

}  // namespace overlap::http
