// One HTTP connection on the proactor: the sans-I/O http::connection decides
// what to send; the session moves bytes between it and the socket. Received
// bytes are parsed straight from the shared receive ring (no copy), responses
// leave as one sendmsg per batch of ready responses (head + small bodies) or
// by sendfile for large bodies.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <list>
#include <string>

#include "client_limits.hpp"
#include "file_loader.hpp"
#include "overlap/cancel_signal.hpp"
#include "overlap/handler.hpp"
#include "overlap/http/connection.hpp"
#include "overlap/tcp_stream.hpp"

namespace overlap::server {

class server_shard;

class http_session final : public stream_handler,
                           public http::access_log_sink,
                           public file_loader::waiter {
 public:
  using clock = std::chrono::steady_clock;

  // `peer`: the client's address when the caller has already read it
  // (else it is read here if the access log needs it); `slot`: its count
  // in --max-connections-per-client, given back when the session goes.
  http_session(server_shard& shard, tcp_stream stream, client_slot slot = {},
               const endpoint* peer = nullptr);
  void start(std::list<http_session>::iterator self);

  // Housekeeping: drops the connection when its current deadline passed.
  void check_deadline(clock::time_point now);
  // Graceful shutdown: finish what is in flight, accept no new request.
  void drain();
  // Closes at once (grace period over, or shard stopping).
  void abort();

  void on_read_complete(std::error_code ec, std::size_t n) override;
  void on_write_complete(std::error_code ec, std::size_t n) override;
  void on_response(const http::access_log_record& record) override;
  void on_file_loaded() override;

 private:
  enum class phase { idle, request, lingering };
  void pump();
  void start_send();
  void begin_close();
  void destroy();
  void set_deadline(clock::time_point now);

  server_shard& shard_;
  tcp_stream stream_;
  http::connection conn_;
  std::list<http_session>::iterator self_;
  iovec iov_[http::max_gather_iovecs];
  std::string client_;  // peer address for the access log
  client_slot slot_;
  cancel_signal read_cancel_;  // withdraws the receive when draining
  clock::time_point deadline_{};
  clock::time_point request_started_{};
  phase phase_ = phase::idle;
  bool reading_ = false;
  bool writing_ = false;
  bool draining_ = false;
  bool first_request_ = true;
  bool peer_eof_ = false;
  bool dead_ = false;
};

}  // namespace overlap::server
