// --user NAME[:GROUP]: started as root, the server serves as that account;
// the docroot and the access log are opened as it, and bad accounts are
// refused at start-up.
#include "server_process.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace overlap::e2e {
namespace {

// The "Uid:", "Gid:" or "Groups:" line of /proc/PID/status, after the tab.
std::string status_line(pid_t pid, std::string_view key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto at = line.find_first_not_of(" \t", key.size());
      return at == std::string::npos ? std::string() : line.substr(at);
    }
  }
  return {};
}

// nobody/nogroup (65534) on Debian: any account other than root would do.
constexpr const char* unprivileged = "nobody";
constexpr uid_t unprivileged_id = 65534;

// Makes `dir` readable by other users (mkdtemp makes it 0700); false when
// they still cannot reach it, because a directory above it ($TMPDIR under
// /root, say) is closed to them.
bool open_to_all(const temp_dir& dir) {
  if (::chmod(dir.path().c_str(), 0755) != 0) return false;
  for (auto p = dir.path().parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (p == p.root_path()) break;
  }
  return true;
}
constexpr const char* closed_tmp = "the temporary directory is closed to other users";

constexpr const char* needs_root = "--user can only switch accounts when started as root";

TEST(e2e_user, serves_as_the_named_account) {
  if (::geteuid() != 0) GTEST_SKIP() << needs_root;
  temp_dir docroot;
  if (!open_to_all(docroot)) GTEST_SKIP() << closed_tmp;
  write_file(docroot / "page.html", "<p>hi</p>");
  server_process server(docroot.path(), {.extra = {"--user", unprivileged}});
  const std::string id = std::to_string(unprivileged_id);
  const std::string all_four = id + "\t" + id + "\t" + id + "\t" + id;
  EXPECT_EQ(status_line(server.pid(), "Uid:"), all_four);  // real, effective, saved, fs
  EXPECT_EQ(status_line(server.pid(), "Gid:"), all_four);
  EXPECT_EQ(status_line(server.pid(), "Groups:"), id + " ");  // root's groups are gone
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/page.html"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body, "<p>hi</p>");
}

// Root reads every file, so the 403 of a file the server may not read is
// only seen once it is not root.
TEST(e2e_user, a_file_the_account_cannot_read_is_403) {
  if (::geteuid() != 0) GTEST_SKIP() << needs_root;
  temp_dir docroot;
  if (!open_to_all(docroot)) GTEST_SKIP() << closed_tmp;
  write_file(docroot / "locked.txt", "secret-locked");
  write_file(docroot / "open.txt", "open");
  ASSERT_EQ(::chmod((docroot / "locked.txt").c_str(), 0600), 0);  // root's alone
  server_process server(docroot.path(), {.extra = {"--user", unprivileged}});
  http_client client(server.port());
  const auto locked = client.request(make_request("GET", "/locked.txt"));
  EXPECT_EQ(locked.status, 403) << locked.head;
  EXPECT_EQ(locked.body.find("secret-locked"), std::string::npos);
  EXPECT_EQ(client.request(make_request("GET", "/open.txt")).body, "open");
}

TEST(e2e_user, a_docroot_the_account_cannot_read_is_refused_at_start_up) {
  if (::geteuid() != 0) GTEST_SKIP() << needs_root;
  temp_dir docroot;  // 0700, root's
  write_file(docroot / "page.html", "x");
  const auto r = run_overlap({"serve", docroot.path().string(), "--port", "0", "--access-log",
                              "off", "--user", unprivileged});
  EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << r.exit.describe();
  EXPECT_NE(r.stderr_text.find("cannot read"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("listening"), std::string::npos) << r.stderr_text;
}

TEST(e2e_user, unknown_accounts_and_malformed_values_are_refused) {
  temp_dir docroot;
  for (const std::string spec : {"no-such-user-overlap", "nobody:no-such-group-overlap",
                                 "nobody:", ":nogroup", "4294967295"}) {
    const auto r = run_overlap(
        {"serve", docroot.path().string(), "--port", "0", "--access-log", "off", "--user", spec});
    EXPECT_TRUE(r.exit.exited && !r.exit.clean_exit(0)) << spec << ": " << r.exit.describe();
    EXPECT_NE(r.stderr_text.find("--user"), std::string::npos) << spec << ": " << r.stderr_text;
    EXPECT_EQ(r.stderr_text.find("listening"), std::string::npos) << spec;
  }
}

// Words that start the server as `nobody` when the tests run as root (and
// nothing otherwise: the tests then run unprivileged already).
std::vector<std::string> start_unprivileged() {
  if (::geteuid() != 0) return {};
  const std::string id = std::to_string(unprivileged_id);
  return {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"};
}

TEST(e2e_user, without_root_another_account_is_refused) {
  temp_dir docroot;
  if (!open_to_all(docroot)) GTEST_SKIP() << closed_tmp;
  std::vector<std::string> argv = start_unprivileged();
  argv.insert(argv.end(), {overlap_binary, "serve", docroot.path().string(), "--port", "0",
                           "--access-log", "off", "--user", "root"});
  child_process child(argv);
  const exit_result exit = child.wait(exit_timeout);
  child.wait_for_stderr_close(exit_timeout);
  EXPECT_TRUE(exit.exited && !exit.clean_exit(0)) << exit.describe();
  EXPECT_NE(child.stderr_text().find("needs the server to start as root"), std::string::npos)
      << child.stderr_text();
}

TEST(e2e_user, the_account_it_already_runs_as_is_accepted) {
  temp_dir docroot;
  if (!open_to_all(docroot)) GTEST_SKIP() << closed_tmp;
  write_file(docroot / "page.html", "same");
  const std::string self =
      ::geteuid() == 0 ? std::to_string(unprivileged_id) + ":" + std::to_string(unprivileged_id)
                       : std::to_string(::geteuid()) + ":" + std::to_string(::getegid());
  server_process server(docroot.path(),
                        {.launcher = start_unprivileged(), .extra = {"--user", self}});
  http_client client(server.port());
  EXPECT_EQ(client.request(make_request("GET", "/page.html")).body, "same");
}

// (Suite e2e_access_log: the comparison models have no access log.)
TEST(e2e_access_log, is_opened_as_the_user_account) {
  if (::geteuid() != 0) GTEST_SKIP() << needs_root;
  temp_dir docroot, logs;
  if (!open_to_all(docroot)) GTEST_SKIP() << closed_tmp;
  ASSERT_EQ(::chmod(logs.path().c_str(), 0777), 0);
  write_file(docroot / "page.html", "x");
  const auto log_path = logs / "access.log";
  server_process server(docroot.path(),
                        {.access_log = log_path.string(), .extra = {"--user", unprivileged}});
  http_client client(server.port());
  ASSERT_EQ(client.request(make_request("GET", "/page.html")).status, 200);
  const bool logged = wait_until(
      [&] { return read_file(log_path).find("GET /page.html") != std::string::npos; }, 5s);
  EXPECT_TRUE(logged) << read_file(log_path);
  struct stat st {};
  ASSERT_EQ(::stat(log_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, unprivileged_id);
}

}  // namespace
}  // namespace overlap::e2e
