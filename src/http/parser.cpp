// request_parser: llhttp drives the grammar; this file adds the RFC 9112
// checks llhttp 8 leaves to its user and maps every failure to a status.
#include <overlap/http/parser.hpp>

#include "text.hpp"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

namespace overlap::http {
namespace {

enum pause_reason : int { pause_none = 0, pause_head = 1, pause_message = 2 };

// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3); an
// empty value is valid (RFC 9112 §3.2: sent when the authority is empty).
bool is_valid_host(std::string_view h) noexcept {
  std::size_t i = 0;
  if (!h.empty() && h[0] == '[') {
    // IP-literal: IPv6address or IPvFuture, both drawn from these characters.
    const auto close = h.find(']');
    if (close == std::string_view::npos || close == 1) {
      return false;
    }
    for (std::size_t k = 1; k < close; ++k) {
      const auto c = static_cast<unsigned char>(h[k]);
      if (!text::is_unreserved(c) && !text::is_sub_delim(c) && c != ':') {
        return false;
      }
    }
    i = close + 1;
  } else {
    for (; i < h.size() && h[i] != ':'; ++i) {
      const auto c = static_cast<unsigned char>(h[i]);
      if (c == '%') {
        if (i + 2 >= h.size() || !text::is_hex(static_cast<unsigned char>(h[i + 1])) ||
            !text::is_hex(static_cast<unsigned char>(h[i + 2]))) {
          return false;
        }
        i += 2;
      } else if (!text::is_unreserved(c) && !text::is_sub_delim(c)) {
        return false;
      }
    }
  }
  if (i == h.size()) {
    return true;
  }
  if (h[i] != ':') {
    return false;
  }
  for (++i; i < h.size(); ++i) {  // port = *DIGIT (may be empty, RFC 3986 §3.2.3)
    if (!text::is_digit(static_cast<unsigned char>(h[i]))) {
      return false;
    }
  }
  return true;
}

// What a request's Transfer-Encoding list (repeated fields joined by commas)
// says about its framing, RFC 9112 §6.1 and §6.3.
enum class transfer_codings { chunked, not_final_chunked, unknown_coding };

transfer_codings classify_transfer_codings(std::string_view list) noexcept {
  std::size_t chunked = 0;
  bool other = false;
  bool last_is_chunked = false;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view item = text::trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;  // empty list elements do not count (RFC 9110 §5.6.1)
    last_is_chunked = text::iequals(item, "chunked");
    if (last_is_chunked) {
      ++chunked;
    } else {
      other = true;
    }
  }
  // Chunked must be applied once and last; otherwise the body's length
  // cannot be determined (400 and close).
  if (!last_is_chunked || chunked > 1) return transfer_codings::not_final_chunked;
  // Any other coding (gzip, or "identity", which is not registered any more)
  // is one this server does not implement: 501 (§6.1).
  return other ? transfer_codings::unknown_coding : transfer_codings::chunked;
}

method_kind kind_of(unsigned llhttp_method) noexcept {
  switch (llhttp_method) {
    case HTTP_GET:
      return method_kind::get;
    case HTTP_HEAD:
      return method_kind::head;
    case HTTP_OPTIONS:
      return method_kind::options;
    case HTTP_CONNECT:
      return method_kind::connect;
    default:
      return method_kind::other;
  }
}

const char empty_input[1] = {0};

}  // namespace

