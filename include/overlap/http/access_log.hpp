// Per-response data for an access log in Combined Log Format; the sink adds
// what only the server knows (client address, time).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace overlap::http {

struct access_log_record {
  std::string_view method;    // "-" when the request line could not be parsed
  std::string_view target;    // raw request-target, "-" when unknown
  std::string_view protocol;  // "HTTP/1.1"
  unsigned status = 0;
  std::uint64_t body_bytes = 0;  // body bytes sent (CLF %b)
  std::string_view referer;      // empty when absent
  std::string_view user_agent;   // empty when absent
  // From the request's head being complete (or, for a request too malformed
  // to have one, from its answer being decided) to the response's last byte
  // being handed to the kernel, on the owner's clock (http_date_clock).
  std::chrono::microseconds duration{0};
};

// Called once per response, when its last byte has been reported sent. The
// views are valid only during the call. With no sink installed nothing is
// recorded or copied.
class access_log_sink {
 public:
  virtual void on_response(const access_log_record& record) = 0;

 protected:
  ~access_log_sink() = default;
};

}  // namespace overlap::http
