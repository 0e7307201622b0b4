#include <overlap/http/static_site.hpp>

#include "autoindex.hpp"

#include <fcntl.h>

#include <system_error>

namespace overlap::http {
namespace {

file_descriptor open_docroot(const std::string& path) {
  const int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "open docroot " + path);
  }
  return file_descriptor(fd);
}

open_file_cache::options cache_options(const site_options& o) {
  return {o.open_file_cache_entries, o.small_file_bytes, o.revalidate_interval_ms, o.cache_control,
          o.precompressed};
}

bool older(const cached_file& a, const cached_file& b) noexcept {
  return a.mtime_seconds != b.mtime_seconds ? a.mtime_seconds < b.mtime_seconds
                                            : a.mtime_nanoseconds < b.mtime_nanoseconds;
}

}  // namespace

static_site::static_site(const std::string& docroot, site_options options)
    : static_site(open_docroot(docroot), std::move(options)) {}

static_site::static_site(file_descriptor docroot, site_options options)
    : docroot_(std::move(docroot)),
      options_(std::move(options)),
      cache_(docroot_.get(), types_, cache_options(options_)) {
  if (!options_.mime_types_path.empty()) {
    types_.load(options_.mime_types_path);
  }
  scratch_.reserve(256);
}

site_lookup static_site::failure(open_status s, std::string_view path, int error_number) {
  switch (s) {
    case open_status::not_found:
      return {site_lookup::outcome::error, http_status::not_found, nullptr};
    case open_status::forbidden:
      return {site_lookup::outcome::error, http_status::forbidden, nullptr};
    case open_status::ok:
    case open_status::error:
    case open_status::pending:
      break;
  }
  // Unexpected errno (EMFILE, EIO, ...): 500, and tell the operator.
  if (report_) {
    report_(path, error_number);
  }
  return {site_lookup::outcome::error, http_status::internal_server_error, nullptr};
}

site_lookup static_site::file_or_twin(std::string_view file_path, file_pin file,
                                      const accepted_codings& codings, time_point now) {
  if (!options_.precompressed) {
    return {site_lookup::outcome::file, http_status::ok, std::move(file)};
  }
  for (std::size_t i = 0; i < codings.count; ++i) {
    twin_.assign(file_path).append(twin_suffix(codings.best_first[i]));
    if (known_absent(twin_, now, absence::missing_or_unusable)) {
      continue;
    }
    open_result t = cache_.open(twin_, now);
    if (t.status == open_status::pending) {
      return {site_lookup::outcome::pending, http_status::ok, nullptr};
    }
    // A twin older than its original was made from an earlier version of
    // it: stale content is worse than uncompressed content.
    if (t.status == open_status::ok && !t.file->as_coded_original.empty() &&
        !older(*t.file, *file)) {
      return {site_lookup::outcome::file, http_status::ok, std::move(t.file), true};
    }
    // Missing, a directory, unreadable, stale: not looked for again until
    // the cache would revalidate an entry. Only "missing" also answers a
    // request for the twin by its own name.
    remember_absent(
        twin_, now,
        t.status == open_status::not_found ? absence::missing : absence::missing_or_unusable);
  }
  return {site_lookup::outcome::file, http_status::ok, std::move(file)};
}

bool static_site::known_absent(std::string_view path, time_point now, absence wanted) {
  if (absent_.empty()) {
    return false;  // the usual case: no lookup cost at all
  }
  absent_key_.assign(path);
  const auto it = absent_.find(absent_key_);
  if (it == absent_.end()) {
    return false;
  }
  if (now >= it->second.until) {
    absent_.erase(it);  // time to look again
    return false;
  }
  return wanted == absence::missing_or_unusable || it->second.kind == absence::missing;
}

void static_site::remember_absent(std::string_view path, time_point now, absence kind) {
  if (absent_.size() >= options_.open_file_cache_entries) {
    absent_.clear();
  }
  absent_.insert_or_assign(std::string(path),
                           absent_entry{now + options_.revalidate_interval_ms, kind});
}

site_lookup static_site::resolve(std::string_view path, time_point now, std::string& listing,
                                 const accepted_codings& codings) {
  site_lookup found = path_or_fallback(path, now, listing, codings);
  if (found.kind == site_lookup::outcome::error && found.status == http_status::not_found) {
    return not_found(now);
  }
  return found;
}

