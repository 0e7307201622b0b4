#include <overlap/http/status.hpp>

namespace overlap::http {

std::string_view reason_phrase(http_status s) noexcept {
  switch (s) {
    case http_status::ok:
      return "OK";
    case http_status::partial_content:
      return "Partial Content";
    case http_status::moved_permanently:
      return "Moved Permanently";
    case http_status::not_modified:
      return "Not Modified";
    case http_status::bad_request:
      return "Bad Request";
    case http_status::forbidden:
      return "Forbidden";
    case http_status::not_found:
      return "Not Found";
    case http_status::method_not_allowed:
      return "Method Not Allowed";
    case http_status::precondition_failed:
      return "Precondition Failed";
    case http_status::content_too_large:
      return "Content Too Large";
    case http_status::uri_too_long:
      return "URI Too Long";
    case http_status::range_not_satisfiable:
      return "Range Not Satisfiable";
    case http_status::request_header_fields_too_large:
      return "Request Header Fields Too Large";
    case http_status::internal_server_error:
      return "Internal Server Error";
    case http_status::not_implemented:
      return "Not Implemented";
    case http_status::service_unavailable:
      return "Service Unavailable";
    case http_status::version_not_supported:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

#define OVERLAP_ERROR_PAGE(text)                                                 \
  "<!DOCTYPE html>\n<html><head><title>" text "</title></head>\n<body><h1>" text \
  "</h1></body></html>\n"

std::string_view error_page(http_status s) noexcept {
  switch (s) {
    case http_status::moved_permanently:
      return OVERLAP_ERROR_PAGE("301 Moved Permanently");
    case http_status::bad_request:
      return OVERLAP_ERROR_PAGE("400 Bad Request");
    case http_status::forbidden:
      return OVERLAP_ERROR_PAGE("403 Forbidden");
    case http_status::not_found:
      return OVERLAP_ERROR_PAGE("404 Not Found");
    case http_status::method_not_allowed:
      return OVERLAP_ERROR_PAGE("405 Method Not Allowed");
    case http_status::precondition_failed:
      return OVERLAP_ERROR_PAGE("412 Precondition Failed");
    case http_status::content_too_large:
      return OVERLAP_ERROR_PAGE("413 Content Too Large");
    case http_status::uri_too_long:
      return OVERLAP_ERROR_PAGE("414 URI Too Long");
    case http_status::range_not_satisfiable:
      return OVERLAP_ERROR_PAGE("416 Range Not Satisfiable");
    case http_status::request_header_fields_too_large:
      return OVERLAP_ERROR_PAGE("431 Request Header Fields Too Large");
    case http_status::internal_server_error:
      return OVERLAP_ERROR_PAGE("500 Internal Server Error");
    case http_status::not_implemented:
      return OVERLAP_ERROR_PAGE("501 Not Implemented");
    case http_status::service_unavailable:
      return OVERLAP_ERROR_PAGE("503 Service Unavailable");
    case http_status::version_not_supported:
      return OVERLAP_ERROR_PAGE("505 HTTP Version Not Supported");
    case http_status::ok:
    case http_status::partial_content:
    case http_status::not_modified:
      break;
  }
  return {};
}

#undef OVERLAP_ERROR_PAGE

}  // namespace overlap::http
