// --precompressed: "X.br", "X.zst" or "X.gz" sent for X to clients that
// accept that coding, with X's type, Content-Encoding, its own ETag, and
// Vary on every file response; plus the Accept-Encoding negotiation
// (RFC 9110 §12.5.3).
#include "http_test_support.hpp"

#include <overlap/http/content_coding.hpp>

namespace overlap::http::testing {
namespace {

const std::string original = "plain text, as the author wrote it\n";
const std::string twin = std::string("\x1f\x8b", 2) + "pretend-gzip-bytes";

http_config precompressed_config() {
  http_config c = harness::make_config();
  c.site.precompressed = true;
  return c;
}

std::string accepting(std::string_view target, std::string_view codings = "gzip",
                      std::string_view extra = {}) {
  return get(target, "Accept-Encoding: " + std::string(codings) + "\r\n" + std::string(extra));
}

class precompressed : public ::testing::Test {
 protected:
  temp_docroot root;
  void SetUp() override {
    root.write("a.txt", original);
    root.write("a.txt.gz", twin);
    root.write("alone.txt", original);  // no twin
    root.write("site/index.html", "<p>index</p>");
    root.write("site/index.html.gz", twin);
    root.write("odd.txt", original);
    root.mkdir("odd.txt.gz");  // a directory is no twin
  }
};

TEST_F(precompressed, the_twin_goes_to_a_client_that_accepts_gzip) {
  harness h(root, precompressed_config());
  const auto r = h.one(accepting("/a.txt", "gzip, deflate, br"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, twin);
  EXPECT_EQ(r.field("Content-Encoding"), "gzip");
  EXPECT_EQ(r.field("Content-Type"), "text/plain; charset=utf-8");  // the original's type
  EXPECT_EQ(r.field("Vary"), "Accept-Encoding");
  EXPECT_EQ(r.field("Content-Length"), std::to_string(twin.size()));
}

TEST_F(precompressed, the_original_goes_to_other_clients_with_vary) {
  harness h(root, precompressed_config());
  for (const std::string& in :
       {get("/a.txt"), accepting("/a.txt", "br"), accepting("/a.txt", "gzip;q=0, br")}) {
    const auto r = h.one(in);
    EXPECT_EQ(r.body, original) << in;
    EXPECT_EQ(r.field("Content-Encoding"), std::nullopt) << in;
    EXPECT_EQ(r.field("Vary"), "Accept-Encoding") << in;
  }
}

TEST_F(precompressed, off_by_default) {
  harness h(root);
  const auto r = h.one(accepting("/a.txt"));
  EXPECT_EQ(r.body, original);
  EXPECT_EQ(r.field("Content-Encoding"), std::nullopt);
  EXPECT_EQ(r.field("Vary"), std::nullopt);
}

TEST_F(precompressed, without_a_twin_the_original_is_served) {
  harness h(root, precompressed_config());
  for (const char* target : {"/alone.txt", "/odd.txt"}) {
    for (int i = 0; i < 2; ++i) {  // the second time from the memory of the absence
      const auto r = h.one(accepting(target));
      EXPECT_EQ(r.status, 200u) << target;
      EXPECT_EQ(r.body, original) << target;
      EXPECT_EQ(r.field("Content-Encoding"), std::nullopt) << target;
    }
  }
}

TEST_F(precompressed, a_twin_written_later_is_found_once_the_absence_is_stale) {
  harness h(root, precompressed_config());
  EXPECT_EQ(h.one(accepting("/alone.txt")).body, original);
  root.write("alone.txt.gz", twin);
  EXPECT_EQ(h.one(accepting("/alone.txt")).body, original);  // still believed absent
  h.advance(std::chrono::milliseconds(1100));                // past the revalidation interval
  const auto r = h.one(accepting("/alone.txt"));
  EXPECT_EQ(r.body, twin);
  EXPECT_EQ(r.field("Content-Encoding"), "gzip");
}

TEST_F(precompressed, a_twin_older_than_its_original_is_not_served) {
  root.set_mtime("a.txt", 1'600'000'100);
  root.set_mtime("a.txt.gz", 1'600'000'000);  // made before a.txt last changed
  root.set_mtime("site/index.html", 1'600'000'000);
  root.set_mtime("site/index.html.gz", 1'600'000'000);  // as old: made from it
  harness h(root, precompressed_config());
  const auto stale = h.one(accepting("/a.txt"));
  EXPECT_EQ(stale.body, original);
  EXPECT_EQ(stale.field("Content-Encoding"), std::nullopt);
  EXPECT_EQ(h.one(accepting("/site/")).body, twin);
}

TEST_F(precompressed, the_twin_has_its_own_etag_for_304_and_if_range) {
  harness h(root, precompressed_config());
  const auto plain = h.one(get("/a.txt"));
  const auto coded = h.one(accepting("/a.txt"));
  const auto plain_tag = plain.field("ETag");
  const auto coded_tag = coded.field("ETag");
  ASSERT_TRUE(plain_tag && coded_tag);
  EXPECT_NE(*plain_tag, *coded_tag);

  const auto not_modified =
      h.one(accepting("/a.txt", "gzip", "If-None-Match: " + *coded_tag + "\r\n"));
  EXPECT_EQ(not_modified.status, 304u);
  EXPECT_EQ(not_modified.field("ETag"), coded_tag);
  EXPECT_EQ(not_modified.field("Vary"), "Accept-Encoding");  // §15.4.5
  EXPECT_EQ(not_modified.field("Content-Encoding"), std::nullopt);

  // The original's tag does not validate the coded representation.
  const auto other = h.one(accepting("/a.txt", "gzip", "If-None-Match: " + *plain_tag + "\r\n"));
  EXPECT_EQ(other.status, 200u);
  EXPECT_EQ(other.body, twin);

  const auto part =
      h.one(accepting("/a.txt", "gzip", "Range: bytes=0-1\r\nIf-Range: " + *coded_tag + "\r\n"));
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.body, twin.substr(0, 2));
  EXPECT_EQ(part.field("Content-Encoding"), "gzip");
  EXPECT_EQ(part.field("Content-Range"), "bytes 0-1/" + std::to_string(twin.size()));
}

TEST_F(precompressed, head_and_index_files_and_large_twins) {
  http_config c = precompressed_config();
  c.site.small_file_bytes = 4;  // the twins are sent from their files, not memory
  harness h(root, c);
  const auto head = h.one("HEAD /a.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.field("Content-Encoding"), "gzip");
  EXPECT_EQ(head.field("Content-Length"), std::to_string(twin.size()));
  const auto index = h.one(accepting("/site/"));
  EXPECT_EQ(index.body, twin);
  EXPECT_EQ(index.field("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(h.one(accepting("/a.txt")).body, twin);
}

TEST_F(precompressed, the_gz_file_asked_for_by_name_is_itself) {
  harness h(root, precompressed_config());
  const auto r = h.one(accepting("/a.txt.gz"));
  EXPECT_EQ(r.body, twin);
  EXPECT_EQ(r.field("Content-Type"), "application/gzip");
  EXPECT_EQ(r.field("Content-Encoding"), std::nullopt);
}

TEST_F(precompressed, the_best_coding_with_a_twin_is_chosen) {
  const std::string br_twin = "pretend-brotli";
  const std::string zstd_twin = "pretend-zstd";
  root.write("a.txt.br", br_twin);
  root.write("site/index.html.zst", zstd_twin);
  harness h(root, precompressed_config());
  struct expectation {
    const char* target;
    const char* codings;
    const std::string& body;
    std::optional<std::string> coding;
  };
  for (const expectation& e : {
           expectation{"/a.txt", "gzip, deflate, br, zstd", br_twin, "br"},
           expectation{"/a.txt", "gzip, br;q=0.5", twin, "gzip"},
           expectation{"/a.txt", "zstd, gzip;q=0", original, std::nullopt},  // no .zst twin
           expectation{"/site/", "br, zstd, gzip", zstd_twin, "zstd"},       // no .br twin
           expectation{"/site/", "gzip", twin, "gzip"},
       }) {
    const auto r = h.one(accepting(e.target, e.codings));
    EXPECT_EQ(r.body, e.body) << e.target << " " << e.codings;
    EXPECT_EQ(r.field("Content-Encoding"), e.coding) << e.target << " " << e.codings;
    EXPECT_EQ(r.field("Vary"), "Accept-Encoding");
  }
  // Each coding's twin has a tag of its own.
  const auto br = h.one(accepting("/a.txt", "br")).field("ETag");
  const auto gz = h.one(accepting("/a.txt", "gzip")).field("ETag");
  ASSERT_TRUE(br && gz);
  EXPECT_NE(*br, *gz);
  EXPECT_TRUE(br->ends_with("-br\""));
}

TEST_F(precompressed, repeated_accept_encoding_fields_are_one_list) {
  harness h(root, precompressed_config());
  const auto r = h.one(get("/a.txt", "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n"));
  EXPECT_EQ(r.body, twin);
}

TEST_F(precompressed, deferred_loads_of_the_twin_and_of_its_absence) {
  harness h(root, precompressed_config());
  h.site().cache().defer_misses(true);
  auto serve = [&h](const std::string& in) {
    const auto out = h.exchange_loading(in);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? wire_response{} : out.front();
  };
  EXPECT_EQ(serve(accepting("/a.txt")).body, twin);
  EXPECT_EQ(serve(accepting("/alone.txt")).body, original);
  // Both outcomes are remembered: neither request blocks again.
  for (const char* target : {"/a.txt", "/alone.txt"}) {
    const std::string in = accepting(target);
    EXPECT_EQ(h.conn().feed(std::span<const char>(in)), in.size()) << target;
    EXPECT_FALSE(h.conn().blocked()) << target;
    std::vector<wire_response> out;
    h.drain(out);
  }
}

// What accepted_codings_of() orders, as tokens: "br zstd gzip".
std::string order(std::optional<std::string_view> field) {
  const accepted_codings a = accepted_codings_of(field);
  std::string out;
  for (std::size_t i = 0; i < a.count; ++i) {
    if (!out.empty()) out.push_back(' ');
    out.append(coding_token(a.best_first[i]));
  }
  return out;
}

TEST(accepted_codings, named_with_a_weight_above_zero_best_first) {
  EXPECT_EQ(order("gzip"), "gzip");
  EXPECT_EQ(order("GZIP"), "gzip");
  EXPECT_EQ(order("x-gzip"), "gzip");
  EXPECT_EQ(order("gzip, deflate, br, zstd"), "br zstd gzip");  // ties: the server's order
  EXPECT_EQ(order("deflate, gzip;q=0.5, br;q=1.0"), "br gzip");
  EXPECT_EQ(order("br;q=0.2, gzip;q=0.9, zstd;q=0.5"), "gzip zstd br");
  EXPECT_EQ(order("gzip ; q=0.001"), "gzip");
  EXPECT_EQ(order("br, , gzip"), "br gzip");  // empty list elements are allowed
  EXPECT_EQ(order("*"), "br zstd gzip");
  EXPECT_EQ(order("gzip, *;q=0.1"), "gzip br zstd");
  EXPECT_EQ(order("br;q=0, *"), "zstd gzip");  // a named coding's weight rules
}

TEST(accepted_codings, refused_absent_or_malformed) {
  EXPECT_EQ(order(std::nullopt), "");  // no field: the file as it is
  EXPECT_EQ(order(""), "");            // only identity
  EXPECT_EQ(order("identity"), "");
  EXPECT_EQ(order("deflate, compress"), "");
  EXPECT_EQ(order("gzip;q=0"), "");
  EXPECT_EQ(order("gzip;q=0.000"), "");
  EXPECT_EQ(order("*;q=0"), "");
  EXPECT_EQ(order("gzip;q=2"), "");       // not a qvalue: the element is ignored
  EXPECT_EQ(order("gzip;q=0.5000"), "");  // at most three decimals
  EXPECT_EQ(order("gzip;q"), "");
  EXPECT_EQ(order("gzipx, xgzip, brotli"), "");
}

TEST(content_coding, twin_suffixes) {
  EXPECT_EQ(coding_of_twin("/a.js.br"), content_coding::br);
  EXPECT_EQ(coding_of_twin("/a.js.zst"), content_coding::zstd);
  EXPECT_EQ(coding_of_twin("/a.js.gz"), content_coding::gzip);
  EXPECT_EQ(coding_of_twin("/a.js"), std::nullopt);
  EXPECT_EQ(coding_of_twin("/a.tgz"), std::nullopt);
}

}  // namespace
}  // namespace overlap::http::testing
