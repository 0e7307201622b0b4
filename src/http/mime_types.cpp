#include <overlap/http/mime_types.hpp>

#include "text.hpp"

#include <array>
#include <fstream>
#include <utility>

namespace overlap::http {
namespace {

// Used when no mime.types file is available (containers often lack one).
constexpr std::array<std::pair<std::string_view, std::string_view>, 32> builtin_types{{
    {"html", "text/html"},       {"htm", "text/html"},         {"css", "text/css"},
    {"js", "text/javascript"},  // RFC 9239
    {"mjs", "text/javascript"},  {"json", "application/json"}, {"txt", "text/plain"},
    {"xml", "application/xml"},  {"csv", "text/csv"},          {"md", "text/markdown"},
    {"png", "image/png"},        {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},        {"svg", "image/svg+xml"},     {"ico", "image/vnd.microsoft.icon"},
    {"webp", "image/webp"},      {"avif", "image/avif"},       {"wasm", "application/wasm"},
    {"woff", "font/woff"},       {"woff2", "font/woff2"},      {"ttf", "font/ttf"},
    {"otf", "font/otf"},         {"pdf", "application/pdf"},   {"zip", "application/zip"},
    {"gz", "application/gzip"},  {"mp4", "video/mp4"},         {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},       {"ogg", "audio/ogg"},         {"wav", "audio/wav"},
    {"map", "application/json"},
}};

// Longest extension we look up; longer ones cannot be in any table we load.
constexpr std::size_t max_extension_bytes = 32;

}  // namespace

mime_types::mime_types() {
  for (const auto& [ext, type] : builtin_types) {
    add(ext, type);
  }
}

void mime_types::add(std::string_view extension, std::string_view type) {
  if (extension.empty() || extension.size() > max_extension_bytes || type.empty()) {
    return;
  }
  std::string key(extension);
  for (char& c : key) {
    c = text::to_lower(c);
  }
  std::string value(type);
  // Our text files are UTF-8; saying so avoids charset sniffing by clients.
  if (value.starts_with("text/") && value.find(';') == std::string::npos) {
    value += "; charset=utf-8";
  }
  by_extension_.insert_or_assign(std::move(key), std::move(value));
}

bool mime_types::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::string_view rest(line);
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
      rest = rest.substr(0, hash);
    }
    auto next_word = [&rest]() {
      const auto start = rest.find_first_not_of(" \t\r");
      if (start == std::string_view::npos) {
        return std::string_view{};
      }
      rest.remove_prefix(start);
      const auto end = rest.find_first_of(" \t\r");
      const auto word = rest.substr(0, end);
      rest.remove_prefix(word.size());
      return word;
    };
    const auto type = next_word();
    if (type.empty() || type.find('/') == std::string_view::npos) {
      continue;
    }
    for (auto ext = next_word(); !ext.empty(); ext = next_word()) {
      add(ext, type);
    }
  }
  return true;
}

std::string_view mime_types::lookup(std::string_view file_name) const noexcept {
  const auto slash = file_name.rfind('/');
  if (slash != std::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) {
    return default_content_type;
  }
  const auto ext = file_name.substr(dot + 1);
  if (ext.size() > max_extension_bytes) {
    return default_content_type;
  }
  std::array<char, max_extension_bytes> lower{};
  for (std::size_t i = 0; i < ext.size(); ++i) {
    lower[i] = text::to_lower(ext[i]);
  }
  const auto it = by_extension_.find(std::string_view(lower.data(), ext.size()));
  return it == by_extension_.end() ? default_content_type : std::string_view(it->second);
}

}  // namespace overlap::http
