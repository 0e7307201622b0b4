// Open-file cache: one entry per normalised path, holding the open fd, the
// file's identity (inode, size, mtime), its validators, content type, the
// pre-rendered representation header lines and, for small files, the bytes.
#pragma once

#include <overlap/http/file_descriptor.hpp>
#include <overlap/http/limits.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace overlap::http {

class mime_types;

// One opened file or directory. Immutable once published: a change on disk
// produces a new entry, so a response holding the old one stays consistent.
struct cached_file {
  enum class kind : std::uint8_t { regular, directory };

  kind type = kind::regular;
  file_descriptor fd;  // regular: O_RDONLY; directory: O_PATH
  std::uint64_t size = 0;
  std::int64_t mtime_seconds = 0;  // Last-Modified
  std::int64_t mtime_nanoseconds = 0;
  ino_t inode = 0;
  dev_t device = 0;

  std::string etag;  // strong: "\"<hex mtime ns>-<hex size>\"", quotes included
  std::string body;  // whole file when size <= small_file_bytes (body_in_memory)
  bool body_in_memory = false;

  // "Content-Type: …\r\nETag: …\r\nLast-Modified: …\r\nAccept-Ranges: bytes\r\n
  //  Content-Length: N\r\n" rendered once; views select parts of it.
  std::string header_lines;
  std::size_t validators_offset = 0;  // ETag + Last-Modified lines
  std::size_t validators_length = 0;
  std::size_t content_length_offset = 0;  // the trailing Content-Length line

  std::string_view all_header_lines() const noexcept { return header_lines; }
  std::string_view validator_lines() const noexcept {
    return std::string_view(header_lines).substr(validators_offset, validators_length);
  }
  // Everything except Content-Length (for 206, whose length differs).
  std::string_view lines_without_length() const noexcept {
    return std::string_view(header_lines).substr(0, content_length_offset);
  }
};

// A reference that keeps an entry (fd and bytes) alive, even after the cache
// evicts or replaces it. Copying one costs a reference-count increment, no
// allocation; the entry is allocated once, when the file is opened.
using file_pin = std::shared_ptr<const cached_file>;

enum class open_status : std::uint8_t {
  ok,
  not_found,  // ENOENT, ENOTDIR, ENAMETOOLONG, and escapes refused by the kernel (EXDEV, ELOOP)
  forbidden,  // EACCES/EPERM, or not a regular file or directory (FIFO, device, socket)
  error,      // anything else; `error_number` says what
};

struct open_result {
  open_status status = open_status::not_found;
  int error_number = 0;
  file_pin file;
};

// Not thread-safe: one cache per thread/shard, like the proactor that
// drives it. The docroot fd must outlive the cache.
class open_file_cache {
 public:
  using time_point = std::chrono::system_clock::time_point;

  struct options {
    std::size_t max_entries = default_open_file_cache_entries;
    std::size_t small_file_bytes = default_small_file_bytes;
    std::chrono::milliseconds revalidate_interval_ms = default_revalidate_interval_ms;
  };

  // `docroot_fd`: an O_PATH|O_DIRECTORY (or ordinary directory) fd, not owned.
  // `types` must outlive the cache.
  open_file_cache(int docroot_fd, const mime_types& types, options opts);

  // Looks up `path` (normalised, starting with '/', no trailing '/' except
  // the root "/"). A hit is returned without any syscall unless the entry is
  // due for revalidation at `now`; then it is statx'ed and reopened if its
  // inode, size or mtime changed. Misses open the file with openat2(
  // RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so the kernel refuses any path
  // (symlinks included) that leads outside the docroot. Failures are not
  // cached.
  open_result open(std::string_view path, time_point now);

  std::size_t size() const noexcept { return index_.size(); }
  void clear() noexcept;

  struct statistics {
    std::uint64_t hits = 0, misses = 0, revalidations = 0, reopened = 0, evictions = 0;
  };
  const statistics& stats() const noexcept { return stats_; }

 private:
  struct node {
    std::string key;
    file_pin file;
    time_point next_check;
  };
  using lru_list = std::list<node>;

  open_result open_uncached(std::string_view path) const;
  bool still_current(const node& n) const;
  void evict_if_full();

  int docroot_fd_;
  const mime_types& types_;
  options opts_;
  lru_list lru_;                                                    // most recently used first
  std::unordered_map<std::string_view, lru_list::iterator> index_;  // keys view node::key
  statistics stats_;
};

}  // namespace overlap::http