// llhttp's C callbacks; each finds its parser through llhttp_t::data.
struct request_parser::callbacks {
  static request_parser& self(llhttp_t* p) { return *static_cast<request_parser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    self(p).begin_message();
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (n > s.limits_.max_target_bytes - s.target_.size()) {
      s.callback_error_ = static_cast<int>(http_status::uri_too_long);
      return HPE_USER;
    }
    s.target_.append(at, n);
    return 0;
  }
  static int on_version(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    for (std::size_t i = 0; i < n; ++i, ++s.version_length_) {
      if (s.version_length_ < s.version_.size()) {
        s.version_[s.version_length_] = at[i];
      }
    }
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (n == 0) {
      return 0;
    }
    for (std::size_t i = 0; i < n; ++i, ++s.field_length_) {
      if (s.field_length_ < s.field_.size()) {
        s.field_[s.field_length_] = at[i];
      }
    }
    s.field_last_ = at[n - 1];
    return 0;
  }
  static int on_header_field_complete(llhttp_t* p) {
    auto& s = self(p);
    // RFC 9112 §5.1: no whitespace between field name and colon; llhttp 8
    // accepts "Host :" unless told to be strict, so it is rejected here.
    if (s.field_length_ == 0 || s.field_last_ == ' ' || s.field_last_ == '\t') {
      s.callback_error_ = static_cast<int>(http_status::bad_request);
      s.reason_ = s.field_length_ == 0 ? "empty field name" : "whitespace before colon";
      return HPE_USER;
    }
    s.value_sink_ = nullptr;
    if (s.field_length_ <= s.field_.size()) {
      const std::string_view name(s.field_.data(), s.field_length_);
      request& r = s.request_;
      auto keep_first = [&s](std::string& sink, std::size_t& count) {
        if (++count == 1) {
          s.value_sink_ = &sink;
        }
      };
      if (text::iequals(name, "host")) {
        keep_first(s.host_, r.host_count);
      } else if (text::iequals(name, "if-none-match")) {
        // A list field: repeated lines combine with commas (RFC 9110 §5.3).
        if (r.if_none_match.has_value()) {
          s.if_none_match_.append(", ");
        }
        r.if_none_match = std::string_view{};
        s.value_sink_ = &s.if_none_match_;
      } else if (text::iequals(name, "if-match")) {
        if (r.if_match.has_value()) {
          s.if_match_.append(", ");
        }
        r.if_match = std::string_view{};
        s.value_sink_ = &s.if_match_;
      } else if (text::iequals(name, "if-unmodified-since")) {
        keep_first(s.if_unmodified_since_, r.if_unmodified_since_count);
      } else if (text::iequals(name, "if-modified-since")) {
        keep_first(s.if_modified_since_, r.if_modified_since_count);
      } else if (text::iequals(name, "range")) {
        keep_first(s.range_, r.range_count);
      } else if (text::iequals(name, "if-range")) {
        keep_first(s.if_range_, r.if_range_count);
      } else if (text::iequals(name, "accept-encoding")) {
        if (r.accept_encoding.has_value()) {
          s.accept_encoding_.append(", ");
        }
        r.accept_encoding = std::string_view{};
        s.value_sink_ = &s.accept_encoding_;
      } else if (text::iequals(name, "transfer-encoding")) {
        // A list field: repeated lines combine with commas (RFC 9110 §5.3).
        if (!s.transfer_encoding_.empty()) {
          s.transfer_encoding_.push_back(',');
        }
        s.value_sink_ = &s.transfer_encoding_;
      } else if (text::iequals(name, "expect")) {
        if (!s.expect_.empty()) {
          s.expect_.push_back(',');
        }
        s.value_sink_ = &s.expect_;
      } else if (text::iequals(name, "referer")) {
        if (!r.referer) {
          s.value_sink_ = &s.referer_;  // first one is logged
        }
        r.referer = std::string_view{};
      } else if (text::iequals(name, "user-agent")) {
        if (!r.user_agent) {
          s.value_sink_ = &s.user_agent_;
        }
        r.user_agent = std::string_view{};
      }
    }
    if (s.value_sink_ != nullptr) {
      s.value_start_ = s.value_sink_->size();
    }
    s.field_length_ = 0;
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.value_sink_ != nullptr) {
      s.value_sink_->append(at, n);
    }
    return 0;
  }
  static int on_header_value_complete(llhttp_t* p) {
    self(p).finish_field_value();
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    // Pause so parse() sees exactly where the head ends: the head-size limit
    // and the obs-fold scan apply to head bytes only, never to the body.
    self(p).pause_reason_ = pause_head;
    return HPE_PAUSED;
  }
  static int on_body(llhttp_t* p, const char*, std::size_t n) {
    auto& s = self(p);
    s.request_.body_bytes += n;
    if (s.request_.body_bytes > s.limits_.max_body_discard_bytes) {
      s.callback_error_ = static_cast<int>(http_status::content_too_large);
      return HPE_USER;
    }
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    // One request at a time: the caller decides whether it has room for the
    // next response before any more input is parsed.
    self(p).pause_reason_ = pause_message;
    return HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t t;
      llhttp_settings_init(&t);
      t.on_message_begin = on_message_begin;
      t.on_url = on_url;
      t.on_version = on_version;
      t.on_header_field = on_header_field;
      t.on_header_field_complete = on_header_field_complete;
      t.on_header_value = on_header_value;
      t.on_header_value_complete = on_header_value_complete;
      t.on_headers_complete = on_headers_complete;
      t.on_body = on_body;
      t.on_message_complete = on_message_complete;
      return t;
    }();
    return s;
  }
};

