// Static files over the wire: exact bodies, HEAD, keep-alive, pipelining,
// conditional requests, byte ranges, redirects, 403/404, dotfiles, autoindex.
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

// ---------------------------------------------------------------- bodies

std::string size_name(const ::testing::TestParamInfo<std::size_t>& info) {
  const std::size_t n = info.param;
  if (n >= (1u << 20)) return std::to_string(n >> 20) + "MiB";
  if (n >= 1024) return std::to_string(n >> 10) + "KiB";
  return std::to_string(n) + "B";
}

class e2e_body : public ::testing::TestWithParam<std::size_t> {};

TEST_P(e2e_body, get_returns_file_bytes_exactly) {
  temp_dir docroot;
  const std::string content = random_bytes(GetParam(), GetParam() + 1);
  write_file(docroot / "file.bin", content);
  server_process server(docroot.path());

  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/file.bin"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.header("content-length"), std::to_string(content.size())) << r.head;
  EXPECT_TRUE(same_bytes(r.body, content));
}

TEST_P(e2e_body, head_returns_get_headers_without_body) {
  temp_dir docroot;
  const std::string content = random_bytes(GetParam(), GetParam() + 2);
  write_file(docroot / "file.bin", content);
  server_process server(docroot.path());

  http_client client(server.port());
  const auto get = client.request(make_request("GET", "/file.bin"));
  const auto head = client.request(make_request("HEAD", "/file.bin"), /*head_only=*/true);
  EXPECT_EQ(head.status, get.status);
  auto without_date = [](auto headers) {
    std::erase_if(headers, [](const auto& h) { return h.first == "date"; });
    std::sort(headers.begin(), headers.end());
    return headers;
  };
  EXPECT_EQ(without_date(head.headers), without_date(get.headers)) << "GET head:\n"
                                                                   << get.head << "HEAD head:\n"
                                                                   << head.head;
  // Had HEAD sent a body, it would be read here in place of the next status line.
  const auto after = client.request(make_request("GET", "/file.bin"));
  EXPECT_EQ(after.status, 200);
  EXPECT_TRUE(same_bytes(after.body, content));
}

INSTANTIATE_TEST_SUITE_P(sizes, e2e_body,
                         ::testing::Values(std::size_t{0}, std::size_t{1024}, std::size_t{1} << 20,
                                           std::size_t{16} << 20),
                         size_name);

// ---------------------------------------------------------------- connections

// Keep-alive with the default loop and with --busy-poll (threads spin for
// their next completion before sleeping): the same bytes, from memory and by
// sendfile, request after request.
class e2e_keep_alive : public ::testing::TestWithParam<bool> {};

TEST_P(e2e_keep_alive, serves_several_requests_on_one_connection) {
  temp_dir docroot;
  const std::string small = random_bytes(1024, 11), large = random_bytes(1 << 20, 12);
  write_file(docroot / "small.bin", small);
  write_file(docroot / "large.bin", large);
  server_process server(docroot.path(),
                        {.extra = GetParam() ? std::vector<std::string>{"--busy-poll", "200"}
                                             : std::vector<std::string>{}});

  http_client client(server.port());
  for (int i = 0; i < 10; ++i) {
    const auto a = client.request(make_request("GET", "/small.bin"));
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(same_bytes(a.body, small)) << "round " << i;
    const auto b = client.request(make_request("GET", "/large.bin"));
    EXPECT_EQ(b.status, 200);
    EXPECT_TRUE(same_bytes(b.body, large)) << "round " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(loop, e2e_keep_alive, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "busy_poll" : "sleeping");
                         });

// With TCP_DEFER_ACCEPT (the default) the kernel hands a connection over
// when its first bytes arrive: a client that waits before sending is still
// served. --no-defer-accept turns it off; both must serve the same bytes,
// including a Connection: close response (sent with MSG_MORE, then the FIN).
class e2e_accept_mode : public ::testing::TestWithParam<bool> {};

