// Named defaults and the configuration of the HTTP core. Every limit has its
// unit in its name; `overlap serve` exposes each one as a flag.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace overlap::http {

// Request line + header fields, counted from the first byte of a request
// (including tolerated leading empty lines, RFC 9112 §2.2) to the blank line.
// Over the limit: 431 (RFC 6585 §5). nginx's large_client_header_buffers
// default also allows 8 KiB for one header line.
inline constexpr std::size_t default_max_header_bytes = std::size_t{8} * 1024;

// Raw request-target as received. Over the limit: 414 (RFC 9110 §15.5.15).
// Smaller than max_header_bytes so a long target is reported as 414, not 431.
inline constexpr std::size_t default_max_target_bytes = std::size_t{4} * 1024;

// A body on GET/HEAD has no meaning (RFC 9110 §9.3.1) but must be read to keep
// the framing of pipelined requests; above this many bytes we answer 413 and
// close instead of reading it.
inline constexpr std::uint64_t default_max_body_discard_bytes = std::uint64_t{64} * 1024;

// Responses queued but not yet fully sent. When full, connection::feed() stops
// consuming input so the caller stops reading the socket (backpressure).
inline constexpr std::size_t default_max_pipelined_responses = 16;

// Requests one connection may make; the response to the last one says
// "Connection: close" and the connection closes after it, so long-lived
// clients come back through accept and spread over the threads again.
// 0: no limit (the default; nginx's keepalive_requests is 1000).
inline constexpr std::uint64_t default_max_requests_per_connection = 0;

// Regular files up to this size are read into the open-file cache once and
// sent from memory together with their headers in one sendmsg.
inline constexpr std::size_t default_small_file_bytes = std::size_t{16} * 1024;

// Open-file cache capacity (each entry holds one fd).
inline constexpr std::size_t default_open_file_cache_entries = 1024;

// An entry is re-checked with statx at most this often.
inline constexpr std::chrono::milliseconds default_revalidate_interval_ms{1000};

// iovecs handed out by connection::gather() for one sendmsg (IOV_MAX is 1024).
inline constexpr std::size_t max_gather_iovecs = 64;

// Longest method token we look at when classifying an unrecognised method
// (501) against a malformed request line (400).
inline constexpr std::size_t max_method_bytes = 32;

inline constexpr const char* default_mime_types_path = "/etc/mime.types";

// Most entries one autoindex page lists: the directory is read on the event
// loop's thread, so this bounds the time (and memory) one request can take.
inline constexpr std::size_t default_autoindex_max_entries = 10000;

// Limits applied while parsing one connection's requests.
struct parser_limits {
  std::size_t max_header_bytes = default_max_header_bytes;
  std::size_t max_target_bytes = default_max_target_bytes;
  std::uint64_t max_body_discard_bytes = default_max_body_discard_bytes;
};

// What the static site serves and how it caches it.
struct site_options {
  std::vector<std::string> index_names{"index.html"};
  bool autoindex = false;
  std::size_t autoindex_max_entries = default_autoindex_max_entries;
  bool serve_dotfiles = false;  // any path segment starting with '.' is 404 when false
  std::string mime_types_path = default_mime_types_path;  // empty: built-in table only
  std::size_t small_file_bytes = default_small_file_bytes;
  std::size_t open_file_cache_entries = default_open_file_cache_entries;
  std::chrono::milliseconds revalidate_interval_ms = default_revalidate_interval_ms;
  // Cache-Control field value sent with every file's 200, 206 and 304
  // (e.g. "public, max-age=3600"); empty: no Cache-Control. Check it with
  // is_field_value() first: it is copied into responses as it is.
  std::string cache_control;
  // Serve a twin "X.br", "X.zst" or "X.gz", when it exists and is not older
  // than X, for a request of X from a client that accepts that coding (X's
  // Content-Type, the coding as Content-Encoding); every file response then
  // carries "Vary: Accept-Encoding".
  bool precompressed = false;
  // A file (a normalised path, e.g. "/index.html") served with 200 for any
  // GET/HEAD whose file does not exist, as single-page applications need;
  // empty: such requests get 404.
  std::string fallback;
  // A file (a normalised path, e.g. "/404.html") whose content goes with
  // every 404, with its Content-Type; empty, or while the file is missing:
  // the built-in page.
  std::string not_found_page;
};

// Everything the HTTP core is configured with, in one place.
struct http_config {
  parser_limits limits{};
  std::size_t max_pipelined_responses = default_max_pipelined_responses;
  std::uint64_t max_requests_per_connection = default_max_requests_per_connection;
  site_options site{};
  // Header fields added to every response, rendered ("Name: value\r\n"
  // each); build it with add_response_field() (added_fields.hpp), which
  // checks each one. Empty: none.
  std::string added_fields;
};

}  // namespace overlap::http
