// Incremental HTTP/1.1 request parser: llhttp (strict, no lenient flags) plus
// the checks llhttp leaves to its user — request-head size, target size,
// Host, HTTP version, obs-fold, field-name whitespace, body limit — each
// mapped to the status RFC 9110/9112 asks for.
//
// Choices where the RFCs allow more than one answer:
//  - Content-Length repeated, even with identical values: 400 (RFC 9110
//    §8.6 allows accepting identical repeats; llhttp rejects, and so do we).
//  - A body on GET/HEAD is read and discarded up to max_body_discard_bytes;
//    above it: 413 and close (whether announced by Content-Length or found
//    while reading a chunked body).
//  - Unknown method: 501 when it is a token followed by SP, else 400.
//  - Upgrade/CONNECT: never switched; the connection closes after responding.
#pragma once

#include <overlap/http/limits.hpp>
#include <overlap/http/request.hpp>
#include <overlap/http/status.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct llhttp__internal_s;  // llhttp_t; llhttp.h stays out of our public headers

namespace overlap::http {

enum class parse_event {
  need_more,         // every byte consumed, the message is incomplete
  head_complete,     // request() holds the head; body (if any) follows
  message_complete,  // request() holds the whole request (body discarded)
  error,             // error_status() says which; the parser stays stopped
};

struct parse_result {
  std::size_t consumed = 0;
  parse_event event = parse_event::need_more;
};

class request_parser {
 public:
  explicit request_parser(const parser_limits& limits = {});
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  // Parses from the start of `data` and stops at the first event. Call again
  // with the unconsumed rest (possibly empty: after head_complete an empty
  // call is what completes a body-less request). Never reads past `data`.
  parse_result parse(std::span<const char> data);

  // The peer closed its side. Returns error with 400 if a request was cut
  // short, need_more when the close fell between requests.
  parse_event finish();

  // Valid after head_complete/message_complete until the next parse().
  const request& current() const noexcept { return request_; }

  // After an error event: 400, 413, 414, 431, 501 or 505.
  http_status error_status() const noexcept { return error_; }
  // Short, static explanation for logs and tests.
  std::string_view error_reason() const noexcept { return reason_; }

  bool in_message() const noexcept { return in_message_; }

 private:
  struct callbacks;
  friend struct callbacks;

  enum class phase { head, body, method_sniff, failed };
  enum class sniff_state { leading_newlines, token, valid, invalid };

  void begin_message() noexcept;
  void sniff_method(std::span<const char> bytes) noexcept;
  void scan_for_obs_fold(std::span<const char> head_bytes) noexcept;
  parse_event fail(http_status s, const char* reason) noexcept;
  parse_event on_head() noexcept;
  parse_event map_llhttp_error(int err) noexcept;
  void finish_field_value() noexcept;

  parser_limits limits_;
  std::unique_ptr<llhttp__internal_s> llhttp_;
  phase phase_ = phase::head;
  http_status error_ = http_status::bad_request;
  const char* reason_ = "";
  bool in_message_ = false;
  int pause_reason_ = 0;    // which callback paused llhttp
  int callback_error_ = 0;  // status set by a callback that failed

  std::size_t head_bytes_ = 0;  // request-line + fields so far (431 limit)
  char previous_head_byte_ = '\n';
  bool obs_fold_ = false;

  sniff_state sniff_ = sniff_state::leading_newlines;
  std::size_t sniff_length_ = 0;

  std::array<char, 8> version_{};
  std::size_t version_length_ = 0;

  // Field name being received (only a prefix is kept: enough to recognise
  // the fields we use) and where its value goes.
  std::array<char, 24> field_{};
  std::size_t field_length_ = 0;
  char field_last_ = 0;
  std::string* value_sink_ = nullptr;
  std::size_t value_start_ = 0;

  std::string target_;
  std::string host_, if_match_, if_unmodified_since_, if_none_match_, if_modified_since_, range_,
      if_range_, accept_encoding_, referer_, user_agent_, transfer_encoding_, expect_;
  request request_;
};

}  // namespace overlap::http
