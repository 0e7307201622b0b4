// Request-target handling (RFC 9112 §3.2) and the mapping of its path onto a
// normalised, decoded path below the document root.
#pragma once

#include <string>
#include <string_view>

namespace overlap::http {

enum class target_form { origin, absolute, asterisk, invalid };

struct split_target {
  target_form form = target_form::invalid;
  std::string_view path;   // still percent-encoded; "/" for absolute-form without a path
  std::string_view query;  // after '?', without it; empty when absent
  bool has_query = false;
};

// Splits a raw request-target. Accepted: origin-form "/p?q", absolute-form
// "http(s)://authority/p?q" (RFC 9112 §3.2.2: a server MUST accept it; we use
// its path and ignore its authority for file lookup) and "*".
split_target split_request_target(std::string_view raw) noexcept;

enum class path_outcome {
  ok,
  bad_request,  // bad %-escape, %00, backslash, or ".." above the root
  not_found,    // a dotfile segment while dotfiles are not served
};

// Percent-decodes `encoded_path` exactly once (so "%252e" stays the literal
// "%2e"), then removes "." and ".." segments (RFC 3986 §5.2.4) and collapses
// empty segments. Bytes are kept as they are: an overlong UTF-8 sequence such
// as %C0%AE is two bytes, never '.'. The result, written to `out` (whose
// capacity is reused), starts with '/' and ends with '/' when the request
// named a directory ("/a/", "/a/." and "/a/b/.." all do).
path_outcome normalize_path(std::string_view encoded_path, bool allow_dotfiles, std::string& out);

// Appends `path` percent-encoded so it is a valid URI path (RFC 3986 §3.3):
// used for Location headers and autoindex links.
void append_uri_path(std::string& out, std::string_view path);

}  // namespace overlap::http
