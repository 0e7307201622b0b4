// The lines of the access log, one function per format. Pure formatting: the
// writer (access_log_writer.hpp) supplies the time and owns the buffer.
#pragma once

#include <string>
#include <string_view>

#include "overlap/http/access_log.hpp"

namespace overlap::server {

// Combined Log Format, as nginx's and Apache's "combined":
//   client - - [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.1" 200 2326 "referer" "agent"
// `stamp` is the bracketed time. Quoted fields escape '"', '\' and control
// bytes (\xHH), so no request can forge a field or a line.
void append_combined_line(std::string& out, std::string_view client,
                          const http::access_log_record& r, std::string_view stamp);

// One JSON object per line (JSON Lines), for log pipelines:
//   {"time":"2000-10-10T13:55:36Z","client":"…","method":"GET","target":"/a",
//    "protocol":"HTTP/1.1","status":200,"bytes":2326,"referer":"…",
//    "user_agent":"…","duration_us":181}
// `time` is RFC 3339 UTC. Absent fields are empty strings. Strings are JSON
// escaped; bytes that are not UTF-8 become \u00HH (read as Latin-1), so every
// line is valid JSON whatever a client sent.
void append_json_line(std::string& out, std::string_view client, const http::access_log_record& r,
                      std::string_view time);

}  // namespace overlap::server
