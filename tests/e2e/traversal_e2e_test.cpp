// Path traversal: no spelling of a path, and no symlink inside the docroot,
// returns a byte of a file that lies outside it.
#include "e2e/server_process.hpp"

namespace overlap::e2e {
namespace {

constexpr std::string_view secret_marker = "e2e-SECRET-7f3a9c1d-outside-docroot";

// <tmp>/docroot is served; <tmp>/secret lies beside it.
struct escape_site {
  temp_dir base;
  std::filesystem::path docroot = base / "docroot";
  escape_site() {
    write_file(docroot / "index.html", "public");
    write_file(docroot / "sub" / "page.txt", "public");
    write_file(base / "secret", std::string(secret_marker) + "\n");
    std::filesystem::create_symlink(base / "secret", docroot / "absolute_link");
    std::filesystem::create_symlink("../secret", docroot / "relative_link");
    std::filesystem::create_symlink("../../secret", docroot / "sub" / "deep_link");
    std::filesystem::create_directory_symlink(base.path(), docroot / "dir_link");
  }
};

struct traversal_case {
  const char* name;
  std::string target;
};

// gtest prints parameters in test listings: show the name, not raw bytes.
void PrintTo(const traversal_case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<traversal_case> traversal_targets() {
  return {
      {"dot_dot", "/../secret"},
      {"dot_dot_deep", "/sub/../../secret"},
      {"percent_encoded_dots", "/%2e%2e/secret"},
      {"percent_encoded_dots_and_slash", "/%2e%2e%2fsecret"},
      {"double_encoded_dots", "/%252e%252e/secret"},
      {"encoded_slash", "/..%2fsecret"},
      {"backslash", "/..\\secret"},
      {"encoded_backslash", "/..%5csecret"},
      {"overlong_utf8_dots", "/%c0%ae%c0%ae/secret"},
      {"nul_byte", "/%00../secret"},
      {"absolute_form_path", "http://localhost/../secret"},
      {"absolute_symlink", "/absolute_link"},
      {"relative_symlink", "/relative_link"},
      {"nested_relative_symlink", "/sub/deep_link"},
      {"directory_symlink", "/dir_link/secret"},
  };
}

class e2e_traversal : public ::testing::TestWithParam<traversal_case> {};

TEST_P(e2e_traversal, is_refused_without_leaking_the_file) {
  escape_site site;
  server_process server(site.docroot);
  http_client client(server.port());
  const std::string request =
      "GET " + GetParam().target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(client.send(request));
  // Read everything the server sends for this request, whatever its framing.
  const read_end end = client.read_until_end();
  const std::string& got = client.buffer();
  EXPECT_EQ(got.find(secret_marker), std::string::npos) << "request: " << request << "leaked:\n"
                                                        << got.substr(0, 500);
  ASSERT_GE(got.size(), 12u) << "no response (" << to_string(end) << ") to " << request;
  ASSERT_EQ(got.rfind("HTTP/1.1 ", 0), 0u) << got.substr(0, 200);
  const int status = std::stoi(got.substr(9, 3));
  EXPECT_GE(status, 400) << "request: " << request << "response:\n" << got.substr(0, 300);
  EXPECT_LT(status, 500) << "request: " << request << "response:\n" << got.substr(0, 300);
}

INSTANTIATE_TEST_SUITE_P(attempts, e2e_traversal, ::testing::ValuesIn(traversal_targets()),
                         [](const auto& test_case) { return std::string(test_case.param.name); });

// The docroot itself stays reachable, so the refusals above are not a server
// that refuses everything.
TEST(e2e_traversal_control, files_inside_the_docroot_are_served) {
  escape_site site;
  server_process server(site.docroot);
  http_client client(server.port());
  EXPECT_EQ(client.request(make_request("GET", "/sub/page.txt")).body, "public");
  EXPECT_EQ(client.request(make_request("GET", "/")).body, "public");
}

}  // namespace
}  // namespace overlap::e2e
