// Malformed or unsupported requests over the wire: each class gets its status,
// and after a framing or protocol error the server closes the connection.
#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

struct bad_request_case {
  const char* name;
  std::string bytes;
  int status;
};

// gtest prints parameters in test listings: show the name, not raw bytes.
void PrintTo(const bad_request_case& c, std::ostream* os) {
  *os << c.name;
}

std::string long_target() {
  return "GET /" + std::string(6000, 'a') + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
}

std::string large_header_block() {
  std::string r = "GET /file.txt HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 160; ++i)
    r += "X-Pad-" + std::to_string(i) + ": " + std::string(100, 'p') + "\r\n";
  return r + "\r\n";  // about 17 KiB of fields
}

std::vector<bad_request_case> bad_requests() {
  const std::string line = "GET /file.txt HTTP/1.1\r\n";
  const std::string host = "Host: localhost\r\n";
  return {
      {"content_length_with_transfer_encoding_is_400",
       line + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"two_different_content_lengths_is_400",
       line + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"invalid_content_length_is_400", line + host + "Content-Length: 12x\r\n\r\n", 400},
      {"bad_chunk_size_is_400",
       line + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
      {"obs_fold_is_400", line + host + "X-Folded: first\r\n  continued\r\n\r\n", 400},
      {"space_before_colon_is_400", line + host + "X-Test : value\r\n\r\n", 400},
      {"missing_host_in_http11_is_400", line + "User-Agent: e2e\r\n\r\n", 400},
      {"two_host_headers_is_400", line + "Host: a.example\r\nHost: b.example\r\n\r\n", 400},
      {"over_long_target_is_414", long_target(), 414},
      {"over_large_header_block_is_431", large_header_block(), 431},
      {"unknown_method_is_501", "FROB /file.txt HTTP/1.1\r\n" + host + "\r\n", 501},
      {"http_2_0_request_line_is_505", "GET /file.txt HTTP/2.0\r\n" + host + "\r\n", 505},
      {"http_3_1_request_line_is_505", "GET /file.txt HTTP/3.1\r\n" + host + "\r\n", 505},
  };
}

class e2e_bad_request : public ::testing::TestWithParam<bad_request_case> {};

TEST_P(e2e_bad_request, gets_status_then_connection_closes) {
  temp_dir docroot;
  write_file(docroot / "file.txt", "file-body");
  server_process server(docroot.path());

  http_client client(server.port());
  // The server may answer before it has read everything (414/431): a failed
  // send is then expected and the response is still read.
  (void)client.send(GetParam().bytes);
  const auto r = client.read_response();
  EXPECT_EQ(r.status, GetParam().status)
      << "request: " << GetParam().bytes.substr(0, 300) << "\nresponse:\n"
      << r.head;
  EXPECT_EQ(r.body.find("file-body"), std::string::npos) << "the file was served";
  const read_end end = client.read_until_end();
  EXPECT_EQ(end, read_end::closed) << "after the response the connection was " << to_string(end)
                                   << "; extra bytes: " << client.buffer().substr(0, 200);
  EXPECT_TRUE(client.buffer().empty())
      << "bytes after the error response: " << client.buffer().substr(0, 200);
}

INSTANTIATE_TEST_SUITE_P(classes, e2e_bad_request, ::testing::ValuesIn(bad_requests()),
                         [](const auto& test_case) { return std::string(test_case.param.name); });

// 405 is a well-framed request: the status and Allow matter, not the close.
TEST(e2e_method, post_on_file_is_405_with_allow) {
  temp_dir docroot;
  write_file(docroot / "file.txt", "file-body");
  server_process server(docroot.path());
  http_client client(server.port());
  const auto r =
      client.request("POST /file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_EQ(r.status, 405) << r.head;
  const auto allow = r.header("allow");
  ASSERT_TRUE(allow.has_value()) << r.head;
  EXPECT_NE(allow->find("GET"), std::string::npos) << "Allow: " << *allow;
  EXPECT_NE(allow->find("HEAD"), std::string::npos) << "Allow: " << *allow;
}

// A client that sends "Expect: 100-continue" waits for the server before
// sending its content (curl does for large uploads). The server answers at
// once, then, when the client sends the content after all, reads it away
// and closes, so the client sees the end of the response, not a reset.
// (The header timeout is longer than the client's wait: a server that
// waited for the content would fail the read, not just be slow.)
TEST(e2e_method, expect_100_continue_is_answered_before_the_content) {
  temp_dir docroot;
  write_file(docroot / "file.txt", "file-body");
  server_process server(docroot.path(), {.extra = {"--header-timeout", "120"}});
  struct upload {
    const char* method;
    std::size_t length;  // the PUT's is over the 64 KiB discard limit
    int status;
  };
  for (const upload u : {upload{"PUT", 100000, 405}, upload{"GET", 10, 200}}) {
    SCOPED_TRACE(u.method);
    http_client client(server.port());
    ASSERT_TRUE(client.send(std::string(u.method) +
                            " /file.txt HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                            "Content-Length: " +
                            std::to_string(u.length) + "\r\n\r\n"));
    const auto r = client.read_response();
    EXPECT_EQ(r.status, u.status) << r.head;
    EXPECT_EQ(r.header("connection"), "close") << r.head;
    (void)client.send(std::string(u.length, 'x'));
    const read_end end = client.read_until_end();
    EXPECT_EQ(end, read_end::closed) << to_string(end);
  }
}

// --max-body-discard-bytes N: a GET's body of N bytes is read and dropped
// and the next pipelined request answered; one byte more is 413 and close.
TEST(e2e_body, body_discard_limit_is_configurable) {
  temp_dir docroot;
  write_file(docroot / "file.txt", "file-body");
  server_process server(docroot.path(), {.extra = {"--max-body-discard-bytes", "100"}});
  const auto get_with_body = [](std::size_t n) {
    return "GET /file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(n) +
           "\r\n\r\n" + std::string(n, 'x');
  };
  http_client kept(server.port());
  ASSERT_TRUE(kept.send(get_with_body(100) + make_request("GET", "/file.txt")));
  for (int i = 0; i < 2; ++i) {
    const auto r = kept.read_response();
    EXPECT_EQ(r.status, 200) << i << "\n" << r.head;
    EXPECT_EQ(r.body, "file-body") << i;
    EXPECT_EQ(r.header("connection"), std::nullopt) << i << "\n" << r.head;
  }
  http_client refused(server.port());
  (void)refused.send(get_with_body(101));
  const auto r = refused.read_response();
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_EQ(r.header("connection"), "close") << r.head;
}

// After a 413 the server stops sending but reads on, for --linger-timeout,
// whatever the client still sends: the client reads the whole response and
// an orderly end, never a reset. Past the linger time it closes, and what
// the client sends then is refused.
//
// A server with the given linger time, and a client whose upload it has
// just refused with 413 (the response and the server's FIN read).
struct refused_upload {
  temp_dir docroot;
  server_process server;
  http_client client;

  static std::filesystem::path with_a_file(const temp_dir& d) {
    write_file(d / "file.txt", "file-body");
    return d.path();
  }

  explicit refused_upload(const std::string& linger_seconds)
      : server(with_a_file(docroot), {.extra = {"--linger-timeout", linger_seconds}}),
        client(server.port()) {
    (void)client.send(
        "GET /file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000\r\n\r\n" +
        std::string(1000, 'x'));
    const auto r = client.read_response();
    EXPECT_EQ(r.status, 413) << r.head;
    EXPECT_EQ(client.read_until_end(), read_end::closed);
  }
};

// Sends 1 KiB every 50 ms until a send fails or `rounds` are done; returns
// the number of sends that succeeded.
int send_until_refused(http_client& client, int rounds) {
  const std::string more(1024, 'y');
  for (int i = 0; i < rounds; ++i) {
    if (!client.send(more)) return i;
    std::this_thread::sleep_for(50ms);
  }
  return rounds;
}

TEST(e2e_body, a_rejected_upload_is_read_away_while_lingering) {
  refused_upload u("120");
  // 3 s: longer than the default linger time (2 s), so this also shows the
  // flag took effect.
  EXPECT_EQ(send_until_refused(u.client, 60), 60) << "the server stopped reading while lingering";
  char byte;
  EXPECT_EQ(::recv(u.client.fd(), &byte, 1, 0), 0)
      << "the connection was reset: " << std::strerror(errno);
}

TEST(e2e_body, lingering_ends_after_the_linger_timeout) {
  refused_upload u("0.2");
  // 0.2 s (checked every 250 ms): well within the 100 rounds (5 s).
  EXPECT_LT(send_until_refused(u.client, 100), 100) << "the server was still reading after 5 s";
}

TEST(e2e_method, delete_on_file_is_405_with_allow) {
  temp_dir docroot;
  write_file(docroot / "file.txt", "file-body");
  server_process server(docroot.path());
  http_client client(server.port());
  const auto r = client.request(make_request("DELETE", "/file.txt"));
  EXPECT_EQ(r.status, 405) << r.head;
  EXPECT_TRUE(r.header("allow").has_value()) << r.head;
  EXPECT_TRUE(std::filesystem::exists(docroot / "file.txt"));
}

}  // namespace
}  // namespace overlap::e2e
