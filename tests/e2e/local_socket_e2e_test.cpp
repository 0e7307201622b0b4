// `overlap serve --bind unix:PATH` (and `overlap echo`, `overlap bench echo`)
// on a Unix-domain socket: behind a reverse proxy, a static server needs no
// TCP port at all.
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "server_process.hpp"

namespace overlap::e2e {
namespace {

// "unix:PATH" or "unix:@NAME" (abstract) as a sockaddr_un and its length.
struct local_address {
  sockaddr_un un{};
  socklen_t len = 0;
  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&un); }
};
local_address local(std::string_view address) {
  constexpr std::string_view scheme = "unix:";
  if (address.substr(0, scheme.size()) != scheme) throw std::runtime_error("not unix:");
  const std::string_view name = address.substr(scheme.size());
  local_address a;
  a.un.sun_family = AF_UNIX;
  if (name.size() >= sizeof(a.un.sun_path)) throw std::runtime_error("too long");
  std::memcpy(a.un.sun_path, name.data(), name.size());
  const bool abstract = name.front() == '@';
  if (abstract) a.un.sun_path[0] = '\0';
  a.len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
  return a;
}

// A blocking connection to a Unix-domain socket, as an http_client.
http_client connect_local(const std::string& address) {
  const local_address to = local(address);
  socket_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  set_timeout(s.get(), SO_RCVTIMEO, receive_timeout);
  set_timeout(s.get(), SO_SNDTIMEO, receive_timeout);
  if (::connect(s.get(), to.data(), to.len) != 0) {
    throw std::system_error(errno, std::system_category(), "connect " + address);
  }
  return http_client(std::move(s));
}

// `overlap serve DIR --bind ADDRESS ...`, waited for until it listens.
class local_server {
 public:
  local_server(const std::filesystem::path& docroot, const std::string& address,
               std::vector<std::string> extra = {})
      : child_(argv(docroot, address, std::move(extra))) {
    if (!child_.wait_for_stderr("listening on " + address, startup_timeout)) {
      throw std::runtime_error("overlap serve did not listen; stderr:\n" + child_.stderr_text());
    }
  }
  child_process& process() noexcept { return child_; }

 private:
  static std::vector<std::string> argv(const std::filesystem::path& docroot,
                                       const std::string& address, std::vector<std::string> extra) {
    std::vector<std::string> a{overlap_binary, "serve", docroot.string(), "--bind", address,
                               "--threads",    "2"};
    if (const std::string model = serve_model(); !model.empty()) {
      a.insert(a.end(), {"--model", model});
    }
    a.insert(a.end(), extra.begin(), extra.end());
    if (std::find(a.begin(), a.end(), "--access-log") == a.end()) {
      a.insert(a.end(), {"--access-log", "off"});
    }
    return a;
  }
  child_process child_;
};