TEST_P(e2e_accept_mode, late_first_request_and_connection_close_are_served) {
  const bool defer = GetParam();
  temp_dir docroot;
  const std::string small = random_bytes(100, 13), large = random_bytes(256 * 1024, 14);
  write_file(docroot / "small.bin", small);
  write_file(docroot / "large.bin", large);
  server_process server(docroot.path(),
                        {.threads = 1,
                         .extra = defer ? std::vector<std::string>{}
                                        : std::vector<std::string>{"--no-defer-accept"}});
  http_client late(server.port());
  std::this_thread::sleep_for(300ms);  // connected, nothing sent yet
  const auto a = late.request(make_request("GET", "/small.bin"));
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(same_bytes(a.body, small));

  for (const char* path : {"/small.bin", "/large.bin"}) {
    http_client c(server.port());
    ASSERT_TRUE(c.send(make_request("GET", path, "Connection: close\r\n")));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(same_bytes(r.body, path == std::string_view("/small.bin") ? small : large)) << path;
    EXPECT_EQ(c.read_some(1), 0) << path << ": the server closes after the response";
  }
}

INSTANTIATE_TEST_SUITE_P(modes, e2e_accept_mode, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "deferred" : "immediate"; });

// Files reach the server's cache through asynchronous loads (openat2, statx
// and read as io_uring operations). Many clients asking at once for files
// not loaded yet share the loads and all get the right bytes; a file
// replaced on disk is served anew once the cache revalidates it (1 s).
TEST(e2e_file_loading, concurrent_first_requests_and_a_replaced_file) {
  temp_dir docroot;
  const std::string small = random_bytes(3000, 15), large = random_bytes(300 * 1024, 16);
  write_file(docroot / "small.bin", small);
  write_file(docroot / "large.bin", large);
  server_process server(docroot.path(), {.threads = 1, .extra = {}});

  constexpr int clients = 24;
  std::vector<http_client> cs;
  for (int i = 0; i < clients; ++i) {
    cs.emplace_back(server.port());
    const std::string batch =
        make_request("GET", "/small.bin") + make_request("GET", "/large.bin") +
        make_request("GET", "/missing.bin") + make_request("GET", "/small.bin");
    ASSERT_TRUE(cs.back().send(batch));
  }
  for (int i = 0; i < clients; ++i) {
    const auto a = cs[static_cast<std::size_t>(i)].read_response();
    const auto b = cs[static_cast<std::size_t>(i)].read_response();
    const auto c = cs[static_cast<std::size_t>(i)].read_response();
    const auto d = cs[static_cast<std::size_t>(i)].read_response();
    EXPECT_EQ(a.status, 200) << "client " << i;
    EXPECT_TRUE(same_bytes(a.body, small)) << "client " << i;
    EXPECT_EQ(b.status, 200) << "client " << i;
    EXPECT_TRUE(same_bytes(b.body, large)) << "client " << i;
    EXPECT_EQ(c.status, 404) << "client " << i;
    EXPECT_TRUE(same_bytes(d.body, small)) << "client " << i;
  }

  // Past the revalidation interval an unchanged file is still served (a
  // statx finds it unchanged), then a replaced one is picked up.
  std::this_thread::sleep_for(1200ms);
  {
    http_client again(server.port());
    const auto r = again.request(make_request("GET", "/small.bin"));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(same_bytes(r.body, small));
  }
  const std::string replaced = random_bytes(2000, 17);
  write_file(docroot / "small.bin", replaced);
  http_client client(server.port());
  const bool picked_up = wait_until(
      [&] {
        const auto r = client.request(make_request("GET", "/small.bin"));
        return r.status == 200 && same_bytes(r.body, replaced);
      },
      10s, 100ms);
  EXPECT_TRUE(picked_up) << "the replaced file was not served within 10 s";
}

TEST(e2e_connection, pipelined_requests_are_answered_in_order) {
  temp_dir docroot;
  const std::string a = random_bytes(1024, 21), b = random_bytes(1 << 20, 22),
                    c = random_bytes(3, 23);
  write_file(docroot / "a.bin", a);
  write_file(docroot / "b.bin", b);
  write_file(docroot / "c.bin", c);
  write_file(docroot / "empty.bin", "");
  server_process server(docroot.path());

  http_client client(server.port());
  const std::string batch = make_request("GET", "/b.bin") + make_request("GET", "/a.bin") +
                            make_request("HEAD", "/a.bin") + make_request("GET", "/missing") +
                            make_request("GET", "/empty.bin") + make_request("GET", "/c.bin");
  ASSERT_TRUE(client.send(batch));
  const auto r1 = client.read_response();
  EXPECT_EQ(r1.status, 200);
  EXPECT_TRUE(same_bytes(r1.body, b));
  const auto r2 = client.read_response();
  EXPECT_EQ(r2.status, 200);
  EXPECT_TRUE(same_bytes(r2.body, a));
  const auto r3 = client.read_response(/*head_only=*/true);
  EXPECT_EQ(r3.status, 200);
  EXPECT_EQ(r3.header("content-length"), "1024");
  const auto r4 = client.read_response();
  EXPECT_EQ(r4.status, 404);
  const auto r5 = client.read_response();
  EXPECT_EQ(r5.status, 200);
  EXPECT_TRUE(same_bytes(r5.body, ""));
  const auto r6 = client.read_response();
  EXPECT_EQ(r6.status, 200);
  EXPECT_TRUE(same_bytes(r6.body, c));
}

