#include "autoindex.hpp"

#include <overlap/http/html_escape.hpp>
#include <overlap/http/target.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace overlap::http {
namespace {

struct dir_closer {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

}  // namespace

bool render_autoindex(int dir_fd, std::string_view url_path, bool show_dotfiles,
                      std::size_t max_entries, std::string& out) {
  // A fresh descriptor: readdir needs one opened for reading, and closedir()
  // closes it.
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  std::unique_ptr<DIR, dir_closer> dir(::fdopendir(fd));
  if (!dir) {
    ::close(fd);
    return false;
  }
  struct entry {
    std::string name;
    bool directory;
  };
  std::vector<entry> entries;
  bool truncated = false;
  while (const dirent* d = ::readdir(dir.get())) {
    const std::string_view name(d->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    if (name[0] == '.' && !show_dotfiles) {
      continue;
    }
    if (entries.size() == max_entries) {
      truncated = true;
      break;
    }
    bool is_dir = d->d_type == DT_DIR;
    if (d->d_type == DT_UNKNOWN || d->d_type == DT_LNK) {
      struct stat st {};
      is_dir = ::fstatat(::dirfd(dir.get()), d->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
    }
    entries.push_back({std::string(name), is_dir});
  }
  std::sort(entries.begin(), entries.end(),
            [](const entry& a, const entry& b) { return a.name < b.name; });

  out.clear();
  out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  append_html_escaped(out, url_path);
  out += "</title></head>\n<body><h1>Index of ";
  append_html_escaped(out, url_path);
  out += "</h1>\n<ul>\n";
  if (url_path != "/") {
    out += "<li><a href=\"../\">../</a></li>\n";
  }
  std::string href;
  for (const auto& e : entries) {
    href.clear();
    append_uri_path(href, e.name);
    // A name like "a:b" would read as a scheme in a relative reference.
    out += "<li><a href=\"./";
    append_html_escaped(out, href);
    if (e.directory) {
      out += '/';
    }
    out += "\">";
    append_html_escaped(out, e.name);
    if (e.directory) {
      out += '/';
    }
    out += "</a></li>\n";
  }
  out += "</ul>\n";
  if (truncated) {
    out += "<p>Only the first " + std::to_string(max_entries) +
           " entries (in directory order) are listed.</p>\n";
  }
  out += "</body></html>\n";
  return true;
}

}  // namespace overlap::http
