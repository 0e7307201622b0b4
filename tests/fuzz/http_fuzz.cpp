// libFuzzer target for the sans-I/O HTTP core: arbitrary bytes, split into
// arbitrary chunks and sent with arbitrary partial writes, go through a
// connection serving a small docroot that contains a symlink to a secret
// outside it. Invariants checked on every response:
//   - the head is a complete HTTP/1.1 response head;
//   - a file body's fd refers to a file inside the docroot, and its range
//     lies within that file;
//   - no head or body contains the outside secret, unless the request itself
//     did (a redirect's Location repeats the request's path and query);
//   - Content-Length matches the body actually planned;
//   - nothing is queued after a response that closes the connection;
//   - the connection always makes progress (no livelock).
#include <overlap/http/added_fields.hpp>
#include <overlap/http/connection.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace {

namespace fs = std::filesystem;
using namespace overlap::http;

constexpr std::string_view secret = "OUTSIDE-SECRET-7f3a9c";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// Built once per process; removed at exit.
struct environment {
  fs::path base;
  std::set<std::pair<dev_t, ino_t>> inside_files;
  http_config config;
  std::unique_ptr<static_site> site;
  http_date_clock clock{std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}}};

  environment() {
    std::string tmpl = (fs::temp_directory_path() / "overlap-http-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) fail("mkdtemp");
    base = tmpl;
    const fs::path root = base / "www";
    write_file(base / "outside" / "secret.txt", std::string(secret) + "\n");
    write_file(root / "small.txt", "small text file\n");
    write_file(root / "index.html", "<h1>home</h1>\n");
    write_file(root / "exact.bin", std::string(4096, 'e'));
    write_file(root / "big.bin", std::string(50'000, 'b'));
    write_file(root / "empty.txt", "");
    write_file(root / "small.txt.gz", "pretend gzip twin\n");  // --precompressed twins
    write_file(root / "big.bin.gz", std::string(20'000, 'z'));
    write_file(root / "index.html.br", "pretend brotli twin\n");
    write_file(root / "dir" / "index.html", "<p>dir index</p>\n");
    write_file(root / "list" / "a.css", "a{}");
    write_file(root / "list" / ".hidden", "hidden");
    write_file(root / ".env", "dotfile");
    write_file(root / "404.html", "<p>not here</p>\n");  // --not-found-page
    fs::create_symlink(base / "outside" / "secret.txt", root / "escape.txt");
    fs::create_symlink(base / "outside", root / "outdir");
    fs::create_symlink("small.txt", root / "alias.txt");
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      struct stat st {};
      if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
        inside_files.insert({st.st_dev, st.st_ino});
    }
    config.limits.max_header_bytes = 1024;
    config.limits.max_target_bytes = 256;
    config.limits.max_body_discard_bytes = 512;
    config.max_pipelined_responses = 4;
    config.site.mime_types_path.clear();
    config.site.small_file_bytes = 4096;
    config.site.open_file_cache_entries = 4;  // exercise eviction with in-flight pins
    config.site.autoindex = true;
    config.site.precompressed = true;
    config.site.cache_control = "public, max-age=60";
    config.site.not_found_page = "/404.html";
    if (!add_response_field(config.added_fields, "X-Content-Type-Options: nosniff").empty()) {
      std::abort();
    }
    site = std::make_unique<static_site>(root.string(), config.site);
  }
  ~environment() {
    site.reset();
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

environment& env() {
  static environment e;
  return e;
}

// Deterministic split sizes drawn from the input's first bytes.
struct splitter {
  std::uint32_t state;
  std::size_t next(std::size_t max) {
    state = state * 1664525u + 1013904223u;
    return 1 + (state >> 8) % max;
  }
};

std::uint64_t content_length_of(std::string_view head) {
  const auto pos = head.find("\r\nContent-Length: ");
  if (pos == std::string_view::npos) return UINT64_MAX;
  return std::strtoull(head.data() + pos + 18, nullptr, 10);
}

// input_has_secret: the client sent the secret's text itself, so a response
// may repeat it; file bodies are still checked by inode.
void check_plan(const response_plan& p, bool input_has_secret) {
  const std::string_view head = p.head_bytes();
  if (!head.starts_with("HTTP/1.1 ") || !head.ends_with("\r\n\r\n")) fail("malformed head");
  if (!input_has_secret) {
    if (head.find(secret) != std::string_view::npos) fail("secret in head");
    if (p.body == body_kind::memory && p.memory.find(secret) != std::string_view::npos)
      fail("secret in memory body");
  }
  if (p.body == body_kind::file) {
    struct stat st {};
    if (::fstat(p.file.fd, &st) != 0) fail("file body fd is closed");
    if (env().inside_files.count({st.st_dev, st.st_ino}) == 0)
      fail("file body outside the docroot");
    if (p.file.length == 0 ||
        p.file.offset + p.file.length > static_cast<std::uint64_t>(st.st_size))
      fail("file range outside the file");
  }
  const std::uint64_t cl = content_length_of(head);
  if (p.body != body_kind::none && cl != p.body_length())
    fail("Content-Length differs from the body");
}

void drain(connection& c, splitter& split, bool input_has_secret) {
  std::array<iovec, max_gather_iovecs> iov{};
  while (c.has_output()) {
    for (std::size_t i = 0; i < c.pending(); ++i) {
      check_plan(c.pending_plan(i), input_has_secret);
      if (c.pending_plan(i).close_after && i + 1 != c.pending())
        fail("response queued after a closing one");
    }
    std::size_t available = 0;
    const std::size_t n = c.gather(iov);
    for (std::size_t i = 0; i < n; ++i) available += iov[i].iov_len;
    if (n == 0) {
      const auto f = c.next_file_body();
      if (!f) fail("output queued but nothing to send");
      available = static_cast<std::size_t>(f->length);
    }
    c.bytes_sent(std::min(available, split.next(4096)));  // partial writes
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  environment& e = env();
  splitter split{size > 0 ? data[0] * 2654435761u : 1u};
  connection c(connection_context{e.config, *e.site, e.clock, nullptr});
  const char* bytes = reinterpret_cast<const char*>(data);
  const bool input_has_secret =
      std::string_view(bytes, size).find(secret) != std::string_view::npos;
  std::size_t pos = 0;
  while (pos < size && !c.input_closed()) {
    const std::size_t chunk = std::min(size - pos, split.next(64));
    const std::size_t used = c.feed({bytes + pos, chunk});
    if (used > chunk) fail("feed consumed more than it was given");
    if (used == 0 && !c.queue_full() && !c.input_closed()) fail("feed made no progress");
    pos += used;
    drain(c, split, input_has_secret);
  }
  c.feed_eof();
  drain(c, split, input_has_secret);
  if (!c.should_close()) fail("connection not closable after EOF and flush");
  return 0;
}
