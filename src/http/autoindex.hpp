// Generated directory listings (autoindex). Internal to overlap_http.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace overlap::http {

// Renders an HTML listing of directory `dir_fd` (any fd of the directory,
// O_PATH is fine) for the URL path `url_path` (decoded, ends with '/').
// Names are HTML-escaped and links percent-encoded; names starting with '.'
// are left out unless `show_dotfiles`. Reading stops after `max_entries`
// names (the page then says it is incomplete). Returns false if the
// directory cannot be read.
bool render_autoindex(int dir_fd, std::string_view url_path, bool show_dotfiles,
                      std::size_t max_entries, std::string& out);

}  // namespace overlap::http
