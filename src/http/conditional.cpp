#include <overlap/http/conditional.hpp>

#include <overlap/http/http_date.hpp>

#include "text.hpp"

namespace overlap::http {
namespace {

struct entity_tag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3); consumes it
// from the front of `s`.
bool take_entity_tag(std::string_view& s, entity_tag& tag) noexcept {
  tag.weak = s.starts_with("W/");
  if (tag.weak) {
    s.remove_prefix(2);
  }
  if (s.empty() || s[0] != '"') {
    return false;
  }
  const auto close = s.find('"', 1);
  if (close == std::string_view::npos) {
    return false;
  }
  for (std::size_t i = 1; i < close; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    // etagc = %x21 / %x23-7E / obs-text
    if (c < 0x21 || c == 0x7f) {
      return false;
    }
  }
  tag.opaque = s.substr(0, close + 1);
  s.remove_prefix(close + 1);
  return true;
}

std::string_view opaque_of(std::string_view etag) noexcept {
  return etag.starts_with("W/") ? etag.substr(2) : etag;
}

// 1#entity-tag against our tag: weak comparison (§8.8.3.2) for If-None-Match,
// strong for If-Match. "*" matches, since the resource exists; empty list
// elements are allowed (§5.6.1.2); a malformed list matches nothing.
bool list_matches(std::string_view value, std::string_view etag, bool strong) noexcept {
  value = text::trim_ows(value);
  if (value == "*") {
    return true;
  }
  if (strong && etag.starts_with("W/")) {
    return false;  // a weak validator never matches strongly
  }
  const auto ours = opaque_of(etag);
  while (!value.empty()) {
    value = text::trim_ows(value);
    if (!value.empty() && value[0] == ',') {
      value.remove_prefix(1);
      continue;
    }
    if (value.empty()) {
      break;
    }
    entity_tag tag;
    if (!take_entity_tag(value, tag)) {
      return false;
    }
    if (tag.opaque == ours && !(strong && tag.weak)) {
      return true;
    }
    value = text::trim_ows(value);
    if (!value.empty() && value[0] != ',') {
      return false;
    }
  }
  return false;
}

}  // namespace

bool if_none_match_matches(std::string_view value, std::string_view etag) noexcept {
  return list_matches(value, etag, /*strong=*/false);
}

bool if_match_matches(std::string_view value, std::string_view etag) noexcept {
  return list_matches(value, etag, /*strong=*/true);
}

bool if_range_matches(std::string_view value, std::string_view etag,
                      std::int64_t last_modified_seconds, std::int64_t now_seconds) noexcept {
  value = text::trim_ows(value);
  if (value.starts_with("W/") || value.starts_with("\"")) {
    entity_tag tag;
    std::string_view rest = value;
    // §13.1.5: strong comparison; a weak tag never matches.
    return take_entity_tag(rest, tag) && rest.empty() && !tag.weak && !etag.starts_with("W/") &&
           tag.opaque == etag;
  }
  const auto date = parse_http_date(value, now_seconds);
  return date.has_value() && *date == last_modified_seconds;
}

namespace {
// The date of a single, parsable date field; nullopt otherwise (ignored).
std::optional<std::int64_t> single_date(const std::optional<std::string_view>& field,
                                        std::size_t count, std::int64_t now_seconds) noexcept {
  if (!field || count != 1) {
    return std::nullopt;
  }
  return parse_http_date(text::trim_ows(*field), now_seconds);
}
}  // namespace

precondition_outcome evaluate_preconditions(const request_conditions& c, std::string_view etag,
                                            std::int64_t last_modified_seconds,
                                            std::int64_t now_seconds) noexcept {
  if (c.if_match) {
    if (!if_match_matches(*c.if_match, etag)) {
      return precondition_outcome::precondition_failed;
    }
  } else if (const auto date =
                 single_date(c.if_unmodified_since, c.if_unmodified_since_count, now_seconds)) {
    if (last_modified_seconds > *date) {
      return precondition_outcome::precondition_failed;
    }
  }
  if (c.if_none_match) {
    return if_none_match_matches(*c.if_none_match, etag) ? precondition_outcome::not_modified
                                                         : precondition_outcome::proceed;
  }
  if (const auto since = single_date(c.if_modified_since, c.if_modified_since_count, now_seconds)) {
    if (last_modified_seconds <= *since) {
      return precondition_outcome::not_modified;
    }
  }
  return precondition_outcome::proceed;
}

}  // namespace overlap::http
