#include "http_session.hpp"

#include <sys/socket.h>

#include "overlap/error.hpp"
#include "server_shard.hpp"

namespace overlap::server {

http_session::http_session(server_shard& shard, tcp_stream stream, client_slot slot,
                           const endpoint* peer)
    : shard_(shard),
      stream_(std::move(stream)),
      conn_(shard.context(shard.access_log() != nullptr ? this : nullptr)),
      slot_(std::move(slot)) {
  if (shard.access_log() != nullptr) {
    const endpoint address = peer != nullptr ? *peer : stream_.remote_endpoint();
    if (address.is_local()) {
      client_ = "unix:";  // a Unix-domain client has no address of its own
    } else {
      client_ = address.to_string();
      // CLF %h is the address alone: drop ":port" (and the brackets of IPv6).
      if (const auto colon = client_.rfind(':'); colon != std::string::npos) client_.resize(colon);
      if (client_.size() > 2 && client_.front() == '[')
        client_ = client_.substr(1, client_.size() - 2);
    }
  }
}

void http_session::start(std::list<http_session>::iterator self) {
  self_ = self;
  pump();
}

void http_session::set_deadline(clock::time_point now) {
  const auto& c = shard_.config();
  if (phase_ == phase::lingering) return;  // fixed when lingering began
  if (writing_) {
    deadline_ = now + c.send_timeout_ms;
  } else if (phase_ == phase::request) {
    deadline_ = request_started_ + c.header_timeout_ms;
  } else {
    deadline_ = now + (first_request_ ? c.header_timeout_ms : c.keepalive_timeout_ms);
  }
}

void http_session::pump() {
  if (dead_) return;
  shard_.refresh_clock();
  const auto now = shard_.loop_now();

  if (phase_ == phase::lingering) {
    // Discard whatever the client still sends until it closes or time is up.
    for (auto d = stream_.received(); !d.empty(); d = stream_.received()) stream_.consume(d.size());
    if (!reading_) {
      reading_ = true;
      stream_.async_receive(*this);
    }
    return;
  }

  bool fed = false;
  while (conn_.wants_input()) {
    const auto data = stream_.received();
    if (data.empty()) break;
    const std::size_t n = conn_.feed(data);
    stream_.consume(n);
    fed = fed || n > 0;
    if (n < data.size()) break;  // queue full, input closed or blocked: keep the rest
  }
  if (conn_.blocked() && !waiting()) {
    // The request's file is not in the cache: load it without blocking the
    // loop; on_file_loaded() answers the request and reading goes on.
    shard_.loader().load(conn_.blocked_path(), *this);
  }
  if (conn_.has_output()) {
    first_request_ = false;  // from now on idle time is keep-alive time
    phase_ = phase::idle;
  } else if (fed && phase_ == phase::idle) {
    phase_ = phase::request;  // part of a request head: the header timeout runs
    request_started_ = now;
  }

  start_send();
  const bool done = conn_.should_close() || (draining_ && !conn_.has_output() && !conn_.blocked());
  if (done && !writing_) {
    begin_close();
    return;
  }
  if (!reading_ && conn_.wants_input() && !draining_ && !done) {
    reading_ = true;
    stream_.async_receive(*this, op_options{.cancel = &read_cancel_});
  }
  set_deadline(now);
}

void http_session::start_send() {
  if (writing_ || !conn_.has_output()) return;
  bool more = false;
  if (const std::size_t k = conn_.gather(iov_, &more); k > 0) {
    writing_ = true;
    // MSG_MORE when a file body or the FIN follows: the head then shares a
    // segment with the body, and a last response leaves with the FIN.
    stream_.async_writev(std::span<const iovec>(iov_, k), *this, op_options{.more = more});
  } else if (const auto body = conn_.next_file_body()) {
    writing_ = true;
    stream_.async_sendfile(body->fd, static_cast<std::int64_t>(body->offset), body->length, *this);
  }
}

void http_session::on_write_complete(std::error_code ec, std::size_t n) {
  writing_ = false;
  if (dead_) {
    if (!reading_) shard_.erase(self_);
    return;
  }
  if (ec) {
    destroy();  // reset by the peer, or the send timed out
    return;
  }
  shard_.refresh_clock();  // a response that ends here is logged with its duration
  conn_.bytes_sent(n);
  pump();
}

void http_session::on_read_complete(std::error_code ec, std::size_t) {
  reading_ = false;
  if (dead_) {
    if (!writing_) shard_.erase(self_);
    return;
  }
  if (phase_ == phase::lingering) {
    if (ec) {
      destroy();
    } else {
      pump();
    }
    return;
  }
  if (ec == errc::eof) {
    peer_eof_ = true;
    conn_.feed_eof();
  } else if (ec == std::errc::operation_canceled && draining_) {
    // The receive was withdrawn for a graceful shutdown.
  } else if (ec) {
    destroy();
    return;
  }
  pump();
}

void http_session::begin_close() {
  // Linger only when input may still be on its way (as nginx's default does):
  // after a malformed request or an answer sent before the request's content,
  // or with unread bytes queued. A client that
  // asked to close, or already closed, is closed at once.
  const bool input_pending = conn_.input_may_follow() || !stream_.received().empty();
  if (peer_eof_ || !input_pending || shard_.config().linger_ms.count() <= 0) {
    destroy();
    return;
  }
  // Lingering close: stop sending, then read and drop what the client still
  // sends, so unread input does not make the kernel reset the connection
  // (and discard the response) before the client has read it.
  (void)stream_.shutdown(SHUT_WR);
  phase_ = phase::lingering;
  deadline_ = shard_.loop_now() + shard_.config().linger_ms;
  pump();
}

void http_session::destroy() {
  dead_ = true;
  stream_.close();  // in-flight operations complete with operation_aborted
  if (!reading_ && !writing_) shard_.erase(self_);
}

void http_session::check_deadline(clock::time_point now) {
  if (!dead_ && now >= deadline_) destroy();
}

void http_session::drain() {
  if (dead_ || draining_) return;
  draining_ = true;
  if (!writing_ && !conn_.has_output() && !conn_.blocked()) {
    destroy();
    return;
  }
  read_cancel_.emit();  // no new requests; responses in flight still finish
}

void http_session::abort() {
  if (!dead_) destroy();
}

void http_session::on_file_loaded() {
  if (dead_) return;
  conn_.resume();
  pump();
}

void http_session::on_response(const http::access_log_record& record) {
  if (auto* log = shard_.access_log()) log->append(client_, record, shard_.now_seconds());
}

}  // namespace overlap::server