request_parser::request_parser(const parser_limits& limits)
    : limits_(limits), llhttp_(std::make_unique<llhttp_t>()) {
  // Lenient flags all stay off (llhttp's default): CL+TE, bad TE, and
  // header-value junk are errors, which is what defeats request smuggling.
  llhttp_init(llhttp_.get(), HTTP_REQUEST, &callbacks::settings());
  llhttp_->data = this;
  if (limits_.max_header_bytes == 0) {
    limits_.max_header_bytes = 1;
  }
  target_.reserve(256);
}

request_parser::~request_parser() = default;

void request_parser::begin_message() noexcept {
  in_message_ = true;
  request_ = request{};
  target_.clear();
  for (std::string* s :
       {&host_, &if_match_, &if_unmodified_since_, &if_none_match_, &if_modified_since_, &range_,
        &if_range_, &accept_encoding_, &referer_, &user_agent_, &transfer_encoding_, &expect_}) {
    s->clear();
  }
  version_length_ = 0;
  field_length_ = 0;
  value_sink_ = nullptr;
}

void request_parser::finish_field_value() noexcept {
  if (value_sink_ == nullptr) {
    return;
  }
  // Field values exclude leading and trailing OWS (RFC 9110 §5.5).
  std::string& s = *value_sink_;
  while (s.size() > value_start_ && text::is_ows(s.back())) {
    s.pop_back();
  }
  std::size_t lead = value_start_;
  while (lead < s.size() && text::is_ows(s[lead])) {
    ++lead;
  }
  s.erase(value_start_, lead - value_start_);
  value_sink_ = nullptr;
}

// Decides 501 vs 400 for a method llhttp does not know: RFC 9110 §9.1 says an
// unrecognised but well-formed method gets 501; anything that is not a token
// followed by SP is a malformed request line (400).
void request_parser::sniff_method(std::span<const char> bytes) noexcept {
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (sniff_ == sniff_state::leading_newlines) {
      if (c == '\r' || c == '\n') {
        continue;  // RFC 9112 §2.2 empty lines
      }
      sniff_ = sniff_state::token;
    }
    if (sniff_ != sniff_state::token) {
      return;
    }
    if (c == ' ') {
      sniff_ = sniff_length_ > 0 ? sniff_state::valid : sniff_state::invalid;
    } else if (!text::is_tchar(c)) {
      sniff_ = sniff_state::invalid;
    } else if (++sniff_length_ > max_method_bytes) {
      sniff_ = sniff_state::valid;  // longer than any method we implement: 501
    }
  }
}

void request_parser::scan_for_obs_fold(std::span<const char> head_bytes) noexcept {
  // RFC 9112 §5.2: a line starting with SP/HTAB inside the head is obs-fold,
  // which a server must reject with 400. llhttp 8 silently accepts it.
  // memchr finds the line ends; only the byte after each one is looked at.
  if (head_bytes.empty()) return;
  const char* p = head_bytes.data();
  const char* const end = p + head_bytes.size();
  const auto starts_fold = [](char c) { return c == ' ' || c == '\t'; };
  if (previous_head_byte_ == '\n' && starts_fold(*p)) obs_fold_ = true;
  while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
    p = static_cast<const char*>(nl) + 1;
    if (p == end) break;
    if (starts_fold(*p)) obs_fold_ = true;
  }
  previous_head_byte_ = end[-1];
}

