// Access log (access_log_format.hpp has the formats), one writer per thread: lines are
// formatted into a buffer and written by an asynchronous file operation, so
// the event loop never waits for the disk or a slow terminal.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "buffered_file_writer.hpp"
#include "overlap/http/access_log.hpp"
#include "overlap/proactor.hpp"
#include "overlap/server/server_config.hpp"

namespace overlap::server {

class access_log_writer {
 public:
  // target: a path, or "-" for standard output. Throws std::system_error if
  // the file cannot be opened at start-up.
  access_log_writer(proactor& p, std::string target,
                    access_log_format format = access_log_format::combined);

  void append(std::string_view client, const http::access_log_record& r, std::time_t now);
  // Starts a write of what is buffered, if none is in flight.
  void flush() { out_.flush(); }
  // Reopens the file (SIGHUP, for log rotation) once in-flight writes are done.
  void request_reopen() { out_.request_reopen(); }
  bool idle() const noexcept { return out_.idle(); }
  std::uint64_t dropped_lines() const noexcept { return dropped_; }

 private:
  buffered_file_writer out_;
  access_log_format format_;
  std::uint64_t dropped_ = 0;
  std::time_t stamp_second_ = -1;
  char stamp_[40] = {};  // "[10/Oct/2000:13:55:36 +0000]" or "2000-10-10T13:55:36Z"
  std::size_t stamp_len_ = 0;
};

}  // namespace overlap::server
