// `--user NAME[:GROUP]`: a server started as root (to bind port 80, say)
// gives up root before it serves anything.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace overlap::server {

struct account {
  std::string name;  // empty when the user was given as a number with no entry
  uid_t uid = 0;
  gid_t gid = 0;
};

struct account_lookup {
  account found;
  std::string error;  // empty on success
};

// "www-data", "www-data:adm", "33", "33:4": a user (name or number) and
// optionally a group (name or number); without a group, the user's primary
// group from the account database.
account_lookup find_account(std::string_view spec);

// Switches the whole process to `who` for good: supplementary groups (the
// user's, from the group database, or just who.gid), then the group, then
// the user, and checks that root cannot be taken back. Without root it
// succeeds only if the process already runs as `who`. Returns an error
// message, empty on success.
std::string drop_privileges(const account& who);

}  // namespace overlap::server
