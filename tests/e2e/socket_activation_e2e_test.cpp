// systemd socket activation: with $LISTEN_PID naming the server and
// $LISTEN_FDS=1, `overlap serve` takes descriptor 3 as its listener instead
// of binding --bind/--port (sd_listen_fds(3)).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_process.hpp"

namespace overlap::e2e {
namespace {

TEST(e2e_socket_activation, serves_on_the_socket_it_is_given) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "from systemd");
  passed_socket s = listening_socket();
  server_process server(docroot.path(), {.launcher = as_systemd(s.fd.get()), .extra = {}});
  s.fd.reset();  // the server holds it now
  EXPECT_EQ(server.port(), s.port) << "it bound a socket of its own";
  for (int i = 0; i < 4; ++i) {  // both threads share the one socket
    http_client client(s.port);
    EXPECT_EQ(client.request(make_request("GET", "/a.txt")).body, "from systemd");
  }
  EXPECT_TRUE(server.process().wait_for_stderr("listening socket from systemd", startup_timeout));
}

// Accepted sockets inherit TCP_NODELAY from the listener, as from the
// server's own: a head sent before a file body must not wait for an ACK.
TEST(e2e_socket_activation, the_socket_gets_tcp_nodelay) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "a");
  passed_socket s = listening_socket();
  const int fd = s.fd.get();
  server_process server(docroot.path(), {.launcher = as_systemd(fd), .extra = {}});
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);  // one socket, two fds
  EXPECT_EQ(nodelay, 1);
}

TEST(e2e_socket_activation, a_socket_meant_for_another_process_is_not_taken) {
  temp_dir docroot;
  write_file(docroot / "a.txt", "a");
  passed_socket s = listening_socket();
  server_process server(docroot.path(),
                        {.launcher = as_systemd(s.fd.get(), "1", "1"), .extra = {}});
  EXPECT_NE(server.port(), s.port);
  http_client client(server.port());
  EXPECT_EQ(client.request(make_request("GET", "/a.txt")).body, "a");
}

TEST(e2e_socket_activation, more_than_one_socket_or_one_not_listening_is_refused) {
  temp_dir docroot;
  passed_socket s = listening_socket();
  socket_fd idle(::socket(AF_INET, SOCK_STREAM, 0));  // never listens
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {as_systemd(s.fd.get(), "2"), "LISTEN_FDS=2"},
      {as_systemd(idle.get()), "not a listening stream socket"}};
  for (const auto& [launcher, message] : cases) {
    std::vector<std::string> argv = launcher;
    argv.insert(argv.end(), {overlap_binary, "serve", docroot.path().string(), "--port", "0",
                             "--access-log", "off"});
    child_process child(argv);
    const exit_result exit = child.wait(exit_timeout);
    child.wait_for_stderr_close(exit_timeout);
    EXPECT_TRUE(exit.exited && !exit.clean_exit(0)) << message << ": " << exit.describe();
    EXPECT_NE(child.stderr_text().find(message), std::string::npos) << child.stderr_text();
    EXPECT_EQ(child.stderr_text().find("listening on"), std::string::npos) << child.stderr_text();
  }
}

}  // namespace
}  // namespace overlap::e2e