bool socket_file_at(const std::filesystem::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST(e2e_local_socket, serves_files_whole_over_a_socket_file) {
  temp_dir docroot, run;
  const std::string small = random_bytes(1000, 41), large = random_bytes(1 << 20, 42);
  write_file(docroot / "small.bin", small);
  write_file(docroot / "large.bin", large);  // beyond --small-file-bytes: sent from the file
  const std::string address = "unix:" + (run / "http.sock").string();
  local_server server(docroot.path(), address);
  EXPECT_TRUE(socket_file_at(run / "http.sock"));
  // Several connections, so both threads' accepts take some.
  for (int i = 0; i < 4; ++i) {
    http_client client = connect_local(address);
    const auto a = client.request(make_request("GET", "/small.bin"));
    EXPECT_EQ(a.status, 200) << a.head;
    EXPECT_TRUE(same_bytes(a.body, small));
    const auto b = client.request(make_request("GET", "/large.bin"));
    EXPECT_EQ(b.status, 200) << b.head;
    EXPECT_TRUE(same_bytes(b.body, large));
  }
  // A graceful stop removes the socket file.
  ASSERT_TRUE(server.process().signal(SIGTERM));
  const exit_result exit = server.process().wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe();
  EXPECT_FALSE(std::filesystem::exists(run / "http.sock"));
}

TEST(e2e_local_socket, an_abstract_name_needs_no_file) {
  temp_dir docroot;
  write_file(docroot / "index.html", "<p>home</p>");
  const std::string address = "unix:@overlap-e2e-" + std::to_string(::getpid());
  local_server server(docroot.path(), address);
  http_client client = connect_local(address);
  EXPECT_EQ(client.request(make_request("GET", "/")).body, "<p>home</p>");
}

TEST(e2e_local_socket, a_stale_socket_file_is_replaced) {
  temp_dir docroot, run;
  write_file(docroot / "a.txt", "a");
  const auto path = run / "http.sock";
  {  // a socket file nobody listens on, as a killed server leaves it
    socket_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const local_address at = local("unix:" + path.string());
    ASSERT_EQ(::bind(s.get(), at.data(), at.len), 0);
  }
  ASSERT_TRUE(socket_file_at(path));
  local_server server(docroot.path(), "unix:" + path.string());
  http_client client = connect_local("unix:" + path.string());
  EXPECT_EQ(client.request(make_request("GET", "/a.txt")).body, "a");
}

TEST(e2e_local_socket, a_path_in_use_or_not_a_socket_is_refused) {
  temp_dir docroot, run;
  write_file(docroot / "a.txt", "a");
  write_file(run / "notes.txt", "keep me");
  const std::string live = "unix:" + (run / "http.sock").string();
  local_server first(docroot.path(), live);
  for (const std::string& address : {live, "unix:" + (run / "notes.txt").string()}) {
    const auto r =
        run_overlap({"serve", docroot.path().string(), "--bind", address, "--access-log", "off"});
    EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << address << ": " << r.exit.describe();
    EXPECT_NE(r.stderr_text.find(address), std::string::npos) << r.stderr_text;
  }
  EXPECT_EQ(read_file(run / "notes.txt"), "keep me");
  http_client client = connect_local(live);  // the first server is unharmed
  EXPECT_EQ(client.request(make_request("GET", "/a.txt")).body, "a");
}

// (Suite e2e_access_log: the comparison models have no access log.)
TEST(e2e_access_log, a_unix_socket_client_is_logged_as_unix) {
  temp_dir docroot, run, logs;
  write_file(docroot / "a.txt", "a");
  const auto log_path = logs / "access.log";
  const std::string address = "unix:" + (run / "http.sock").string();
  local_server server(docroot.path(), address, {"--access-log", log_path.string()});
  http_client client = connect_local(address);
  ASSERT_EQ(client.request(make_request("GET", "/a.txt")).status, 200);
  const bool logged =
      wait_until([&] { return read_file(log_path).rfind("unix: - - [", 0) == 0; }, 5s);
  EXPECT_TRUE(logged) << read_file(log_path);
}

// (Suite e2e_echo: run once, not per serve model.)
TEST(e2e_echo, echoes_over_an_abstract_unix_socket) {
  temp_dir out;
  const std::string address = "unix:@overlap-e2e-echo-" + std::to_string(::getpid());
  child_process echo({overlap_binary, "echo", "--bind", address, "--threads", "2"},
                     (out / "echo.out").string());
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file(out / "echo.out").find("listening on " + address) != std::string::npos;
      },
      startup_timeout));
  child_process bench({overlap_binary, "bench", "echo", "--host", address, "--connections", "8",
                       "--size", "1000", "--duration", "0.5", "--json", "--no-progress"},
                      (out / "bench.out").string());
  const exit_result exit = bench.wait(exit_timeout);
  EXPECT_TRUE(exit.clean_exit(0)) << exit.describe();
  const std::string json = read_file(out / "bench.out");
  EXPECT_NE(json.find("\"errors\":0,"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"messages\":0,"), std::string::npos) << json;
}

}  // namespace
}  // namespace overlap::e2e

namespace overlap::e2e {
namespace {

// (Suite e2e_admin: the comparison models have no admin listener.)
TEST(e2e_admin, listens_on_a_unix_socket_file_for_as_long_as_the_server_runs) {
  temp_dir docroot, run;
  write_file(docroot / "a.txt", "a");
  const std::string address = "unix:" + (run / "http.sock").string();
  const std::string admin = "unix:" + (run / "admin.sock").string();
  local_server server(docroot.path(), address, {"--admin-bind", admin, "--admin-port", "0"});
  ASSERT_TRUE(server.process().wait_for_stderr("admin on " + admin, startup_timeout))
      << server.process().stderr_text();
  http_client client = connect_local(address);
  ASSERT_EQ(client.request(make_request("GET", "/a.txt")).status, 200);
  http_client metrics = connect_local(admin);
  const auto r = metrics.request(make_request("GET", "/metrics"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_NE(r.body.find("overlap_connections_accepted_total"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace overlap::e2e
