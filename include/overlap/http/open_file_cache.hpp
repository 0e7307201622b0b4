// Open-file cache: one entry per normalised path, holding the open fd, the
// file's identity (inode, size, mtime), its validators, content type, the
// pre-rendered representation header lines and, for small files, the bytes.
#pragma once

#include <overlap/http/file_descriptor.hpp>
#include <overlap/http/limits.hpp>

#include <sys/stat.h>
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

// A small file's whole 200 response to a plain GET (status line, fields,
// blank line, then the body), rendered for one second's Date and shared by
// every such response in that second: one buffer, one send, nothing rendered
// per request. Responses still being sent keep theirs alive.
struct rendered_response {
  std::int64_t date_seconds = 0;
  std::size_t head_length = 0;
  std::string bytes;

  std::string_view head() const noexcept { return std::string_view(bytes).substr(0, head_length); }
  std::string_view body() const noexcept { return std::string_view(bytes).substr(head_length); }
};

// A file's representation header lines, rendered once:
//   Content-Type: …\r\n  [Content-Encoding: br|zstd|gzip\r\n]
//   ETag: …\r\n  Last-Modified: …\r\n  [Cache-Control: …\r\n]  [Vary: Accept-Encoding\r\n]
//   Accept-Ranges: bytes\r\n  Content-Length: N\r\n
// and views that select the parts each response needs.
struct header_block {
  std::string etag;  // the entity-tag these lines carry, quotes included
  std::string lines;
  std::size_t not_modified_offset = 0;  // from ETag to the line before Accept-Ranges
  std::size_t not_modified_length = 0;
  std::size_t content_length_offset = 0;  // the trailing Content-Length line

  bool empty() const noexcept { return lines.empty(); }
  std::string_view all() const noexcept { return lines; }
  // The Content-Type line alone (for the file as the content of an error).
  std::string_view content_type() const noexcept {
    const std::size_t end = lines.find("\r\n");
    return end == std::string::npos ? std::string_view()
                                    : std::string_view(lines).substr(0, end + 2);
  }
  // What a 304 repeats of the 200 (RFC 9110 §15.4.5): the validators,
  // Cache-Control and Vary, none of the content's own fields.
  std::string_view not_modified() const noexcept {
    return std::string_view(lines).substr(not_modified_offset, not_modified_length);
  }
  // Everything except Content-Length (for 206, whose length differs).
  std::string_view without_length() const noexcept {
    return std::string_view(lines).substr(0, content_length_offset);
  }
};

// One opened file or directory. Immutable once published: a change on disk
// produces a new entry, so a response holding the old one stays consistent.
// (Except `ok_response`, a rendering of it that connections of the one thread
// that owns the cache refresh once a second.)
struct cached_file {
  enum class kind : std::uint8_t { regular, directory };

  kind type = kind::regular;
  file_descriptor fd;  // regular: O_RDONLY; directory: O_PATH
  std::uint64_t size = 0;
  std::int64_t mtime_seconds = 0;  // Last-Modified
  std::int64_t mtime_nanoseconds = 0;
  ino_t inode = 0;
  dev_t device = 0;

  // Strong: "\"<hex mtime ns>-<hex size>\"", quotes included. (The same
  // bytes served as a coding of another name have "…-br", "…-zstd" or
  // "…-gzip": another representation, so another tag; see
  // as_coded_original.etag.)
  std::string etag;
  std::string body;  // whole file when size <= small_file_bytes (body_in_memory)
  bool body_in_memory = false;

  // The file served as itself.
  header_block headers;
  // With precompressed twins on, a file named "X.br", "X.zst" or "X.gz"
  // served for a request of X: X's Content-Type, and the suffix's coding as
  // Content-Encoding. Empty otherwise.
  header_block as_coded_original;

  // Renderings of the 200 response, for body_in_memory files (see
  // connection::ok_response): this second's, and the one before it, which
  // the next second rewrites in place once no response holds it any more,
  // so a busy file allocates nothing from second to second. Only the thread
  // that owns the cache touches them.
  mutable std::shared_ptr<rendered_response> ok_response;
  mutable std::shared_ptr<rendered_response> ok_spare;
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
  pending,    // deferred mode: to be loaded by the caller, see pending_path()
};

