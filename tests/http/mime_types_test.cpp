#include <overlap/http/mime_types.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace overlap::http {
namespace {

TEST(mime_types, builtin_table_covers_common_types) {
  const mime_types m;
  EXPECT_EQ(m.lookup("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(m.lookup("a/b/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(m.lookup("x.json"), "application/json");
  EXPECT_EQ(m.lookup("x.wasm"), "application/wasm");
  EXPECT_EQ(m.lookup("x.woff2"), "font/woff2");
  EXPECT_EQ(m.lookup("x.svg"), "image/svg+xml");
  EXPECT_EQ(m.lookup("x.mp4"), "video/mp4");
}

TEST(mime_types, extension_lookup_is_case_insensitive) {
  const mime_types m;
  EXPECT_EQ(m.lookup("PHOTO.JPG"), "image/jpeg");
}

TEST(mime_types, unknown_or_missing_extension_is_octet_stream) {
  const mime_types m;
  EXPECT_EQ(m.lookup("README"), "application/octet-stream");
  EXPECT_EQ(m.lookup("x.nosuchext"), "application/octet-stream");
  EXPECT_EQ(m.lookup("dir.d/file"), "application/octet-stream");
  EXPECT_EQ(m.lookup("trailing."), "application/octet-stream");
}

TEST(mime_types, file_entries_override_and_extend_builtin) {
  const auto path =
      std::filesystem::temp_directory_path() / ("overlap-mime-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "# comment\n\napplication/x-custom  cst cus\ntext/x-special\tspc # trailing comment\n"
           "application/javascript js\nnot-a-type ext\n";
  }
  mime_types m;
  EXPECT_TRUE(m.load(path.string()));
  std::filesystem::remove(path);
  EXPECT_EQ(m.lookup("a.cst"), "application/x-custom");
  EXPECT_EQ(m.lookup("a.cus"), "application/x-custom");
  EXPECT_EQ(m.lookup("a.spc"), "text/x-special; charset=utf-8");
  EXPECT_EQ(m.lookup("a.js"), "application/javascript");
  EXPECT_EQ(m.lookup("a.ext"), "application/octet-stream");
  EXPECT_EQ(m.lookup("a.html"), "text/html; charset=utf-8");
}

TEST(mime_types, missing_file_keeps_builtin_table) {
  mime_types m;
  EXPECT_FALSE(m.load("/nonexistent/mime.types"));
  EXPECT_EQ(m.lookup("a.png"), "image/png");
}

}  // namespace
}  // namespace overlap::http