parse_event request_parser::fail(http_status s, const char* reason) noexcept {
  phase_ = phase::failed;
  error_ = s;
  if (reason != nullptr) {
    reason_ = reason;
  }
  return parse_event::error;
}

parse_result request_parser::parse(std::span<const char> data) {
  if (phase_ == phase::failed) {
    return {0, parse_event::error};
  }
  if (phase_ == phase::method_sniff) {
    sniff_method(data);
    if (sniff_ == sniff_state::token) {
      return {data.size(), parse_event::need_more};
    }
    return {data.size(), sniff_ == sniff_state::valid
                             ? fail(http_status::not_implemented, "unknown method")
                             : fail(http_status::bad_request, "malformed method")};
  }

  std::size_t offset = 0;
  for (;;) {
    std::span<const char> slice = data.subspan(offset);
    const bool in_head = phase_ == phase::head;
    if (in_head) {
      // Never give llhttp more head bytes than the limit allows, so the
      // limit is exact however the input is split.
      const std::size_t room = limits_.max_header_bytes - head_bytes_;
      if (slice.size() > room) {
        slice = slice.first(room);
      }
      sniff_method(slice);
    }
    pause_reason_ = pause_none;
    callback_error_ = 0;
    const char* begin = slice.empty() ? empty_input : slice.data();
    const auto err = llhttp_execute(llhttp_.get(), begin, slice.size());
    std::size_t used = slice.size();
    if (err != HPE_OK) {
      const char* pos = llhttp_get_error_pos(llhttp_.get());
      used = pos == nullptr
                 ? 0
                 : static_cast<std::size_t>(std::clamp(pos, begin, begin + slice.size()) - begin);
    }
    if (in_head) {
      scan_for_obs_fold(slice.first(used));
      head_bytes_ += used;
    }
    offset += used;

    if (err == HPE_PAUSED) {
      llhttp_resume(llhttp_.get());
      if (pause_reason_ == pause_head) {
        return {offset, on_head()};
      }
      phase_ = phase::head;
      head_bytes_ = 0;
      previous_head_byte_ = '\n';
      obs_fold_ = false;
      sniff_ = sniff_state::leading_newlines;
      sniff_length_ = 0;
      in_message_ = false;
      return {offset, parse_event::message_complete};
    }
    if (err == HPE_OK) {
      if (in_head && head_bytes_ >= limits_.max_header_bytes) {
        return {offset,
                fail(http_status::request_header_fields_too_large, "request head too large")};
      }
      if (offset == data.size()) {
        return {offset, parse_event::need_more};
      }
      continue;
    }
    const parse_event ev = map_llhttp_error(err);
    if (phase_ == phase::method_sniff) {
      return {data.size(), ev};
    }
    return {offset, ev};
  }
}

