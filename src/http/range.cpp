// Range (RFC 9110 §14.1.1):
//   ranges-specifier = range-unit "=" range-set
//   range-set        = 1#range-spec
//   range-spec       = int-range / suffix-range / other-range
#include <overlap/http/range.hpp>

#include "text.hpp"

#include <limits>

namespace overlap::http {
namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

// 1*DIGIT; saturates instead of overflowing (a huge last-pos is just "to the
// end", a huge first-pos is unsatisfiable — both are valid syntax).
bool parse_uint(std::string_view s, std::uint64_t& value) noexcept {
  if (s.empty()) {
    return false;
  }
  value = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!text::is_digit(c)) {
      return false;
    }
    const std::uint64_t d = c - '0';
    value = value > (saturated - d) / 10 ? saturated : value * 10 + d;
  }
  return true;
}

}  // namespace

range_decision evaluate_range(std::string_view value, std::uint64_t size) noexcept {
  const auto eq = value.find('=');
  if (eq == std::string_view::npos ||
      !text::iequals(text::trim_ows(value.substr(0, eq)), "bytes")) {
    return {};
  }
  std::string_view set = value.substr(eq + 1);

  // Empty list elements are allowed and ignored (RFC 9110 §5.6.1.2).
  std::string_view spec;
  std::size_t specs = 0;
  while (!set.empty()) {
    const auto comma = set.find(',');
    const auto element = text::trim_ows(set.substr(0, comma));
    set = comma == std::string_view::npos ? std::string_view{} : set.substr(comma + 1);
    if (element.empty()) {
      continue;
    }
    spec = element;
    if (++specs > 1) {
      return {};  // several ranges: whole representation
    }
  }
  if (specs == 0) {
    return {};
  }

  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return {};
  }
  const auto first_text = spec.substr(0, dash);
  const auto last_text = spec.substr(dash + 1);
  if (size == 0) {
    return {};
  }

  if (first_text.empty()) {  // suffix-range "-n": the last n bytes
    std::uint64_t n = 0;
    if (!parse_uint(last_text, n)) {
      return {};
    }
    if (n == 0) {
      return {range_outcome::unsatisfiable};
    }
    const std::uint64_t len = n < size ? n : size;
    return {range_outcome::satisfiable, size - len, len};
  }
  std::uint64_t first = 0;
  if (!parse_uint(first_text, first)) {
    return {};
  }
  std::uint64_t last = saturated;
  if (!last_text.empty()) {
    if (!parse_uint(last_text, last)) {
      return {};
    }
    if (last < first) {
      return {};  // invalid int-range (§14.1.1): ignore the field
    }
  }
  if (first >= size) {
    return {range_outcome::unsatisfiable};
  }
  if (last >= size) {
    last = size - 1;
  }
  return {range_outcome::satisfiable, first, last - first + 1};
}

}  // namespace overlap::http
