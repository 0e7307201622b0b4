// 500s from the static site are logged to stderr (nginx's static module does
// the same); 403 and 404 are not. Shared by every concurrency model.
#pragma once

#include <cstdio>
#include <cstring>
#include <string_view>

#include "overlap/http/static_site.hpp"

namespace overlap::server {

inline void report_site_errors(http::static_site& site) {
  site.set_error_reporter([](std::string_view path, int error_number) {
    std::fprintf(stderr, "overlap serve: cannot serve %.*s: %s\n", static_cast<int>(path.size()),
                 path.data(), std::strerror(error_number));
  });
}

}  // namespace overlap::server
