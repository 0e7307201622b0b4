#include <overlap/http/open_file_cache.hpp>

#include <overlap/http/content_coding.hpp>

#include <overlap/http/http_date.hpp>
#include <overlap/http/mime_types.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace overlap::http {
namespace {

// glibc 2.36 has no openat2() wrapper.
int open_beneath(int dirfd, const char* path, std::uint64_t flags) noexcept {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  // RESOLVE_BENEATH: no absolute paths, no ".." above dirfd, no symlink that
  // leads outside (EXDEV). RESOLVE_NO_MAGICLINKS: no /proc/self/fd tricks.
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EINTR) {
      return static_cast<int>(fd);
    }
  }
}

}  // namespace

open_status open_file_cache::classify(int error_number) noexcept {
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EXDEV:  // RESOLVE_BENEATH refused an escape
    case ELOOP:  // symlink loop, or a magic link
      return open_status::not_found;
    case EACCES:
    case EPERM:
      return open_status::forbidden;
    default:
      return open_status::error;
  }
}

// Path relative to the docroot as openat2 wants it: no leading '/'.
std::string open_file_cache::relative_path(std::string_view path) {
  if (path.size() <= 1) {
    return ".";
  }
  return std::string(path.substr(1));
}

namespace {

void append_number(std::string& out, std::uint64_t v, int base = 10) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, base);
  out.append(buf, r.ptr);
}

// What a block says beyond the file's own metadata.
struct representation {
  std::string_view content_type;
  std::string_view coding;         // Content-Encoding token; empty: none
  std::string_view cache_control;  // empty: none
  bool vary_accept_encoding = false;
};

void render(header_block& b, const cached_file& f, const representation& r) {
  b.etag = f.etag;
  if (!r.coding.empty()) {
    b.etag.pop_back();  // the closing quote
    b.etag.append("-").append(r.coding).push_back('"');
  }
  std::string& h = b.lines;
  h.clear();
  h.reserve(200 + r.content_type.size() + r.cache_control.size());
  h.append("Content-Type: ").append(r.content_type).append("\r\n");
  if (!r.coding.empty()) {
    h.append("Content-Encoding: ").append(r.coding).append("\r\n");
  }
  b.not_modified_offset = h.size();
  const auto date = format_http_date(f.mtime_seconds);
  h.append("ETag: ")
      .append(b.etag)
      .append("\r\nLast-Modified: ")
      .append(date.data(), date.size())
      .append("\r\n");
  if (!r.cache_control.empty()) {
    h.append("Cache-Control: ").append(r.cache_control).append("\r\n");
  }
  if (r.vary_accept_encoding) {
    h.append("Vary: Accept-Encoding\r\n");
  }
  b.not_modified_length = h.size() - b.not_modified_offset;
  h.append("Accept-Ranges: bytes\r\n");
  b.content_length_offset = h.size();
  h.append("Content-Length: ");
  append_number(h, f.size);
  h.append("\r\n");
}

bool read_whole(int fd, std::string& out, std::uint64_t size) {
  out.resize(size);
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    if (n == 0) {
      break;  // truncated under us: serve what is there
    }
    done += static_cast<std::uint64_t>(n);
  }
  out.resize(done);
  return true;
}

}  // namespace

open_file_cache::open_file_cache(int docroot_fd, const mime_types& types, options opts)
    : docroot_fd_(docroot_fd), types_(types), opts_(opts) {
  index_.reserve(opts_.max_entries);
}

void open_file_cache::clear() noexcept {
  index_.clear();
  lru_.clear();
}

open_result open_file_cache::open_uncached(std::string_view path) const {
  const std::string rel = relative_path(path);
  // O_PATH first: opening a FIFO or device for reading could block or have
  // side effects; only regular files are opened for reading.
  file_descriptor probe(open_beneath(docroot_fd_, rel.c_str(), O_PATH));
  if (!probe) {
    return {classify(errno), errno, nullptr};
  }
  struct stat st {};
  if (::fstat(probe.get(), &st) != 0) {
    return {open_status::error, errno, nullptr};
  }

  auto f = std::make_shared<cached_file>();
  if (S_ISDIR(st.st_mode)) {
    f->type = cached_file::kind::directory;
    f->fd = std::move(probe);
  } else if (S_ISREG(st.st_mode)) {
    f->type = cached_file::kind::regular;
    f->fd.reset(open_beneath(docroot_fd_, rel.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY));
    if (!f->fd) {
      return {classify(errno), errno, nullptr};
    }
    // The reopened fd is what we serve: describe it, not the probe.
    if (::fstat(f->fd.get(), &st) != 0) {
      return {open_status::error, errno, nullptr};
    }
    if (!S_ISREG(st.st_mode)) {
      return {open_status::forbidden, 0, nullptr};
    }
  } else {
    return {open_status::forbidden, 0, nullptr};  // only regular files are served
  }
  f->size = static_cast<std::uint64_t>(st.st_size);
  f->mtime_seconds = st.st_mtim.tv_sec;
  f->mtime_nanoseconds = st.st_mtim.tv_nsec;
  f->inode = st.st_ino;
  f->device = st.st_dev;
  if (f->type == cached_file::kind::regular && f->size <= opts_.small_file_bytes) {
    if (!read_whole(f->fd.get(), f->body, f->size)) {
      return {open_status::error, errno, nullptr};
    }
    f->size = f->body.size();
    f->body_in_memory = true;
  }
  finish_entry(path, *f);
  return {open_status::ok, 0, std::move(f)};
}

