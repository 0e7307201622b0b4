#include "privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace overlap::server {
namespace {

// A whole decimal number that fits id_t, or false.
template <typename Id>
bool parse_id(std::string_view text, Id& out) {
  unsigned long long v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v >= static_cast<Id>(-1)) {
    return false;
  }
  out = static_cast<Id>(v);
  return true;
}

// getpwnam_r/getpwuid_r/getgrnam_r want a caller's buffer; the size hint
// may be missing (-1) or too small for a group with many members.
std::vector<char> lookup_buffer() {
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  return std::vector<char>(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
}

std::string errno_text(int e) {
  return e == 0 ? "no such entry" : std::strerror(e);
}

}  // namespace

account_lookup find_account(std::string_view spec) {
  account_lookup r;
  const std::size_t colon = spec.find(':');
  const std::string user(spec.substr(0, colon));
  const std::string group_name =
      colon == std::string_view::npos ? "" : std::string(spec.substr(colon + 1));
  if (user.empty() || (colon != std::string_view::npos && group_name.empty())) {
    r.error = "--user wants NAME or NAME:GROUP";
    return r;
  }

  std::vector<char> buf = lookup_buffer();
  passwd pw{};
  passwd* pw_found = nullptr;
  uid_t uid = 0;
  int e = 0;
  const bool numeric_user = parse_id(user, uid);
  do {
    e = numeric_user ? ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &pw_found)
                     : ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pw_found);
    if (e == ERANGE) buf.resize(buf.size() * 2);
  } while (e == ERANGE && buf.size() <= (1u << 20));
  if (pw_found != nullptr) {
    r.found = {pw.pw_name, pw.pw_uid, pw.pw_gid};
  } else if (numeric_user && !group_name.empty()) {
    r.found = {"", uid, 0};  // a bare number is enough when the group is given
  } else {
    r.error = "--user: unknown user '" + user + "' (" + errno_text(e) + ")";
    return r;
  }
  if (group_name.empty()) {
    return r;
  }

  gid_t gid = 0;
  if (parse_id(group_name, gid)) {
    r.found.gid = gid;
    return r;
  }
  group gr{};
  group* gr_found = nullptr;
  do {
    e = ::getgrnam_r(group_name.c_str(), &gr, buf.data(), buf.size(), &gr_found);
    if (e == ERANGE) buf.resize(buf.size() * 2);
  } while (e == ERANGE && buf.size() <= (1u << 20));
  if (gr_found == nullptr) {
    r.error = "--user: unknown group '" + group_name + "' (" + errno_text(e) + ")";
    return r;
  }
  r.found.gid = gr.gr_gid;
  return r;
}

std::string drop_privileges(const account& who) {
  if (::geteuid() != 0) {
    if (::geteuid() == who.uid && ::getuid() == who.uid && ::getegid() == who.gid &&
        ::getgid() == who.gid) {
      return {};  // already that user: nothing to give up
    }
    return "--user needs the server to start as root (it runs as uid " +
           std::to_string(::geteuid()) + ")";
  }
  // Groups first: once the user is no longer root, they cannot be changed.
  const int groups =
      who.name.empty() ? ::setgroups(1, &who.gid) : ::initgroups(who.name.c_str(), who.gid);
  if (groups != 0) return std::string("--user: cannot set the groups: ") + std::strerror(errno);
  if (::setgid(who.gid) != 0) {
    return std::string("--user: cannot set the group: ") + std::strerror(errno);
  }
  if (::setuid(who.uid) != 0) {
    return std::string("--user: cannot set the user: ") + std::strerror(errno);
  }
  if (who.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    return "--user: root could be taken back after dropping it; refusing to go on";
  }
  return {};
}

}  // namespace overlap::server
