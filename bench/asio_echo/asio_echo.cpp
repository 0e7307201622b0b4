// Reference TCP echo server for bench/echo.sh, written the way an Asio user
// would write a fast one: one thread, one io_context, one session object per
// connection kept alive by the handlers that hold it.
//
// Two builds from this one file (see bench/echo.sh):
//   default                                            -> epoll reactor
//   -DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_DISABLE_EPOLL -luring
//                                                      -> io_uring for sockets
// Asio only routes socket I/O through io_uring when epoll is disabled
// (BOOST_ASIO_HAS_IO_URING_AS_DEFAULT); with epoll left on, io_uring would
// serve files only.
//
// Usage: asio_echo [--bind ADDR] [--port N]
// Prints "listening on ADDR:PORT" once bound; on SIGINT/SIGTERM closes the
// listener and all connections, drains the aborted handlers and exits 0.

#include <boost/asio.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t session_buffer_bytes = 16 * 1024;

class echo_session;

// The live sessions, so that shutdown can close them (as the connection
// manager in Asio's HTTP server example does). Touched once per connection,
// never per message.
using session_registry = std::unordered_set<echo_session*>;

class echo_session : public std::enable_shared_from_this<echo_session> {
 public:
  echo_session(tcp::socket socket, session_registry& registry)
      : socket_(std::move(socket)), registry_(registry) {
    registry_.insert(this);
  }

  ~echo_session() { registry_.erase(this); }

  echo_session(const echo_session&) = delete;
  echo_session& operator=(const echo_session&) = delete;

  void start() { read(); }

  // Aborts the pending operation; its handler then drops the last owner.
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read() {
    // Handler memory comes from Asio's per-thread recycling allocator, so
    // after warm-up neither read nor write allocates.
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (!ec) {
            self->write(n);
          }
          // eof, reset or abort: dropping `self` closes the socket.
        });
  }

  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec) {
                          self->read();
                        }
                      });
  }

  tcp::socket socket_;
  session_registry& registry_;
  std::array<char, session_buffer_bytes> buffer_;
};

class echo_server {
 public:
  echo_server(asio::io_context& ctx, const tcp::endpoint& where) : acceptor_(ctx) {
    acceptor_.open(where.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(where);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  void start() { accept(); }

  // Closes the listener and every session. Once their aborted handlers have
  // run, the io_context is out of work and run() returns. (Stopping the
  // context with operations still queued instead trips a use-after-free in
  // Asio 1.81's io_uring backend when the context is destroyed.)
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (echo_session* session : sessions_) {
      session->close();
    }
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        return;
      }
      if (!ec) {
        boost::system::error_code opt_ec;
        socket.set_option(tcp::no_delay(true), opt_ec);
        std::make_shared<echo_session>(std::move(socket), sessions_)->start();
      } else {
        std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
  session_registry sessions_;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--bind ADDR] [--port N]\n", argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bind_address = "127.0.0.1";
  unsigned long port = 0;

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--bind" && i + 1 < argc) {
      bind_address = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      char* end = nullptr;
      port = std::strtoul(argv[++i], &end, 10);
      if (*end != '\0' || port > 65535) {
        usage(argv[0]);
      }
    } else {
      usage(argv[0]);
    }
  }

  try {
    // Hint 1: only one thread runs this context, so the scheduler keeps
    // completions on a thread-private queue. Its locks stay; dropping them
    // (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE) is not how Asio servers are
    // normally built.
    asio::io_context ctx{1};

    const tcp::endpoint where{asio::ip::make_address(bind_address),
                              static_cast<unsigned short>(port)};
    echo_server server{ctx, where};
    server.start();

    asio::signal_set signals{ctx, SIGINT, SIGTERM};
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) {
        return;
      }
      // Back to the default action, so a second signal ends the process
      // even if draining were to hang.
      signals.clear(ec);
      server.stop();
    });

    const tcp::endpoint bound = server.local_endpoint();
    const std::string host = bound.address().to_string();
    if (bound.address().is_v6()) {
      std::printf("listening on [%s]:%u\n", host.c_str(), unsigned{bound.port()});
    } else {
      std::printf("listening on %s:%u\n", host.c_str(), unsigned{bound.port()});
    }
    std::fflush(stdout);

    ctx.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
