// overlap::endpoint: parsing numeric addresses, ports, text form.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "overlap/endpoint.hpp"

namespace {

TEST(endpoint, parses_an_ipv4_address) {
  const auto ep = overlap::endpoint::parse("127.0.0.1", 8080);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->family(), AF_INET);
  EXPECT_EQ(ep->port(), 8080);
  EXPECT_EQ(ep->size(), sizeof(sockaddr_in));
  EXPECT_EQ(ep->to_string(), "127.0.0.1:8080");
}

TEST(endpoint, parses_an_ipv6_address_with_or_without_brackets) {
  for (const char* text : {"::1", "[::1]"}) {
    const auto ep = overlap::endpoint::parse(text, 443);
    ASSERT_TRUE(ep) << text;
    EXPECT_EQ(ep->family(), AF_INET6);
    EXPECT_EQ(ep->port(), 443);
    EXPECT_EQ(ep->size(), sizeof(sockaddr_in6));
    EXPECT_EQ(ep->to_string(), "[::1]:443");
  }
}

TEST(endpoint, localhost_means_ipv4_loopback) {
  const auto ep = overlap::endpoint::parse("localhost", 1);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->to_string(), "127.0.0.1:1");
}

TEST(endpoint, rejects_text_that_is_not_a_numeric_address) {
  for (const char* text :
       {"", "example.com", "1.2.3", "256.1.1.1", "[::1", "::g", "127.0.0.1:80"}) {
    EXPECT_FALSE(overlap::endpoint::parse(text, 80)) << '"' << text << '"';
  }
}

TEST(endpoint, loopback_v4_is_127_0_0_1) {
  EXPECT_EQ(overlap::endpoint::loopback_v4(0).to_string(), "127.0.0.1:0");
  EXPECT_EQ(overlap::endpoint::loopback_v4(65535).port(), 65535);
}

TEST(endpoint, default_endpoint_is_unspecified) {
  const overlap::endpoint ep;
  EXPECT_EQ(ep.family(), AF_UNSPEC);
  EXPECT_EQ(ep.port(), 0);
  EXPECT_EQ(ep.size(), 0u);
  EXPECT_EQ(ep.to_string(), "(unspecified)");
}

TEST(endpoint, copies_a_sockaddr) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(9);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const overlap::endpoint ep(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  EXPECT_EQ(ep.to_string(), "127.0.0.1:9");
}

}  // namespace

namespace {

TEST(endpoint, parses_a_unix_socket_path) {
  const auto ep = overlap::endpoint::parse("unix:/run/overlap/http.sock", 80);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->family(), AF_UNIX);
  EXPECT_TRUE(ep->is_local());
  EXPECT_EQ(ep->port(), 0) << "a Unix-domain socket has no port";
  EXPECT_EQ(ep->local_path(), "/run/overlap/http.sock");
  EXPECT_EQ(ep->to_string(), "unix:/run/overlap/http.sock");
  const auto relative = overlap::endpoint::local("http.sock");
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->local_path(), "http.sock");
}

TEST(endpoint, parses_an_abstract_unix_socket_name) {
  const auto ep = overlap::endpoint::parse("unix:@overlap-test", 0);
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->is_local());
  EXPECT_EQ(ep->local_path(), "") << "no file stands for an abstract name";
  EXPECT_EQ(ep->to_string(), "unix:@overlap-test");
  // The name is exactly as long as given: no NUL padding in the address.
  EXPECT_EQ(ep->size(), sizeof(sa_family_t) + 1 + std::string("overlap-test").size());
}

TEST(endpoint, rejects_unix_addresses_that_do_not_fit) {
  for (const std::string& text : {std::string("unix:"), std::string("unix:@"),
                                  "unix:/" + std::string(107, 'x'), std::string("unix:/a\0b", 9)}) {
    EXPECT_FALSE(overlap::endpoint::parse(text, 0)) << '"' << text << '"';
  }
  EXPECT_TRUE(overlap::endpoint::parse("unix:/" + std::string(106, 'x'), 0)) << "107 bytes fit";
}

TEST(endpoint, an_unnamed_unix_socket_prints_as_unix) {
  sockaddr sa{};
  sa.sa_family = AF_UNIX;
  const overlap::endpoint ep(&sa, sizeof(sa_family_t));  // what getpeername gives for one
  EXPECT_TRUE(ep.is_local());
  EXPECT_EQ(ep.to_string(), "unix:");
  EXPECT_EQ(ep.local_path(), "");
}

}  // namespace
