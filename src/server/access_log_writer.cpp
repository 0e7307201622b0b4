#include "access_log_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <system_error>

#include "overlap/server/server_config.hpp"

namespace overlap::server {
namespace {

// CLF fields are quoted: keep a field from breaking out of its quotes or the
// line (log injection) by escaping quotes, backslashes and control bytes.
void append_escaped(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += '-';
    return;
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

access_log_writer::access_log_writer(proactor& p, std::string target)
    : proactor_(p), target_(std::move(target)), file_(p) {
  pending_.reserve(access_log_flush_bytes * 2);
  writing_buf_.reserve(access_log_flush_bytes * 2);
  open_target();
}

void access_log_writer::open_target() {
  if (target_ == "-") {
    const int fd = ::dup(STDOUT_FILENO);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "dup(stdout)");
    file_.adopt(fd);
    return;
  }
  if (auto ec = file_.open(target_, O_WRONLY | O_CREAT | O_APPEND, 0644)) {
    throw std::system_error(ec, "cannot open access log " + target_);
  }
}

void access_log_writer::append(std::string_view client, const http::access_log_record& r,
                               std::time_t now) {
  if (pending_.size() > access_log_max_buffer_bytes) {
    ++dropped_;  // the log cannot keep up; never block or grow without bound
    return;
  }
  if (now != stamp_second_) {
    stamp_second_ = now;
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    stamp_len_ = std::strftime(stamp_, sizeof(stamp_), "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
  }
  std::string& out = pending_;
  out.append(client);
  out += " - - ";
  out.append(stamp_, stamp_len_);
  out += " \"";
  append_escaped(out, r.method);
  out += ' ';
  append_escaped(out, r.target);
  out += ' ';
  append_escaped(out, r.protocol);
  out += "\" ";
  append_number(out, r.status);
  out += ' ';
  if (r.body_bytes == 0) {
    out += '-';
  } else {
    append_number(out, r.body_bytes);
  }
  out += " \"";
  append_escaped(out, r.referer);
  out += "\" \"";
  append_escaped(out, r.user_agent);
  out += "\"\n";
  if (pending_.size() >= access_log_flush_bytes) flush();
}

void access_log_writer::flush() {
  if (writing_) return;
  if (reopen_requested_) {
    reopen_requested_ = false;
    try {
      open_target();
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "overlap serve: %s (keeping the old file)\n", e.what());
    }
  }
  if (pending_.empty()) return;
  writing_buf_.swap(pending_);
  pending_.clear();
  writing_ = true;
  file_.async_write(writing_buf_, [this](std::error_code ec, std::size_t) { on_written(ec); });
}

void access_log_writer::on_written(std::error_code ec) {
  writing_ = false;
  writing_buf_.clear();
  if (ec && ec != std::errc::operation_canceled) {
    std::fprintf(stderr, "overlap serve: access log write failed: %s\n", ec.message().c_str());
  }
  if (pending_.size() >= access_log_flush_bytes || reopen_requested_) flush();
}

}  // namespace overlap::server
