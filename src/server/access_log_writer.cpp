#include "access_log_writer.hpp"

#include "access_log_format.hpp"

namespace overlap::server {

access_log_writer::access_log_writer(proactor& p, std::string target, access_log_format format)
    : out_(p, std::move(target), "access log", access_log_flush_bytes, access_log_max_buffer_bytes),
      format_(format) {}

void access_log_writer::append(std::string_view client, const http::access_log_record& r,
                               std::time_t now) {
  if (!out_.has_room()) {
    ++dropped_;  // the log cannot keep up; never block or grow without bound
    return;
  }
  const bool json = format_ == access_log_format::json;
  if (now != stamp_second_) {
    stamp_second_ = now;
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    stamp_len_ = std::strftime(stamp_, sizeof(stamp_),
                               json ? "%Y-%m-%dT%H:%M:%SZ" : "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
  }
  const std::string_view stamp(stamp_, stamp_len_);
  if (json) {
    append_json_line(out_.buffer(), client, r, stamp);
  } else {
    append_combined_line(out_.buffer(), client, r, stamp);
  }
  if (out_.wants_flush()) out_.flush();
}

}  // namespace overlap::server
