// The document root: maps a normalised request path to a file, a directory
// redirect, an index file, a generated listing, or an error status.
#pragma once

#include <overlap/http/content_coding.hpp>
#include <overlap/http/file_descriptor.hpp>
#include <overlap/http/limits.hpp>
#include <overlap/http/mime_types.hpp>
#include <overlap/http/open_file_cache.hpp>
#include <overlap/http/status.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace overlap::http {

struct site_lookup {
  enum class outcome : std::uint8_t {
    file,      // serve `file`: status ok (200-class), or not_found (the 404 page)
    redirect,  // 301: a directory named without its trailing '/'
    listing,   // 200: generated autoindex HTML is in the caller's buffer
    error,     // `status` is 403, 404 or 500
    pending,   // the cache defers misses: load cache().pending_path(), then resolve again
  };
  outcome kind = outcome::error;
  http_status status = http_status::not_found;
  file_pin file;
  // `file` is the requested file's precompressed twin ("X.br", "X.zst" or
  // "X.gz" for X), to be sent with its as_coded_original header lines.
  bool twin = false;
};

// Not thread-safe: one per thread/shard (it owns an open_file_cache).
class static_site {
 public:
  using time_point = std::chrono::system_clock::time_point;
  // Called for failures that map to 500 (an unexpected errno), so they can
  // be logged; never called for 403/404.
  using error_reporter = std::function<void(std::string_view path, int error_number)>;

  // Opens `docroot` with O_PATH|O_DIRECTORY. Set-up: throws std::system_error
  // if it cannot be opened. Loads options.mime_types_path if non-empty.
  static_site(const std::string& docroot, site_options options);
  // Takes ownership of an already-open directory fd.
  static_site(file_descriptor docroot, site_options options);

  // `path` comes from normalize_path(): starts with '/', ends with '/' when a
  // directory was requested. `listing` (capacity reused) receives the HTML of
  // an autoindex page when the outcome is `listing`. `codings`: what the
  // client accepts (accepted_codings_of()); with options().precompressed, a
  // regular file's twins in those codings are looked up, best first, and
  // the first one there (and not older than the file) is served instead.
  // With options().fallback, a path whose file does not exist resolves to
  // the fallback file instead (a missing fallback file stays 404).
  // With options().not_found_page, a 404 comes back as that file with
  // status not_found (outcome file; see not_found()).
  site_lookup resolve(std::string_view path, time_point now, std::string& listing,
                      const accepted_codings& codings = {});
  // What a 404 sends: options().not_found_page's file (outcome file, status
  // not_found; pending while it loads), or, without one or while it is
  // missing or not a regular file, the built-in page (outcome error).
  site_lookup not_found(time_point now);

  void set_error_reporter(error_reporter r) { report_ = std::move(r); }
  const site_options& options() const noexcept { return options_; }
  const mime_types& types() const noexcept { return types_; }
  open_file_cache& cache() noexcept { return cache_; }
  int docroot_fd() const noexcept { return docroot_.get(); }

 private:
  site_lookup failure(open_status s, std::string_view path, int error_number);
  // The file at `path` (the fallback, the 404 page) standing in for a
  // missing one: ok only for a regular file, pending while it loads.
  open_result stand_in(const std::string& path, time_point now);
  // resolve() before the 404 page: the path, or the fallback for a missing one.
  site_lookup path_or_fallback(std::string_view path, time_point now, std::string& listing,
                               const accepted_codings& codings);
  site_lookup resolve_path(std::string_view path, time_point now, std::string& listing,
                           const accepted_codings& codings);
  // The regular file found at `file_path`, or a twin of it.
  site_lookup file_or_twin(std::string_view file_path, file_pin file,
                           const accepted_codings& codings, time_point now);
  // The memory of paths found missing (see absent_). `missing`: nothing
  // there; `missing_or_unusable`: also a twin that exists but may not stand
  // in for its original (stale, not a regular file, unreadable).
  enum class absence : std::uint8_t { missing, missing_or_unusable };
  struct absent_entry {
    time_point until;
    absence kind;
  };
  // True if `path` is remembered as absent in the sense `wanted`.
  bool known_absent(std::string_view path, time_point now, absence wanted);
  void remember_absent(std::string_view path, time_point now, absence kind);

  file_descriptor docroot_;
  site_options options_;
  mime_types types_;
  open_file_cache cache_;
  std::string scratch_;     // key of the index file being tried
  std::string twin_;        // key of the twin being tried
  std::string absent_key_;  // lookup key for absent_ (capacity reused)
  // Paths found missing, and until when that is believed (one revalidation
  // interval, as for a cached file): requested paths that got 404 (or the
  // fallback), and twins found missing or unusable. The cache keeps no
  // failures, and most files have no twin, so without this each such
  // request would cost an open (a site without /favicon.ico gets one with
  // every page view); with deferred loads, a request waiting for several
  // outcomes (a missing path, the fallback, its missing twin) would lose
  // each one while it waited for the next, and never finish. At most
  // options_.open_file_cache_entries names; cleared when full.
  std::unordered_map<std::string, absent_entry> absent_;
  error_reporter report_;
};

}  // namespace overlap::http