// ---------------------------------------------------------------- statuses

TEST(e2e_status, missing_file_is_404) {
  temp_dir docroot;
  write_file(docroot / "present.txt", "here");
  server_process server(docroot.path());
  http_client client(server.port());
  EXPECT_EQ(client.request(make_request("GET", "/absent.txt")).status, 404);
  EXPECT_EQ(client.request(make_request("GET", "/no/such/dir/file")).status, 404);
}

TEST(e2e_status, directory_without_index_is_403_without_autoindex) {
  temp_dir docroot;
  write_file(docroot / "dir" / "file.txt", "x");
  server_process server(docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/dir/"));
  EXPECT_EQ(r.status, 403) << r.head;
  EXPECT_EQ(r.body.find("file.txt"), std::string::npos) << "listing leaked: " << r.body;
}

TEST(e2e_status, unreadable_file_is_403) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: a mode-000 file is still readable";
  temp_dir docroot;
  write_file(docroot / "locked.txt", "secret-locked");
  ASSERT_EQ(::chmod((docroot / "locked.txt").c_str(), 0), 0);
  server_process server(docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/locked.txt"));
  EXPECT_EQ(r.status, 403) << r.head;
  EXPECT_EQ(r.body.find("secret-locked"), std::string::npos);
}

TEST(e2e_status, directory_without_slash_redirects_with_location) {
  temp_dir docroot;
  write_file(docroot / "docs" / "index.html", "<p>docs</p>");
  server_process server(docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/docs"));
  EXPECT_EQ(r.status, 301) << r.head;
  const auto location = r.header("location");
  ASSERT_TRUE(location.has_value()) << r.head;
  EXPECT_TRUE(location->ends_with("/docs/")) << "Location: " << *location;
  // Following it serves the index.
  const auto index = client.request(make_request("GET", "/docs/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<p>docs</p>");
}

TEST(e2e_status, dotfile_is_404) {
  temp_dir docroot;
  write_file(docroot / ".hidden", "dot-secret");
  write_file(docroot / ".git" / "config", "dot-secret");
  server_process server(docroot.path());
  http_client client(server.port());
  for (const char* target : {"/.hidden", "/.git/config"}) {
    const auto r = client.request(make_request("GET", target));
    EXPECT_EQ(r.status, 404) << target << "\n" << r.head;
    EXPECT_EQ(r.body.find("dot-secret"), std::string::npos) << target;
  }
}

TEST(e2e_status, autoindex_lists_directory_with_escaped_names) {
  temp_dir docroot;
  write_file(docroot / "dir" / "plain.txt", "x");
  write_file(docroot / "dir" / "<img src=x onerror=alert(1)>.txt", "x");
  write_file(docroot / "dir" / "q\"uote.txt", "x");
  server_process server(docroot.path(), {.extra = {"--autoindex"}});
  http_client client(server.port());
  const auto r = client.request(make_request("GET", "/dir/"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_NE(r.body.find("plain.txt"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("&lt;img src=x onerror=alert(1)&gt;.txt"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("<img src=x"), std::string::npos) << "unescaped name in:\n" << r.body;
  EXPECT_EQ(r.body.find("q\"uote"), std::string::npos) << "unescaped quote in:\n" << r.body;
}

// ---------------------------------------------------------------- conditionals

constexpr std::time_t file_mtime = 1577836800;  // 2020-01-01T00:00:00Z
constexpr std::time_t one_day = 24 * 60 * 60;

std::string http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

struct dated_site {
  temp_dir docroot;
  std::string content = random_bytes(4096, 31);
  dated_site() {
    write_file(docroot / "page.bin", content);
    const timespec times[2] = {{file_mtime, 0}, {file_mtime, 0}};
    if (::utimensat(AT_FDCWD, (docroot / "page.bin").c_str(), times, 0) != 0) {
      throw std::system_error(errno, std::system_category(), "utimensat");
    }
  }
};

TEST(e2e_conditional, if_none_match_with_current_etag_is_304) {
  dated_site site;
  server_process server(site.docroot.path());
  http_client client(server.port());
  const auto first = client.request(make_request("GET", "/page.bin"));
  ASSERT_EQ(first.status, 200);
  const auto etag = first.header("etag");
  ASSERT_TRUE(etag.has_value()) << first.head;
  const auto again =
      client.request(make_request("GET", "/page.bin", "If-None-Match: " + *etag + "\r\n"));
  EXPECT_EQ(again.status, 304) << again.head;
  EXPECT_EQ(again.header("etag"), etag);
  // No body was sent: the connection carries on with the next response.
  const auto other =
      client.request(make_request("GET", "/page.bin", "If-None-Match: \"other\"\r\n"));
  EXPECT_EQ(other.status, 200);
  EXPECT_TRUE(same_bytes(other.body, site.content));
}

// --cache-control reaches the 200 and the 304. (This suite runs again on each
// comparison model, so each one's way of loading files is covered.)
TEST(e2e_conditional, cache_control_is_sent_with_200_and_304) {
  dated_site site;
  const std::string policy = "public, max-age=600";
  server_process server(site.docroot.path(), {.extra = {"--cache-control", policy}});
  http_client client(server.port());
  const auto first = client.request(make_request("GET", "/page.bin"));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("cache-control"), policy) << first.head;
  EXPECT_TRUE(same_bytes(first.body, site.content));
  const auto etag = first.header("etag");
  ASSERT_TRUE(etag.has_value()) << first.head;
  const auto again =
      client.request(make_request("GET", "/page.bin", "If-None-Match: " + *etag + "\r\n"));
  EXPECT_EQ(again.status, 304) << again.head;
  EXPECT_EQ(again.header("cache-control"), policy) << again.head;
  const auto missing = client.request(make_request("GET", "/missing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("cache-control"), std::nullopt) << missing.head;
}

// --header: the added fields reach a 200 (also the shared rendering of a
// small file's second 200), a 304 and a 404; the body is unchanged.
TEST(e2e_added_fields, header_flags_reach_every_response) {
  dated_site site;
  server_process server(site.docroot.path(),
                        {.extra = {"--header", "X-Content-Type-Options: nosniff", "--header",
                                   "Content-Security-Policy:  default-src 'self'"}});
  http_client client(server.port());
  const auto expect_fields = [](const auto& r) {
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << r.head;
    EXPECT_EQ(r.header("content-security-policy"), "default-src 'self'") << r.head;
  };
  for (int i = 0; i < 2; ++i) {
    const auto ok = client.request(make_request("GET", "/page.bin"));
    ASSERT_EQ(ok.status, 200);
    expect_fields(ok);
    EXPECT_TRUE(same_bytes(ok.body, site.content));
    const auto etag = ok.header("etag");
    ASSERT_TRUE(etag.has_value()) << ok.head;
    const auto same =
        client.request(make_request("GET", "/page.bin", "If-None-Match: " + *etag + "\r\n"));
    EXPECT_EQ(same.status, 304) << same.head;
    expect_fields(same);
  }
  const auto missing = client.request(make_request("GET", "/missing"));
  EXPECT_EQ(missing.status, 404);
  expect_fields(missing);
}

// --precompressed: a client gets the twin in the best coding it accepts
// ("X.br", "X.gz"), byte for byte, small (from memory) and large (from the
// file); a client that accepts none gets X.
TEST(e2e_precompressed, twins_go_to_clients_that_accept_their_coding) {
  temp_dir docroot;
  const std::string small = random_bytes(1000, 21), small_gz = random_bytes(300, 22);
  const std::string small_br = random_bytes(250, 25);
  const std::string large = random_bytes(1 << 20, 23), large_gz = random_bytes(200 * 1024, 24);
  write_file(docroot / "small.txt", small);
  write_file(docroot / "small.txt.gz", small_gz);
  write_file(docroot / "small.txt.br", small_br);
  write_file(docroot / "large.txt", large);
  write_file(docroot / "large.txt.gz", large_gz);
  write_file(docroot / "alone.txt", small);
  server_process server(docroot.path(), {.extra = {"--precompressed"}});
  http_client client(server.port());
  struct expectation {
    const char* target;
    const char* accept;
    const std::string& body;
    std::optional<std::string> coding;
  };
  for (const expectation& e : {expectation{"/small.txt", "gzip, br", small_br, "br"},
                               expectation{"/small.txt", "gzip", small_gz, "gzip"},
                               expectation{"/large.txt", "gzip, br", large_gz, "gzip"},
                               expectation{"/alone.txt", "gzip, br", small, std::nullopt}}) {
    SCOPED_TRACE(std::string(e.target) + " " + e.accept);
    const auto r = client.request(
        make_request("GET", e.target, "Accept-Encoding: " + std::string(e.accept) + "\r\n"));
    ASSERT_EQ(r.status, 200) << r.head;
    EXPECT_TRUE(same_bytes(r.body, e.body));
    EXPECT_EQ(r.header("content-encoding"), e.coding) << r.head;
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8") << r.head;
    EXPECT_EQ(r.header("vary"), "Accept-Encoding") << r.head;
  }
  for (const auto& [target, body] :
       {std::pair<const char*, const std::string&>{"/small.txt", small}, {"/large.txt", large}}) {
    const auto plain = client.request(make_request("GET", target));
    ASSERT_EQ(plain.status, 200) << plain.head;
    EXPECT_TRUE(same_bytes(plain.body, body)) << target;
    EXPECT_EQ(plain.header("content-encoding"), std::nullopt) << plain.head;
    EXPECT_EQ(plain.header("vary"), "Accept-Encoding") << plain.head;
  }
}

// --fallback /index.html: a single-page application's routes get the app.
TEST(e2e_fallback, missing_files_get_the_fallback_with_200) {
  temp_dir docroot;
  const std::string app = random_bytes(3000, 31);
  write_file(docroot / "index.html", app);
  write_file(docroot / "style.css", "a{}");
  server_process server(docroot.path(), {.extra = {"--fallback", "/index.html"}});
  http_client client(server.port());
  for (const char* target : {"/users/42", "/deep/link/page", "/index.html"}) {
    const auto r = client.request(make_request("GET", target));
    EXPECT_EQ(r.status, 200) << target << "\n" << r.head;
    EXPECT_TRUE(same_bytes(r.body, app)) << target;
  }
  const auto css = client.request(make_request("GET", "/style.css"));
  EXPECT_EQ(css.body, "a{}");
}

// --not-found-page /404.html: every 404 carries the site's own page, from
// memory (small) or from the file (large), and the connection goes on.
TEST(e2e_not_found_page, every_404_carries_the_page) {
  for (const std::size_t size : {std::size_t{2000}, std::size_t{300 * 1024}}) {
    temp_dir docroot;
    const std::string page = random_bytes(size, 37);
    write_file(docroot / "404.html", page);
    write_file(docroot / "a.txt", "a");
    write_file(docroot / ".hidden", "secret");
    server_process server(docroot.path(), {.extra = {"--not-found-page", "/404.html"}});
    http_client client(server.port());
    for (const char* target : {"/missing", "/.hidden", "/a.txt/", "/deep/missing.png"}) {
      const auto r = client.request(make_request("GET", target));
      EXPECT_EQ(r.status, 404) << target << "\n" << r.head;
      EXPECT_TRUE(same_bytes(r.body, page)) << target << " (" << size << " B page)";
      EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8") << r.head;
      EXPECT_EQ(r.header("etag"), std::nullopt) << r.head;
    }
    const auto a = client.request(make_request("GET", "/a.txt"));
    EXPECT_EQ(a.status, 200) << a.head;
    EXPECT_EQ(a.body, "a");
  }
}

TEST(e2e_conditional, failed_if_match_or_if_unmodified_since_is_412) {
  dated_site site;
  server_process server(site.docroot.path());
  http_client client(server.port());
  const auto first = client.request(make_request("GET", "/page.bin"));
  const auto etag = first.header("etag");
  ASSERT_TRUE(etag.has_value()) << first.head;
  const auto failed = client.request(make_request("GET", "/page.bin", "If-Match: \"other\"\r\n"));
  EXPECT_EQ(failed.status, 412) << failed.head;
  EXPECT_FALSE(same_bytes(failed.body, site.content));
  const auto early = client.request(make_request(
      "GET", "/page.bin", "If-Unmodified-Since: " + http_date(file_mtime - one_day) + "\r\n"));
  EXPECT_EQ(early.status, 412) << early.head;
  // Passing preconditions serve the file, on the same connection.
  const auto ok = client.request(make_request(
      "GET", "/page.bin",
      "If-Match: " + *etag + "\r\nIf-Unmodified-Since: " + http_date(file_mtime) + "\r\n"));
  EXPECT_EQ(ok.status, 200) << ok.head;
  EXPECT_TRUE(same_bytes(ok.body, site.content));
}

TEST(e2e_conditional, if_modified_since_at_last_modified_is_304) {
  dated_site site;
  server_process server(site.docroot.path());
  http_client client(server.port());
  const auto first = client.request(make_request("GET", "/page.bin"));
  EXPECT_EQ(first.header("last-modified"), http_date(file_mtime)) << first.head;
  const auto r = client.request(
      make_request("GET", "/page.bin", "If-Modified-Since: " + http_date(file_mtime) + "\r\n"));
  EXPECT_EQ(r.status, 304) << r.head;
  EXPECT_TRUE(r.body.empty());
}

TEST(e2e_conditional, if_modified_since_after_last_modified_is_304) {
  dated_site site;
  server_process server(site.docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request(
      "GET", "/page.bin", "If-Modified-Since: " + http_date(file_mtime + one_day) + "\r\n"));
  EXPECT_EQ(r.status, 304) << r.head;
}

TEST(e2e_conditional, if_modified_since_before_last_modified_is_200) {
  dated_site site;
  server_process server(site.docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request(
      "GET", "/page.bin", "If-Modified-Since: " + http_date(file_mtime - one_day) + "\r\n"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_TRUE(same_bytes(r.body, site.content));
}

// ---------------------------------------------------------------- ranges

// Small files are sent from memory, large ones from the file: try both.
class e2e_range : public ::testing::TestWithParam<std::size_t> {
 protected:
  temp_dir docroot;
  std::string content = random_bytes(GetParam(), 41);
  void SetUp() override { write_file(docroot / "data.bin", content); }

  http_response get_range(std::string_view range) {
    server_.emplace(docroot.path());
    http_client client(server_->port());
    return client.request(
        make_request("GET", "/data.bin", "Range: " + std::string(range) + "\r\n"));
  }
  std::string n() const { return std::to_string(content.size()); }

 private:
  std::optional<server_process> server_;
};

TEST_P(e2e_range, first_100_bytes_is_206_with_content_range) {
  const auto r = get_range("bytes=0-99");
  EXPECT_EQ(r.status, 206) << r.head;
  EXPECT_EQ(r.header("content-range"), "bytes 0-99/" + n());
  EXPECT_EQ(r.header("content-length"), "100");
  EXPECT_TRUE(same_bytes(r.body, std::string_view(content).substr(0, 100)));
}

TEST_P(e2e_range, suffix_range_returns_last_100_bytes) {
  const auto r = get_range("bytes=-100");
  const std::size_t size = content.size();
  EXPECT_EQ(r.status, 206) << r.head;
  EXPECT_EQ(r.header("content-range"),
            "bytes " + std::to_string(size - 100) + "-" + std::to_string(size - 1) + "/" + n());
  EXPECT_TRUE(same_bytes(r.body, std::string_view(content).substr(size - 100)));
}

TEST_P(e2e_range, open_range_returns_bytes_from_offset_to_end) {
  const auto r = get_range("bytes=100-");
  const std::size_t size = content.size();
  EXPECT_EQ(r.status, 206) << r.head;
  EXPECT_EQ(r.header("content-range"), "bytes 100-" + std::to_string(size - 1) + "/" + n());
  EXPECT_TRUE(same_bytes(r.body, std::string_view(content).substr(100)));
}

TEST_P(e2e_range, unsatisfiable_range_is_416_with_size) {
  const auto r = get_range("bytes=" + n() + "-");
  EXPECT_EQ(r.status, 416) << r.head;
  EXPECT_EQ(r.header("content-range"), "bytes */" + n());
  EXPECT_EQ(r.body.find(content.substr(0, 16)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(files, e2e_range,
                         ::testing::Values(std::size_t{1024}, std::size_t{1} << 20), size_name);

}  // namespace
}  // namespace overlap::e2e
