// Unix-domain stream sockets: the same acceptor, stream and operations as
// TCP (accept single and multishot, connect, read, write, end of stream),
// for a filesystem path and for a name in the abstract namespace.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "backend/loopback.hpp"
#include "backend/round_trip.hpp"
#include "overlap/error.hpp"
#include "overlap/proactor.hpp"
#include "overlap/task.hpp"
#include "overlap/tcp_acceptor.hpp"
#include "overlap/tcp_stream.hpp"

namespace {

// A name no other test process uses at the same time.
std::string abstract_name() {
  static std::atomic<int> counter{0};
  return "unix:@overlap-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// A directory for socket files, removed afterwards.
class socket_dir {
 public:
  socket_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "overlap-unix-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::system_error(errno, std::system_category());
    path_ = pattern;
  }
  ~socket_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string socket(const char* name) const { return "unix:" + (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

overlap::task<void> echo_until_eof(overlap::tcp_stream peer, std::size_t& echoed,
                                   std::error_code& end) {
  char buf[4096];
  for (;;) {
    auto [rec, n] = co_await peer.async_read_some(buf, overlap::use_awaitable);
    if (rec) {
      end = rec;
      co_return;
    }
    auto [wec, w] =
        co_await peer.async_write(std::span<const char>(buf, n), overlap::use_awaitable);
    if (wec) {
      end = wec;
      co_return;
    }
    echoed += w;
  }
}

TEST(local_socket, echo_over_an_abstract_name) {
  overlap::proactor p;
  const auto ep = overlap::endpoint::parse(abstract_name(), 0);
  ASSERT_TRUE(ep);
  overlap::tcp_acceptor acc(p, *ep);
  EXPECT_EQ(acc.local_endpoint().to_string(), ep->to_string());
  std::size_t echoed = 0;
  std::error_code server_end;
  std::string peer_name;
  acc.async_accept([&](std::error_code ec, overlap::tcp_stream peer) {
    ASSERT_FALSE(ec) << ec.message();
    peer_name = peer.remote_endpoint().to_string();
    overlap::spawn(p, echo_until_eof(std::move(peer), echoed, server_end));
  });
  const std::string msg = overlap_test::pattern(100'000, 11);
  std::string reply;
  std::error_code err;
  overlap::spawn(p, overlap_test::ask(p, *ep, msg, reply, err));
  p.run();
  EXPECT_FALSE(err) << err.message();
  EXPECT_EQ(reply, msg);
  EXPECT_EQ(echoed, msg.size());
  EXPECT_EQ(server_end, overlap::errc::eof) << server_end.message();
  EXPECT_EQ(peer_name, "unix:") << "a connecting client is unnamed";
}

TEST(local_socket, multishot_accept_on_a_socket_file) {
  socket_dir dir;
  overlap::proactor p;
  const auto ep = overlap::endpoint::parse(dir.socket("echo.sock"), 0);
  ASSERT_TRUE(ep);
  overlap::tcp_acceptor acc(p, *ep);
  struct stat st {};
  ASSERT_EQ(::stat(ep->local_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));

  constexpr int clients = 5;
  std::vector<std::size_t> echoed(clients, 0);
  std::vector<std::error_code> ends(clients);
  int accepted = 0;
  acc.async_accept_multishot([&](std::error_code ec, overlap::tcp_stream peer) {
    if (ec) {  // the cancel() below ends it
      EXPECT_EQ(ec, overlap::errc::operation_aborted) << ec.message();
      return;
    }
    const int i = accepted++;
    overlap::spawn(p, echo_until_eof(std::move(peer), echoed[i], ends[i]));
    if (accepted == clients) acc.cancel();
  });
  std::vector<std::string> msgs, replies(clients);
  std::vector<std::error_code> errs(clients);
  for (int i = 0; i < clients; ++i) msgs.push_back(overlap_test::pattern(3000 + i, 20 + i));
  for (int i = 0; i < clients; ++i)
    overlap::spawn(p, overlap_test::ask(p, *ep, msgs[i], replies[i], errs[i]));
  p.run();
  EXPECT_EQ(accepted, clients);
  for (int i = 0; i < clients; ++i) {
    EXPECT_FALSE(errs[i]) << i << ": " << errs[i].message();
    EXPECT_EQ(replies[i], msgs[i]) << i;
    EXPECT_EQ(ends[i], overlap::errc::eof) << i;
  }
}

TEST(local_socket, an_8_mib_write_arrives_whole) {
  overlap::proactor p;
  const auto ep = overlap::endpoint::parse(abstract_name(), 0);
  overlap::tcp_acceptor acc(p, *ep);
  const std::string big = overlap_test::pattern(8 << 20, 5);
  overlap::tcp_stream server(p);
  std::error_code write_ec;
  std::size_t written = 0;
  acc.async_accept([&](std::error_code ec, overlap::tcp_stream peer) {
    ASSERT_FALSE(ec);
    server = std::move(peer);
    server.async_write(big, [&](std::error_code wec, std::size_t n) {
      write_ec = wec;
      written = n;
      server.close();
    });
  });
  overlap_test::unique_fd client = overlap_test::blocking_connect(*ep);
  std::string got;
  std::thread reader([&] { got = overlap_test::read_to_eof_blocking(client.get()); });
  p.run();
  reader.join();
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_EQ(written, big.size());
  EXPECT_TRUE(got == big) << "got " << got.size() << " bytes";
}

TEST(local_socket, connect_errors_are_reported) {
  socket_dir dir;
  overlap::proactor p;
  // No file at all.
  const auto missing = overlap::endpoint::parse(dir.socket("missing.sock"), 0);
  // A socket file whose listener is gone.
  const auto stale = overlap::endpoint::parse(dir.socket("stale.sock"), 0);
  {
    overlap_test::unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(s.get(), stale->data(), stale->size()), 0);
  }
  std::error_code missing_ec, stale_ec;
  overlap::tcp_stream a(p), b(p);
  a.async_connect(*missing, [&](std::error_code ec) { missing_ec = ec; });
  b.async_connect(*stale, [&](std::error_code ec) { stale_ec = ec; });
  p.run();
  EXPECT_EQ(missing_ec, std::errc::no_such_file_or_directory) << missing_ec.message();
  EXPECT_EQ(stale_ec, std::errc::connection_refused) << stale_ec.message();
}

TEST(local_socket, binding_a_path_in_use_throws) {
  socket_dir dir;
  overlap::proactor p;
  const auto ep = overlap::endpoint::parse(dir.socket("busy.sock"), 0);
  overlap::tcp_acceptor first(p, *ep);
  EXPECT_THROW(overlap::tcp_acceptor(p, *ep), std::system_error);
}

}  // namespace
