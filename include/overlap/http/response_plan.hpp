// What to send for one request: header bytes plus a body that is nothing,
// bytes in memory, or a range of an open file.
#pragma once

#include <overlap/http/open_file_cache.hpp>
#include <overlap/http/status.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace overlap::http {

enum class body_kind : std::uint8_t { none, memory, file };

// A file body to send with splice/sendfile: `length` bytes from `offset`.
// `fd` stays open while the owning response_plan holds its pin.
struct file_range {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct response_plan {
  http_status status = http_status::ok;
  std::string head;  // status line, fields, blank line; capacity reused across requests
  // When set, the head (and a memory body) are views into this shared
  // rendering instead (see rendered_response), and `head` is unused.
  std::shared_ptr<const rendered_response> rendered;
  body_kind body = body_kind::none;
  // Memory body: points into `pin` (cached small file), `generated`, or a
  // static error page; valid as long as this plan is queued.
  std::string_view memory;
  file_range file;
  file_pin pin;              // keeps the cache entry (fd, bytes) alive while queued
  std::string generated;     // body built for this response (autoindex); capacity reused
  bool close_after = false;  // close the connection once this response is sent

  std::uint64_t body_length() const noexcept {
    switch (body) {
      case body_kind::memory:
        return memory.size();
      case body_kind::file:
        return file.length;
      case body_kind::none:
        break;
    }
    return 0;
  }
  std::string_view head_bytes() const noexcept {
    return rendered ? rendered->head() : std::string_view(head);
  }
  std::uint64_t total_bytes() const noexcept { return head_bytes().size() + body_length(); }
};

}  // namespace overlap::http