site_lookup static_site::not_found(time_point now) {
  site_lookup plain{site_lookup::outcome::error, http_status::not_found, nullptr};
  const std::string& page = options_.not_found_page;
  if (page.empty()) {
    return plain;
  }
  open_result r = stand_in(page, now);
  if (r.status == open_status::pending) {
    return {site_lookup::outcome::pending, http_status::ok, nullptr};
  }
  if (r.status != open_status::ok) {
    return plain;
  }
  return {site_lookup::outcome::file, http_status::not_found, std::move(r.file)};
}

open_result static_site::stand_in(const std::string& path, time_point now) {
  open_result r = cache_.open(path, now);
  // Only a regular file stands in: never a listing or a redirect, whatever
  // is at its path.
  if (r.status == open_status::ok && r.file->type != cached_file::kind::regular) {
    return {open_status::not_found, 0, nullptr};
  }
  return r;
}

site_lookup static_site::path_or_fallback(std::string_view path, time_point now,
                                          std::string& listing, const accepted_codings& codings) {
  const std::string& fallback = options_.fallback;
  if (path == fallback) {
    return resolve_path(path, now, listing, codings);
  }
  site_lookup found{site_lookup::outcome::error, http_status::not_found, nullptr};
  if (!known_absent(path, now, absence::missing)) {
    found = resolve_path(path, now, listing, codings);
    if (found.kind != site_lookup::outcome::error || found.status != http_status::not_found) {
      return found;
    }
    remember_absent(path, now, absence::missing);
  }
  if (fallback.empty()) {
    return found;
  }
  open_result r = stand_in(fallback, now);
  if (r.status == open_status::pending) {
    return {site_lookup::outcome::pending, http_status::ok, nullptr};
  }
  if (r.status != open_status::ok) {
    return found;
  }
  return file_or_twin(fallback, std::move(r.file), codings, now);
}

site_lookup static_site::resolve_path(std::string_view path, time_point now, std::string& listing,
                                      const accepted_codings& codings) {
  const bool directory_request = path.size() > 1 && path.back() == '/';
  const std::string_view key = directory_request ? path.substr(0, path.size() - 1) : path;
  open_result r = cache_.open(key, now);
  if (r.status == open_status::pending) {
    return {site_lookup::outcome::pending, http_status::ok, nullptr};
  }
  if (r.status != open_status::ok) {
    return failure(r.status, key, r.error_number);
  }

  if (r.file->type == cached_file::kind::regular) {
    // "/file.txt/" names a directory that does not exist (POSIX: ENOTDIR).
    if (directory_request) {
      return {site_lookup::outcome::error, http_status::not_found, nullptr};
    }
    return file_or_twin(key, std::move(r.file), codings, now);
  }
  // A directory. Without the trailing '/', relative links in its index page
  // would resolve against the parent, hence the redirect.
  if (!directory_request && path != "/") {
    return {site_lookup::outcome::redirect, http_status::moved_permanently, nullptr};
  }

  for (const std::string& index : options_.index_names) {
    scratch_.assign(path);
    if (scratch_.back() != '/') {
      scratch_.push_back('/');
    }
    scratch_.append(index);
    open_result ir = cache_.open(scratch_, now);
    if (ir.status == open_status::pending) {
      return {site_lookup::outcome::pending, http_status::ok, nullptr};
    }
    if (ir.status == open_status::ok) {
      if (ir.file->type == cached_file::kind::regular) {
        return file_or_twin(scratch_, std::move(ir.file), codings, now);
      }
      continue;  // a directory called index.html is not an index file
    }
    if (ir.status != open_status::not_found) {
      return failure(ir.status, scratch_, ir.error_number);
    }
  }
  if (!options_.autoindex) {
    return {site_lookup::outcome::error, http_status::forbidden, nullptr};
  }
  if (!render_autoindex(r.file->fd.get(), path, options_.serve_dotfiles,
                        options_.autoindex_max_entries, listing)) {
    return failure(open_status::error, path, errno);
  }
  return {site_lookup::outcome::listing, http_status::ok, nullptr};
}

}  // namespace overlap::http