void open_file_cache::finish_entry(std::string_view path, cached_file& f) const {
  if (f.type != cached_file::kind::regular) {
    return;
  }
  // Strong validator: changes whenever mtime (to the nanosecond) or size do.
  const auto mtime_ns = static_cast<std::uint64_t>(f.mtime_seconds) * 1'000'000'000u +
                        static_cast<std::uint64_t>(f.mtime_nanoseconds);
  f.etag.clear();
  f.etag.push_back('"');
  append_number(f.etag, mtime_ns, 16);
  f.etag.push_back('-');
  append_number(f.etag, f.size, 16);
  f.etag.push_back('"');
  const bool twins = opts_.precompressed;
  render(f.headers, f, {types_.lookup(path), {}, opts_.cache_control, twins});
  f.as_coded_original.lines.clear();
  const std::optional<content_coding> coding = twins ? coding_of_twin(path) : std::nullopt;
  if (coding && path.size() > twin_suffix(*coding).size() + 1) {
    // Served for the original's name: the original's type, this coding.
    const std::string_view original = path.substr(0, path.size() - twin_suffix(*coding).size());
    render(f.as_coded_original, f,
           {types_.lookup(original), coding_token(*coding), opts_.cache_control, true});
  }
}

file_identity identity_of(const struct stat& st) noexcept {
  file_identity id;
  id.directory = S_ISDIR(st.st_mode);
  id.regular = S_ISREG(st.st_mode);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_seconds = st.st_mtim.tv_sec;
  id.mtime_nanoseconds = st.st_mtim.tv_nsec;
  id.inode = st.st_ino;
  id.device = st.st_dev;
  return id;
}

bool open_file_cache::same_file(const cached_file& f, const file_identity& id) noexcept {
  const bool same_kind = f.type == cached_file::kind::directory ? id.directory : id.regular;
  // A regular file read into memory may have been truncated while read; its
  // size then differs from st_size and the entry is simply reloaded.
  return same_kind && id.inode == f.inode && id.device == f.device && id.size == f.size &&
         id.mtime_seconds == f.mtime_seconds && id.mtime_nanoseconds == f.mtime_nanoseconds;
}

bool open_file_cache::still_current(const node& n) const {
  const std::string rel = relative_path(n.key);
  struct stat st {};
  if (::fstatat(docroot_fd_, rel.c_str(), &st, 0) != 0) {
    return false;
  }
  return same_file(*n.file, identity_of(st));
}

open_result open_file_cache::revalidated(std::string_view path, const file_identity& id,
                                         time_point now) {
  const auto it = index_.find(path);
  if (it == index_.end() || !same_file(*it->second->file, id)) {
    ++stats_.reopened;
    return {open_status::pending, 0, nullptr};
  }
  it->second->next_check = now + opts_.revalidate_interval_ms;
  open_result r{open_status::ok, 0, it->second->file};
  hand_over(path, r);
  return r;
}

void open_file_cache::evict_if_full() {
  while (!lru_.empty() && index_.size() >= opts_.max_entries) {
    // In-flight responses keep their own file_pin, so the fd closes only
    // when the last of them is done.
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

open_result open_file_cache::open(std::string_view path, time_point now) {
  if (handoff_active_ && path == handoff_path_) {
    handoff_active_ = false;  // what complete() handed over, exactly once
    return std::move(handoff_);
  }
  if (const auto it = index_.find(path); it != index_.end()) {
    const auto pos = it->second;
    if (now >= pos->next_check && defer_) {
      ++stats_.revalidations;
      pending_path_.assign(path);  // the loader stats it (and reloads it if changed)
      pending_revalidation_ = true;
      return {open_status::pending, 0, nullptr};
    }
    if (now >= pos->next_check) {
      ++stats_.revalidations;
      if (!still_current(*pos)) {
        ++stats_.reopened;
        index_.erase(it);
        lru_.erase(pos);
        return open(path, now);  // now a miss
      }
      pos->next_check = now + opts_.revalidate_interval_ms;
    }
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, pos);
    return {open_status::ok, 0, pos->file};
  }
  ++stats_.misses;
  if (defer_) {
    pending_path_.assign(path);
    pending_revalidation_ = false;
    return {open_status::pending, 0, nullptr};
  }
  open_result r = open_uncached(path);
  if (r.status == open_status::ok) {
    insert(path, r.file, now);
  }
  return r;
}

void open_file_cache::insert(std::string_view path, const file_pin& file, time_point now) {
  if (opts_.max_entries == 0) {
    return;
  }
  if (const auto it = index_.find(path); it != index_.end()) {
    // A reload replaces the entry; responses in flight keep the old one.
    const auto pos = it->second;
    index_.erase(it);
    lru_.erase(pos);
  }
  evict_if_full();
  lru_.push_front(node{std::string(path), file, now + opts_.revalidate_interval_ms});
  index_.emplace(lru_.front().key, lru_.begin());
}

open_result open_file_cache::complete(std::string_view path, open_status status, int error_number,
                                      std::shared_ptr<cached_file> loaded, time_point now) {
  open_result r{status, error_number, nullptr};
  if (status == open_status::ok && loaded) {
    if (loaded->type == cached_file::kind::regular && loaded->body_in_memory) {
      loaded->size = loaded->body.size();
    }
    finish_entry(path, *loaded);
    r.file = std::move(loaded);
    insert(path, r.file, now);
  } else if (status == open_status::ok) {
    r.status = open_status::error;  // nothing was loaded: a caller's bug, answered with 500
  }
  hand_over(path, r);
  return r;
}

void open_file_cache::hand_over(std::string_view path, const open_result& r) {
  handoff_active_ = true;
  handoff_path_.assign(path);
  handoff_ = r;
}

open_result open_file_cache::load_now(std::string_view path, time_point now) {
  open_result r = open_uncached(path);
  if (r.status == open_status::ok) {
    insert(path, r.file, now);
  }
  hand_over(path, r);
  return r;
}

}  // namespace overlap::http
