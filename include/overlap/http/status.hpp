// HTTP status codes the static server produces, with their reason phrases and
// the small HTML bodies used for error responses.
#pragma once

#include <cstdint>
#include <string_view>

namespace overlap::http {

enum class http_status : std::uint16_t {
  ok = 200,
  partial_content = 206,
  moved_permanently = 301,
  not_modified = 304,
  bad_request = 400,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  precondition_failed = 412,
  content_too_large = 413,
  uri_too_long = 414,
  range_not_satisfiable = 416,
  request_header_fields_too_large = 431,
  internal_server_error = 500,
  not_implemented = 501,
  service_unavailable = 503,
  version_not_supported = 505,
};

constexpr unsigned code(http_status s) noexcept {
  return static_cast<unsigned>(s);
}

// RFC 9110 §15 reason phrase ("Not Found"); static storage.
std::string_view reason_phrase(http_status s) noexcept;

// A complete, static HTML document describing `s`; static storage.
std::string_view error_page(http_status s) noexcept;

}  // namespace overlap::http
