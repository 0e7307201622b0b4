// Helpers for the HTTP core tests: a temporary docroot and a connection
// harness that turns response plans back into bytes.
#pragma once

#include <overlap/http/connection.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace overlap::http::testing {

// A directory under $TMPDIR, removed with everything in it at destruction.
class temp_docroot {
 public:
  temp_docroot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "overlap-http-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~temp_docroot() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  temp_docroot(const temp_docroot&) = delete;
  temp_docroot& operator=(const temp_docroot&) = delete;

  const std::filesystem::path& path() const { return root_; }

  void write(const std::string& rel, const std::string& content) const {
    const auto p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(root_ / rel); }
  void symlink(const std::string& target, const std::string& rel) const {
    std::filesystem::create_symlink(target, root_ / rel);
  }
  void set_mtime(const std::string& rel, std::int64_t seconds) const {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ::utimensat(AT_FDCWD, (root_ / rel).c_str(), times, 0);
  }

 private:
  std::filesystem::path root_;
};

// One response as a client would see it.
struct wire_response {
  unsigned status = 0;
  std::string head;
  std::string body;
  bool close_after = false;

  std::optional<std::string> field(std::string_view name) const {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      const std::size_t start = pos + 2;
      const std::size_t end = head.find("\r\n", start);
      const std::string_view line(head.data() + start, end - start);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos && colon == name.size()) {
        bool same = true;
        for (std::size_t i = 0; i < colon; ++i)
          same = same && std::tolower(static_cast<unsigned char>(line[i])) ==
                             std::tolower(static_cast<unsigned char>(name[i]));
        if (same) {
          std::string_view v = line.substr(colon + 1);
          while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
          return std::string(v);
        }
      }
      pos = end;
    }
    return std::nullopt;
  }
};

// Builds the shared per-thread objects and a connection over a temp docroot.
class harness {
 public:
  explicit harness(const temp_docroot& root, http_config config = make_config())
      : config_(std::move(config)),
        site_(root.path().string(), config_.site),
        clock_(std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}}) {
    reset();
  }

  static http_config make_config() {
    http_config c;
    c.site.mime_types_path.clear();  // built-in table: tests must not depend on the host
    return c;
  }

  void reset() {
    connection_context c{config_, site_, clock_, log_};
    c.counts = counts_;
    conn_ = std::make_unique<connection>(c);
  }
  void set_counts(response_counts* counts) {
    counts_ = counts;
    reset();
  }
  void set_log(access_log_sink* log) {
    log_ = log;
    reset();
  }

  connection& conn() { return *conn_; }
  static_site& site() { return site_; }
  http_date_clock& clock() { return clock_; }
  void advance(std::chrono::milliseconds d) { clock_.update(clock_.now() + d); }

  // Feeds everything (asserting it is all consumed unless input closes) and
  // drains every queued response.
  std::vector<wire_response> exchange(std::string_view input) {
    std::size_t used = 0;
    std::vector<wire_response> out;
    while (used < input.size() && !conn_->input_closed()) {
      used += conn_->feed(std::span<const char>(input.data() + used, input.size() - used));
      drain(out);
    }
    drain(out);
    return out;
  }

  // Sends everything queued, reading file bodies with pread.
  void drain(std::vector<wire_response>& out) {
    while (conn_->has_output()) {
      const response_plan& p = conn_->pending_plan(0);
      wire_response w;
      w.status = code(p.status);
      w.head = p.head_bytes();
      w.close_after = p.close_after;
      if (p.body == body_kind::memory) w.body.assign(p.memory);
      if (p.body == body_kind::file) {
        w.body.resize(p.file.length);
        const ssize_t n =
            ::pread(p.file.fd, w.body.data(), p.file.length, static_cast<off_t>(p.file.offset));
        EXPECT_EQ(n, static_cast<ssize_t>(p.file.length));
      }
      conn_->bytes_sent(p.total_bytes());
      out.push_back(std::move(w));
    }
  }

  // exchange() for a cache that defers misses (what the server does): each
  // time the connection blocks, the load it waits for is done synchronously
  // (as the server's loader would, asynchronously) and it resumes. Fails
  // the test if the loads do not converge.
  std::vector<wire_response> exchange_loading(std::string_view input) {
    std::size_t used = conn_->feed(std::span<const char>(input));
    for (int loads = 0; conn_->blocked(); ++loads) {
      if (loads == 16) {
        ADD_FAILURE() << "loads do not converge, last waiting for " << conn_->blocked_path();
        break;
      }
      site_.cache().load_now(conn_->blocked_path(), clock_.now());
      conn_->resume();
      site_.cache().drop_handoff();
      used += conn_->feed(std::span<const char>(input).subspan(used));
    }
    EXPECT_EQ(used, input.size());
    std::vector<wire_response> out;
    drain(out);
    return out;
  }

  wire_response one(std::string_view input) {
    auto r = exchange(input);
    EXPECT_EQ(r.size(), 1u) << "for input: " << input;
    return r.empty() ? wire_response{} : r.front();
  }

 private:
  http_config config_;
  static_site site_;
  http_date_clock clock_;
  access_log_sink* log_ = nullptr;
  response_counts* counts_ = nullptr;
  std::unique_ptr<connection> conn_;
};

// The bytes a gather() result describes, back to back.
inline std::string concat(std::span<const iovec> iov) {
  std::string s;
  for (const auto& v : iov) s.append(static_cast<const char*>(v.iov_base), v.iov_len);
  return s;
}

inline std::string get(std::string_view target, std::string_view extra = {}) {
  std::string s = "GET ";
  s.append(target).append(" HTTP/1.1\r\nHost: example.test\r\n").append(extra).append("\r\n");
  return s;
}

}  // namespace overlap::http::testing
