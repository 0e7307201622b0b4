#include "buffered_file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <system_error>

namespace overlap::server {

buffered_file_writer::buffered_file_writer(proactor& p, std::string target, const char* what,
                                           std::size_t flush_bytes, std::size_t max_bytes)
    : target_(std::move(target)),
      what_(what),
      flush_bytes_(flush_bytes),
      max_bytes_(max_bytes),
      file_(p),
      flight_(std::make_shared<flight>(flight{std::string(), this})) {
  pending_.reserve(flush_bytes * 2);
  flight_->bytes.reserve(flush_bytes * 2);
  open_target();
}

buffered_file_writer::~buffered_file_writer() {
  flight_->owner = nullptr;
}

void buffered_file_writer::open_target() {
  if (target_ == "-") {
    const int fd = ::dup(STDOUT_FILENO);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "dup(stdout)");
    file_.adopt(fd);
    return;
  }
  if (auto ec = file_.open(target_, O_WRONLY | O_CREAT | O_APPEND, 0644)) {
    throw std::system_error(ec, std::string("cannot open ") + what_ + " " + target_);
  }
}

void buffered_file_writer::flush() {
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
  flight_->bytes.swap(pending_);
  pending_.clear();
  writing_ = true;
  file_.async_write(flight_->bytes, [f = flight_](std::error_code ec, std::size_t) {
    if (f->owner != nullptr) f->owner->on_written(ec);
  });
}

void buffered_file_writer::on_written(std::error_code ec) {
  writing_ = false;
  flight_->bytes.clear();
  if (ec && ec != std::errc::operation_canceled) {
    std::fprintf(stderr, "overlap serve: %s write failed: %s\n", what_, ec.message().c_str());
  }
  if (wants_flush() || reopen_requested_) flush();
}

}  // namespace overlap::server
