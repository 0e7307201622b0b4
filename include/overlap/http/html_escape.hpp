// HTML escaping for generated pages (directory listings, the admin status
// page): &, <, >, " and ' become character references.
#pragma once

#include <string>
#include <string_view>

namespace overlap::http {

void append_html_escaped(std::string& out, std::string_view text);

}  // namespace overlap::http
