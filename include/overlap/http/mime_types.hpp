// File-extension → Content-Type table: a built-in fallback table, overridden
// by a mime.types file (Debian's /etc/mime.types format) when one is given.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace overlap::http {

inline constexpr std::string_view default_content_type = "application/octet-stream";

class mime_types {
 public:
  // Built-in table only.
  mime_types();

  // Built-in table, then every "type ext..." line of `path` (comments with
  // '#'). A missing or unreadable file leaves the built-in table; load()
  // reports whether the file was read.
  bool load(const std::string& path);

  // Content-Type for a file name or path, by its extension (case-insensitive).
  // text/* types carry "; charset=utf-8". Unknown: application/octet-stream.
  // The view stays valid as long as this object lives and load() is not called.
  std::string_view lookup(std::string_view file_name) const noexcept;

  void add(std::string_view extension, std::string_view type);

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> by_extension_;
};

}  // namespace overlap::http
