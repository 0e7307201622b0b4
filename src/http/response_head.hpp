// Rendering of response heads into a reused buffer. Internal to overlap_http.
#pragma once

#include <overlap/http/status.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace overlap::http::head {

// "HTTP/1.1 <code> <reason>\r\nDate: <date>\r\nServer: overlap\r\n". We always
// answer with our own version (RFC 9110 §6.2), also to HTTP/1.0 clients.
void begin(std::string& h, http_status s, std::string_view date);
void content_length(std::string& h, std::uint64_t n);
// "Content-Range: bytes first-last/size" (RFC 9110 §14.4)
void content_range(std::string& h, std::uint64_t first, std::uint64_t length, std::uint64_t size);
// "Content-Range: bytes */size" for 416
void unsatisfied_range(std::string& h, std::uint64_t size);
// The operator's added fields (rendered lines), the Connection field (if
// any) and the blank line ending the head.
void end(std::string& h, std::string_view added_fields, bool close, bool say_keep_alive);

}  // namespace overlap::http::head
