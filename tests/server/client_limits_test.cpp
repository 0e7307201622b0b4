// client_limits: who counts as one client, and the count itself.
#include "client_limits.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace overlap::server {
namespace {

client_key key(const char* address) {
  const auto ep = endpoint::parse(address, 80);
  EXPECT_TRUE(ep.has_value()) << address;
  const auto k = client_key_of(ep.value_or(endpoint{}));
  EXPECT_TRUE(k.has_value()) << address;
  return k.value_or(client_key{});
}

TEST(client_key, an_ipv4_address_is_one_client) {
  EXPECT_EQ(key("192.0.2.1"), key("192.0.2.1"));
  EXPECT_NE(key("192.0.2.1"), key("192.0.2.2"));
}

TEST(client_key, an_ipv4_mapped_ipv6_address_is_the_ipv4_client) {
  EXPECT_EQ(key("::ffff:192.0.2.1"), key("192.0.2.1"));
  EXPECT_NE(key("::ffff:192.0.2.1"), key("::ffff:192.0.2.9"));
}

TEST(client_key, an_ipv6_client_is_its_slash_64) {
  EXPECT_EQ(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
  // Not confused with the IPv4 client whose bits it shares.
  EXPECT_NE(key("::c000:201"), key("192.0.2.1"));
}

TEST(client_key, an_endpoint_without_an_address_is_no_client) {
  EXPECT_FALSE(client_key_of(endpoint{}).has_value());
}

TEST(client_limits, admits_up_to_the_limit_per_client) {
  client_limits limits(2);
  const client_key a = key("10.0.0.1"), b = key("10.0.0.2");
  EXPECT_TRUE(limits.try_add(a));
  EXPECT_TRUE(limits.try_add(a));
  EXPECT_FALSE(limits.try_add(a));
  EXPECT_TRUE(limits.try_add(b)) << "another client is counted apart";
  limits.remove(a);
  EXPECT_TRUE(limits.try_add(a)) << "a connection that ended frees its place";
  EXPECT_EQ(limits.clients(), 2u);
}

TEST(client_limits, forgets_a_client_whose_connections_all_ended) {
  client_limits limits(3);
  const client_key a = key("10.0.0.1");
  ASSERT_TRUE(limits.try_add(a));
  ASSERT_TRUE(limits.try_add(a));
  limits.remove(a);
  limits.remove(a);
  EXPECT_EQ(limits.clients(), 0u);
  limits.remove(a);  // one too many: ignored, not a wrap-around
  EXPECT_TRUE(limits.try_add(a));
  EXPECT_TRUE(limits.try_add(a));
  EXPECT_TRUE(limits.try_add(a));
  EXPECT_FALSE(limits.try_add(a));
}

TEST(client_slot, gives_its_place_back_when_it_goes) {
  client_limits limits(1);
  const client_key a = key("10.0.0.1");
  {
    ASSERT_TRUE(limits.try_add(a));
    client_slot slot(limits, a);
    EXPECT_FALSE(limits.try_add(a));
    client_slot moved(std::move(slot));  // the place moves, it is not given back twice
    EXPECT_FALSE(limits.try_add(a));
    client_slot assigned;
    assigned = std::move(moved);
    EXPECT_FALSE(limits.try_add(a));
  }
  EXPECT_EQ(limits.clients(), 0u);
  EXPECT_TRUE(limits.try_add(a));
}

// Shards on several threads share one count (run under TSan by .ci/run).
TEST(client_limits, threads_share_one_count) {
  client_limits limits(4);
  const client_key a = key("10.0.0.1");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (limits.try_add(a)) limits.remove(a);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(limits.clients(), 0u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limits.try_add(a));
  EXPECT_FALSE(limits.try_add(a));
}

}  // namespace
}  // namespace overlap::server