struct open_result {
  open_status status = open_status::not_found;
  int error_number = 0;
  file_pin file;
};

// What a stat says about a path, for revalidating a cached entry.
struct file_identity {
  bool directory = false;
  bool regular = false;
  std::uint64_t size = 0;
  std::int64_t mtime_seconds = 0;
  std::int64_t mtime_nanoseconds = 0;
  ino_t inode = 0;
  dev_t device = 0;
};
file_identity identity_of(const struct stat& st) noexcept;

// Not thread-safe: one cache per thread/shard, like the proactor that
// drives it. The docroot fd must outlive the cache.
class open_file_cache {
 public:
  using time_point = std::chrono::system_clock::time_point;

  struct options {
    std::size_t max_entries = default_open_file_cache_entries;
    std::size_t small_file_bytes = default_small_file_bytes;
    std::chrono::milliseconds revalidate_interval_ms = default_revalidate_interval_ms;
    std::string cache_control;  // field value for every file response; empty: none
    // Render "X.br", "X.zst" and "X.gz" entries for serving as a coding of
    // X too, and add "Vary: Accept-Encoding" to every file's lines.
    bool precompressed = false;
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

  // --- deferred mode (a server whose event loop must not block on the disk)
  // With defer_misses(true), open() performs no syscall at all: a miss, or a
  // hit due for revalidation, returns open_status::pending and records the
  // path in pending_path(). The caller loads the file asynchronously (the
  // same openat2/statx/read steps as a synchronous miss, see load_steps), then
  // hands over the outcome with complete(); the next open() of that path
  // returns it (once, for a failure; from the cache, for a success).
  void defer_misses(bool on) noexcept { defer_ = on; }
  bool defers_misses() const noexcept { return defer_; }
  std::string_view pending_path() const noexcept { return pending_path_; }
  // True when pending_path() is a cached entry due for revalidation rather
  // than a miss: a stat of the path (statx, following symlinks, as the
  // synchronous mode's fstatat) then decides, through revalidated().
  bool pending_is_revalidation() const noexcept { return pending_revalidation_; }
  // An unchanged file keeps its entry, due again one interval later, and is
  // handed over (status ok). Otherwise status pending: load it anew.
  open_result revalidated(std::string_view path, const file_identity& now_on_disk, time_point now);
  // `loaded` is the file as the caller found it (type, fd, size, mtime,
  // identity and, for a small regular file, its bytes); the cache derives the
  // ETag and header lines, and keeps it. For a failure pass a null `loaded`
  // and the status and errno. Returns what open(path) will return next.
  open_result complete(std::string_view path, open_status status, int error_number,
                       std::shared_ptr<cached_file> loaded, time_point now);
  // Hands `r` over (again) to the next open(path): for each of several
  // requests that waited for the same load.
  void hand_over(std::string_view path, const open_result& r);
  // Forgets an outcome handed over that no open() consumed.
  void drop_handoff() noexcept { handoff_active_ = false; }

  // The same synchronous load open() does on a miss (for callers whose
  // asynchronous load is not available), as a complete()d outcome.
  open_result load_now(std::string_view path, time_point now);

  // Shared with asynchronous loaders: errno → status, and the docroot-relative
  // path openat2 wants ("." for "/").
  static open_status classify(int error_number) noexcept;
  static std::string relative_path(std::string_view path);
  std::size_t small_file_bytes() const noexcept { return opts_.small_file_bytes; }
  int docroot_fd() const noexcept { return docroot_fd_; }

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
  void finish_entry(std::string_view path, cached_file& f) const;
  void insert(std::string_view path, const file_pin& file, time_point now);
  bool still_current(const node& n) const;
  static bool same_file(const cached_file& f, const file_identity& id) noexcept;
  void evict_if_full();

  int docroot_fd_;
  const mime_types& types_;
  options opts_;
  lru_list lru_;                                                    // most recently used first
  std::unordered_map<std::string_view, lru_list::iterator> index_;  // keys view node::key
  statistics stats_;
  bool defer_ = false;
  std::string pending_path_;  // capacity reused
  bool pending_revalidation_ = false;
  bool handoff_active_ = false;
  std::string handoff_path_;
  open_result handoff_;
};

}  // namespace overlap::http
