#include "file_loader.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "overlap/file.hpp"

namespace overlap::server {

// One load in flight. Shared by the operation in flight, which keeps it (and
// the buffers the kernel writes into) alive until the kernel is done with
// them, and listed by the loader while the loader lasts.
struct load_job {
  using ptr = std::shared_ptr<load_job>;

  file_loader* loader = nullptr;  // null once the loader is gone
  std::string path;               // cache key
  std::string rel;                // docroot-relative, for openat2
  open_how how{};
  struct statx sx {};
  int probe_fd = -1;  // the O_PATH descriptor
  std::shared_ptr<http::cached_file> file;
  file_loader::waiter* waiters = nullptr;
  load_job* prev = nullptr;
  load_job* next = nullptr;

  load_job() = default;
  load_job(const load_job&) = delete;
  load_job& operator=(const load_job&) = delete;
  ~load_job() {
    if (probe_fd >= 0) ::close(probe_fd);
  }

  static void start(const ptr& j);
  static void revalidate(const ptr& j);
  static void on_revalidate_stat(const ptr& j, std::error_code ec);
  static void on_probe(const ptr& j, std::error_code ec, std::size_t fd);
  static void on_probe_stat(const ptr& j, std::error_code ec);
  static void on_open(const ptr& j, std::error_code ec, std::size_t fd);
  static void on_stat(const ptr& j, std::error_code ec);
  static void on_read(const ptr& j, std::error_code ec, std::size_t n);
  static void fail(const ptr& j, std::error_code ec);
};

namespace {

constexpr std::uint64_t beneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

http::file_identity identity_of(const struct statx& sx) noexcept {
  http::file_identity id;
  id.directory = S_ISDIR(sx.stx_mode);
  id.regular = S_ISREG(sx.stx_mode);
  id.size = sx.stx_size;
  id.mtime_seconds = sx.stx_mtime.tv_sec;
  id.mtime_nanoseconds = sx.stx_mtime.tv_nsec;
  id.inode = static_cast<ino_t>(sx.stx_ino);
  id.device = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  return id;
}

void describe(http::cached_file& f, const struct statx& sx) noexcept {
  const http::file_identity id = identity_of(sx);
  f.size = id.size;
  f.mtime_seconds = id.mtime_seconds;
  f.mtime_nanoseconds = id.mtime_nanoseconds;
  f.inode = id.inode;
  f.device = id.device;
}

}  // namespace

// --- the steps (each runs in a completion; a gone loader ends the load) ----

// A cached entry due for revalidation: one statx of the path (following a
// final symlink, as the synchronous mode's fstatat) decides; only a changed
// or vanished file is loaded anew.
void load_job::revalidate(const ptr& j) {
  async_statx_at(j->loader->proactor_, j->loader->cache_.docroot_fd(), j->rel.c_str(), 0, j->sx,
                 [j](std::error_code ec, std::size_t) { on_revalidate_stat(j, ec); });
}

void load_job::on_revalidate_stat(const ptr& j, std::error_code ec) {
  if (j->loader == nullptr) return;
  if (!ec) {
    const http::open_result r = j->loader->cache_.revalidated(j->path, identity_of(j->sx),
                                                              std::chrono::system_clock::now());
    if (r.status == http::open_status::ok) {
      ++j->loader->stats_.unchanged;
      j->loader->deliver(*j, r);
      return;
    }
  }
  start(j);  // changed, gone or unreadable: the full load says what it is now
}

void load_job::start(const ptr& j) {
  j->how = {};
  // O_PATH first: opening a FIFO or a device for reading could block or have
  // side effects; only regular files are opened for reading (as the cache's
  // synchronous load does).
  j->how.flags = O_PATH | O_CLOEXEC;
  j->how.resolve = beneath;
  async_openat2(j->loader->proactor_, j->loader->cache_.docroot_fd(), j->rel.c_str(), j->how,
                [j](std::error_code ec, std::size_t fd) { on_probe(j, ec, fd); });
}

void load_job::on_probe(const ptr& j, std::error_code ec, std::size_t fd) {
  if (!ec) j->probe_fd = static_cast<int>(fd);
  if (j->loader == nullptr) return;
  if (ec == std::errc::operation_not_supported) {
    j->loader->use_sync_ = true;  // an older kernel: from now on, synchronously
    j->loader->load_synchronously(*j);
    return;
  }
  if (ec) return fail(j, ec);
  async_statx(j->loader->proactor_, j->probe_fd, j->sx,
              [j](std::error_code e, std::size_t) { on_probe_stat(j, e); });
}

void load_job::on_probe_stat(const ptr& j, std::error_code ec) {
  if (j->loader == nullptr) return;
  if (ec) return fail(j, ec);
  if (S_ISDIR(j->sx.stx_mode)) {
    j->file = std::make_shared<http::cached_file>();
    j->file->type = http::cached_file::kind::directory;
    j->file->fd.reset(std::exchange(j->probe_fd, -1));
    describe(*j->file, j->sx);
    j->loader->finish(*j, http::open_status::ok, 0);
    return;
  }
  if (!S_ISREG(j->sx.stx_mode)) {
    j->loader->finish(*j, http::open_status::forbidden, 0);  // only regular files are served
    return;
  }
  j->how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  async_openat2(j->loader->proactor_, j->loader->cache_.docroot_fd(), j->rel.c_str(), j->how,
                [j](std::error_code e, std::size_t fd) { on_open(j, e, fd); });
}

void load_job::on_open(const ptr& j, std::error_code ec, std::size_t fd) {
  j->file = std::make_shared<http::cached_file>();
  if (!ec) j->file->fd.reset(static_cast<int>(fd));
  if (j->probe_fd >= 0) ::close(std::exchange(j->probe_fd, -1));
  if (j->loader == nullptr) return;
  if (ec) return fail(j, ec);
  // Describe the descriptor we serve, not the probe.
  async_statx(j->loader->proactor_, j->file->fd.get(), j->sx,
              [j](std::error_code e, std::size_t) { on_stat(j, e); });
}

void load_job::on_stat(const ptr& j, std::error_code ec) {
  if (j->loader == nullptr) return;
  if (ec) return fail(j, ec);
  if (!S_ISREG(j->sx.stx_mode)) {
    j->loader->finish(*j, http::open_status::forbidden, 0);
    return;
  }
  http::cached_file& f = *j->file;
  describe(f, j->sx);
  if (f.size > j->loader->cache_.small_file_bytes()) {
    j->loader->finish(*j, http::open_status::ok, 0);  // sent with sendfile: nothing to read
    return;
  }
  f.body.resize(f.size);
  async_read_at(j->loader->proactor_, f.fd.get(), std::span<char>(f.body), 0,
                [j](std::error_code e, std::size_t n) { on_read(j, e, n); });
}

void load_job::on_read(const ptr& j, std::error_code ec, std::size_t n) {
  if (j->loader == nullptr) return;
  if (ec) return fail(j, ec);
  j->file->body.resize(n);  // truncated under us: serve what is there
  j->file->body_in_memory = true;
  j->loader->finish(*j, http::open_status::ok, 0);
}

void load_job::fail(const ptr& j, std::error_code ec) {
  // errno values map as for a synchronous open (ENOENT and EXDEV → 404, ...);
  // anything else, such as a cancellation at shutdown, is an error.
  const bool is_errno = ec.category() == std::system_category();
  const int error_number = is_errno ? ec.value() : EIO;
  j->loader->finish(
      *j, is_errno ? http::open_file_cache::classify(error_number) : http::open_status::error,
      error_number);
}

// --- the loader ----------------------------------------------------------

void file_loader::waiter::unlink() noexcept {
  if (job_ == nullptr) return;
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    job_->waiters = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  job_ = nullptr;
  prev_ = next_ = nullptr;
}

file_loader::file_loader(proactor& p, http::open_file_cache& cache) : proactor_(p), cache_(cache) {}

file_loader::~file_loader() {
  // Loads still in flight end quietly when their operation completes or is
  // destroyed with the proactor; nobody is told.
  for (load_job* j = jobs_; j != nullptr; j = j->next) {
    j->loader = nullptr;
    while (j->waiters != nullptr) j->waiters->unlink();
  }
  jobs_ = nullptr;
}

void file_loader::add_waiter(load_job& j, waiter& w) noexcept {
  w.unlink();
  w.job_ = &j;
  w.prev_ = nullptr;
  w.next_ = j.waiters;
  if (j.waiters != nullptr) j.waiters->prev_ = &w;
  j.waiters = &w;
}

void file_loader::load(std::string_view path, waiter& w) {
  for (load_job* j = jobs_; j != nullptr; j = j->next) {
    if (j->path == path) {
      ++stats_.joined;
      add_waiter(*j, w);
      return;
    }
  }
  ++stats_.loads;
  auto j = std::make_shared<load_job>();
  j->loader = this;
  j->path.assign(path);
  j->rel = http::open_file_cache::relative_path(path);
  j->next = jobs_;
  if (jobs_ != nullptr) jobs_->prev = j.get();
  jobs_ = j.get();
  add_waiter(*j, w);
  const bool revalidation = cache_.pending_is_revalidation() && cache_.pending_path() == path;
  if (use_sync_) {
    // Never call back from inside load(): finish on the next turn.
    proactor_.post([j] {
      if (j->loader != nullptr) j->loader->load_synchronously(*j);
    });
    return;
  }
  if (revalidation) {
    load_job::revalidate(j);
  } else {
    load_job::start(j);
  }
}

void file_loader::load_synchronously(load_job& j) {
  ++stats_.synchronous_fallbacks;
  deliver(j, cache_.load_now(j.path, std::chrono::system_clock::now()));
}

void file_loader::finish(load_job& j, http::open_status status, int error_number) {
  deliver(j, cache_.complete(j.path, status, error_number, std::move(j.file),
                             std::chrono::system_clock::now()));
}

void file_loader::deliver(load_job& j, const http::open_result& outcome) {
  // Off the list first: a waiter that needs this path again starts afresh.
  if (j.prev != nullptr) {
    j.prev->next = j.next;
  } else if (jobs_ == &j) {
    jobs_ = j.next;
  }
  if (j.next != nullptr) j.next->prev = j.prev;
  j.prev = j.next = nullptr;
  j.loader = nullptr;

  // Each waiter answers its request from the outcome, handed over again for
  // each (a failure is not cached).
  while (waiter* w = j.waiters) {
    w->unlink();
    cache_.hand_over(j.path, outcome);
    w->on_file_loaded();  // may destroy w, or start another load
    cache_.drop_handoff();
  }
}

}  // namespace overlap::server
