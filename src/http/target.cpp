// Request-target → normalised filesystem path. The kernel (openat2 with
// RESOLVE_BENEATH) is the real guard against escapes; this code only has to
// be correct about what the client asked for, and strict about junk.
#include <overlap/http/target.hpp>

#include "text.hpp"

namespace overlap::http {

split_target split_request_target(std::string_view raw) noexcept {
  split_target t;
  if (raw == "*") {
    t.form = target_form::asterisk;
    return t;
  }
  std::string_view rest = raw;
  if (!raw.empty() && raw[0] == '/') {
    t.form = target_form::origin;
  } else {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    const auto colon = raw.find("://");
    if (colon == std::string_view::npos) {
      return t;
    }
    const auto scheme = raw.substr(0, colon);
    if (!text::iequals(scheme, "http") && !text::iequals(scheme, "https")) {
      return t;
    }
    rest = raw.substr(colon + 3);
    const auto path_start = rest.find_first_of("/?");
    if (path_start == 0) {
      return t;  // empty authority is invalid for http(s) (RFC 9110 §4.2.1)
    }
    rest = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    t.form = target_form::absolute;
  }
  // A fragment is never part of a request-target (RFC 9112 §3.2); '#' is
  // rejected rather than guessed about.
  if (rest.find('#') != std::string_view::npos) {
    t.form = target_form::invalid;
    return t;
  }
  const auto q = rest.find('?');
  t.path = rest.substr(0, q);
  if (q != std::string_view::npos) {
    t.query = rest.substr(q + 1);
    t.has_query = true;
  }
  if (t.path.empty()) {
    t.path = "/";
  }
  return t;
}

path_outcome normalize_path(std::string_view encoded, bool allow_dotfiles, std::string& out) {
  out.clear();
  out.push_back('/');
  if (encoded.empty() || encoded[0] != '/') {
    return path_outcome::bad_request;
  }

  // Segments are decoded as they are read, once: "%252e" yields "%2e", never
  // '.'. A decoded '/' (%2F) separates segments like a raw one; the result is
  // the same file the kernel would resolve, and ".." handling still applies.
  std::size_t segment_start = out.size();  // index in `out` where the segment being built begins
  auto end_segment = [&]() -> bool {
    const std::string_view seg(out.data() + segment_start, out.size() - segment_start);
    if (seg.empty() || seg == ".") {  // "//" and "/./" add nothing
      out.resize(segment_start);
      return true;
    }
    if (seg == "..") {  // RFC 3986 §5.2.4: drop the previous segment
      out.resize(segment_start);
      if (out.size() == 1) {
        return false;  // would climb above the root
      }
      out.pop_back();  // the '/' ending the previous segment
      out.resize(out.rfind('/') + 1);
      return true;
    }
    out.push_back('/');
    return true;
  };

  bool last_was_dir = true;
  for (std::size_t i = 1; i <= encoded.size(); ++i) {
    char c = 0;
    if (i < encoded.size()) {
      c = encoded[i];
      if (c == '%') {
        if (i + 2 >= encoded.size() || !text::is_hex(static_cast<unsigned char>(encoded[i + 1])) ||
            !text::is_hex(static_cast<unsigned char>(encoded[i + 2]))) {
          return path_outcome::bad_request;
        }
        c = static_cast<char>(text::hex_value(static_cast<unsigned char>(encoded[i + 1])) * 16 +
                              text::hex_value(static_cast<unsigned char>(encoded[i + 2])));
        i += 2;
        // NUL would truncate the path in the kernel (RFC 3986 §7.3).
        if (c == '\0') {
          return path_outcome::bad_request;
        }
      }
      // A backslash is a separator on other systems; rather than guess what
      // the client meant, refuse it (raw or %5C).
      if (c == '\\' || c == '\0') {
        return path_outcome::bad_request;
      }
    }
    if (i >= encoded.size() || c == '/') {
      const std::string_view seg(out.data() + segment_start, out.size() - segment_start);
      const bool dir_like = seg.empty() || seg == "." || seg == "..";
      if (!end_segment()) {
        return path_outcome::bad_request;
      }
      last_was_dir = i >= encoded.size() ? dir_like : true;
      segment_start = out.size();
      continue;
    }
    out.push_back(c);
  }
  // A path ending in "/", "/." or "/.." names a directory; otherwise the
  // trailing '/' added by end_segment() is removed again.
  if (!last_was_dir && out.size() > 1) {
    out.pop_back();
  }
  // Every "." and ".." segment is gone, so any remaining "/." starts a
  // dotfile segment (".git", ".env", ".htpasswd").
  if (!allow_dotfiles && out.find("/.") != std::string::npos) {
    return path_outcome::not_found;
  }
  return path_outcome::ok;
}

void append_uri_path(std::string& out, std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    // pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (RFC 3986 §3.3)
    if (text::is_unreserved(c) || text::is_sub_delim(c) || c == ':' || c == '@' || c == '/') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

}  // namespace overlap::http
