#include "trace_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "overlap/error.hpp"

namespace overlap::server {
namespace {

// How a completion ended, as a JSON string's contents (no quotes or
// backslashes can occur: fixed words, or strerror text with them removed).
std::string result_text(const std::error_code& ec) {
  if (!ec) return "ok";
  if (ec == errc::eof) return "eof";
  if (ec == errc::operation_aborted) return "aborted";
  if (ec == errc::timed_out) return "timed_out";
  std::string m = ec.message();
  std::erase_if(
      m, [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
  return m;
}

}  // namespace

std::error_code begin_trace_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {errno, std::system_category()};
  // The JSON array format: the closing bracket is optional, so the file is
  // readable whenever and however the server stops.
  const bool ok = ::write(fd, "[\n", 2) == 2;
  const int err = errno;
  ::close(fd);
  return ok ? std::error_code{} : std::error_code{err, std::system_category()};
}

trace_writer::trace_writer(proactor& p, const std::string& path, unsigned shard,
                           std::chrono::steady_clock::time_point origin)
    : proactor_(p),
      out_(p, path, "trace", trace_flush_bytes, trace_max_buffer_bytes),
      shard_(shard),
      origin_(origin),
      pid_(static_cast<long>(::getpid())) {
  proactor_.set_trace_sink(this);
}

trace_writer::~trace_writer() {
  stop();
}

void trace_writer::stop() noexcept {
  if (!recording_) return;
  recording_ = false;
  proactor_.set_trace_sink(nullptr);
}

void trace_writer::on_op_event(const op_trace_event& e) noexcept {
  if (e.fd >= 0 && e.fd == out_.fd()) return;  // its own writes
  if (!out_.has_room()) {
    ++dropped_;
    return;
  }
  const char phase = e.what == op_trace_event::phase::initiate ? 'b' : (e.more ? 'n' : 'e');
  const double ts = std::chrono::duration<double, std::micro>(e.at - origin_).count();
  char buf[384];
  int n;
  if (e.what == op_trace_event::phase::initiate) {
    n = std::snprintf(buf, sizeof(buf),
                      "{\"name\":\"%s\",\"cat\":\"op\",\"ph\":\"b\",\"id\":\"%p\",\"pid\":%ld,"
                      "\"tid\":%u,\"ts\":%.3f,\"args\":{\"fd\":%d}},\n",
                      to_string(e.kind), e.id, pid_, shard_, ts, e.fd);
  } else {
    n = std::snprintf(buf, sizeof(buf),
                      "{\"name\":\"%s\",\"cat\":\"op\",\"ph\":\"%c\",\"id\":\"%p\",\"pid\":%ld,"
                      "\"tid\":%u,\"ts\":%.3f,\"args\":{\"result\":\"%s\",\"bytes\":%zu}},\n",
                      to_string(e.kind), phase, e.id, pid_, shard_, ts, result_text(e.ec).c_str(),
                      e.bytes);
  }
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) return;
  out_.buffer().append(buf, static_cast<std::size_t>(n));
  if (out_.wants_flush() && !flush_posted_) {
    // A sink must not start operations: the write starts from the loop.
    flush_posted_ = true;
    try {
      proactor_.post([this] {
        flush_posted_ = false;
        out_.flush();
      });
    } catch (...) {
      flush_posted_ = false;  // out of memory: the next tick writes it
    }
  }
}

}  // namespace overlap::server