parse_event request_parser::on_head() noexcept {
  phase_ = phase::body;
  llhttp_t* p = llhttp_.get();
  if (obs_fold_) {
    return fail(http_status::bad_request, "obs-fold in header section");
  }
  // RFC 9110 §15.6.6: 505 for a major version we do not support; llhttp
  // accepts 0.9 and 2.0 request lines, neither of which is HTTP/1.x.
  if (p->http_major != 1 || p->http_minor > 1) {
    return fail(http_status::version_not_supported, "unsupported HTTP version");
  }

  request& r = request_;
  r.method = kind_of(p->method);
  r.method_name = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  r.version_major = p->http_major;
  r.version_minor = p->http_minor;
  r.target = target_;
  if (r.host_count > 0) {
    r.host = host_;
  }
  if (r.if_match) {
    r.if_match = if_match_;
  }
  if (r.if_unmodified_since_count > 0) {
    r.if_unmodified_since = if_unmodified_since_;
  }
  if (r.if_none_match) {
    r.if_none_match = if_none_match_;
  }
  if (r.accept_encoding) {
    r.accept_encoding = accept_encoding_;
  }
  if (r.if_modified_since_count > 0) {
    r.if_modified_since = if_modified_since_;
  }
  if (r.range_count > 0) {
    r.range = range_;
  }
  if (r.if_range_count > 0) {
    r.if_range = if_range_;
  }
  if (r.referer) {
    r.referer = referer_;
  }
  if (r.user_agent) {
    r.user_agent = user_agent_;
  }

  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any
  // request with more than one Host or an invalid one.
  if (r.host_count > 1) {
    return fail(http_status::bad_request, "repeated Host");
  }
  if (r.host_count == 0 && r.version_minor == 1) {
    return fail(http_status::bad_request, "missing Host");
  }
  if (r.host && !is_valid_host(*r.host)) {
    return fail(http_status::bad_request, "invalid Host");
  }

  // llhttp checks chunked-is-final only after this pause, and does not look
  // at the codings before it; both are decided here, before any body byte.
  if ((p->flags & F_TRANSFER_ENCODING) != 0) {
    switch (classify_transfer_codings(transfer_encoding_)) {
      case transfer_codings::chunked:
        break;
      case transfer_codings::not_final_chunked:
        return fail(http_status::bad_request, "chunked is not the final transfer coding");
      case transfer_codings::unknown_coding:
        return fail(http_status::not_implemented, "transfer coding not implemented");
    }
  }

  r.keep_alive = llhttp_should_keep_alive(p) != 0;
  r.must_close = p->upgrade != 0 || (r.version_minor == 0 && (p->flags & F_TRANSFER_ENCODING) != 0);
  // RFC 9110 §10.1.1: an HTTP/1.0 request's expectation is ignored, and so
  // is one with no content to wait for.
  const bool content_follows = (p->flags & F_TRANSFER_ENCODING) != 0 ||
                               ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0);
  if (r.version_minor == 1 && content_follows && text::iequals(expect_, "100-continue")) {
    r.expects_continue = true;
    r.must_close = true;
  }
  // Content we would read only to discard it has a limit; content answered
  // before it arrives (expects_continue) is never read.
  if (!r.expects_continue && (p->flags & F_CONTENT_LENGTH) != 0 &&
      p->content_length > limits_.max_body_discard_bytes) {
    return fail(http_status::content_too_large, "request body over the discard limit");
  }
  return parse_event::head_complete;
}

parse_event request_parser::map_llhttp_error(int err) noexcept {
  if (callback_error_ != 0) {
    return fail(static_cast<http_status>(callback_error_), nullptr);
  }
  const char* why = llhttp_get_error_reason(llhttp_.get());
  switch (err) {
    case HPE_INVALID_METHOD:
      if (sniff_ == sniff_state::token) {
        phase_ = phase::method_sniff;  // the rest of the token is still to come
        return parse_event::need_more;
      }
      return sniff_ == sniff_state::valid ? fail(http_status::not_implemented, "unknown method")
                                          : fail(http_status::bad_request, why);
    case HPE_INVALID_VERSION: {
      // "HTTP/" DIGIT "." DIGIT is well-formed (RFC 9112 §2.3): only its
      // value is unsupported. A 1.0 or 1.1 that llhttp still rejects was
      // followed by something other than CRLF (a bare CR, say): malformed.
      const bool well_formed =
          version_length_ == 3 && text::is_digit(static_cast<unsigned char>(version_[0])) &&
          version_[1] == '.' && text::is_digit(static_cast<unsigned char>(version_[2]));
      const bool supported = well_formed && version_[0] == '1' && version_[2] <= '1';
      return well_formed && !supported
                 ? fail(http_status::version_not_supported, "unsupported HTTP version")
                 : fail(http_status::bad_request, why);
    }
    case HPE_PAUSED_H2_UPGRADE:  // the HTTP/2 connection preface
      return fail(http_status::version_not_supported, "HTTP/2 preface");
    default:
      return fail(http_status::bad_request, why);
  }
}

parse_event request_parser::finish() {
  if (phase_ == phase::failed) {
    return parse_event::error;
  }
  if (in_message_ || head_bytes_ > 0 || phase_ == phase::method_sniff) {
    return fail(http_status::bad_request, "connection closed mid-request");
  }
  return parse_event::need_more;
}

}  // namespace overlap::http
