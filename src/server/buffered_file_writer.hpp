// A per-thread text log written without blocking the event loop: callers
// append to a buffer, and a write of the whole buffer is started as an
// asynchronous file operation while the next one fills. Past a bound the
// caller drops what it would have added (and counts it) rather than grow or
// wait. Used by the access log and the operation trace.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "overlap/file.hpp"
#include "overlap/proactor.hpp"

namespace overlap::server {

class buffered_file_writer {
 public:
  // target: a path (opened O_APPEND | O_CREAT), or "-" for standard output.
  // `what` names it in messages ("access log"). Throws std::system_error if
  // the target cannot be opened.
  buffered_file_writer(proactor& p, std::string target, const char* what, std::size_t flush_bytes,
                       std::size_t max_bytes);
  buffered_file_writer(const buffered_file_writer&) = delete;
  buffered_file_writer& operator=(const buffered_file_writer&) = delete;
  ~buffered_file_writer();

  // Where to append; check has_room() first.
  std::string& buffer() noexcept { return pending_; }
  bool has_room() const noexcept { return pending_.size() <= max_bytes_; }
  bool wants_flush() const noexcept { return pending_.size() >= flush_bytes_; }
  // Starts a write of what is buffered, if none is in flight. Starts an
  // operation: not from inside a trace sink.
  void flush();
  // Reopens the target (SIGHUP, for log rotation) once in-flight writes are done.
  void request_reopen() { reopen_requested_ = true; }
  bool idle() const noexcept { return !writing_ && pending_.empty(); }
  int fd() const noexcept { return file_.native_handle(); }

 private:
  void open_target();
  void on_written(std::error_code ec);

  std::string target_;
  const char* what_;
  std::size_t flush_bytes_;
  std::size_t max_bytes_;
  file file_;
  // The bytes a write is in flight from, shared with that write's
  // completion: a writer destroyed while the kernel (or a pool thread) still
  // copies from them, as on a forced stop, leaves them to the operation,
  // which the proactor destroys only once the kernel is done with it.
  struct flight {
    std::string bytes;
    buffered_file_writer* owner;  // null once the writer is gone
  };

  std::string pending_;  // not yet handed to a write
  std::shared_ptr<flight> flight_;
  bool writing_ = false;
  bool reopen_requested_ = false;
};

}  // namespace overlap::server
