// nsLinkSync: creates a namespace symlink (and its missing directories) below a trusted root
// without following any symlink the namespace owner could plant. The agent runs as root and
// the namespace belongs to the xrootd account, which can swap any name in it at any moment, so
// every step goes through directory file descriptors opened from the root down:
//   open(root, O_DIRECTORY); per component mkdirat (EEXIST is fine), openat(O_DIRECTORY |
//   O_NOFOLLOW) (a symlink or a non-directory there stops the walk: nothing past it is made),
//   fstat, and fchown by fd to the parent's owner when this call made it, or when it is ours,
//   empty and owned unlike its parent (a crash between mkdir and chown left it so).
//   Then symlinkat(target, dirfd, name) (never over anything) and a chown of the new link
//   through an O_PATH fd of it (not by name: a hard link swapped in would be chowned instead).
// With replace_into, an existing symlink whose target starts with replace_into is replaced
// atomically (symlinkat under temp_name, renameat over it).
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace ecg {

enum class NsLinkState { kCreated, kReplaced, kExists };

struct NsLinkParams {
  std::string root;
  std::vector<std::string> dirs;  // components between root and the link, outermost first
  std::string name;               // the link's own name
  std::string target;
  std::string replace_into;       // "" = never replace; else a prefix ending in '/'
  std::string temp_name;          // swap name in the link's directory (replace mode)
  bool durable = false;           // fsync each directory changed
};

struct NsLinkResult {
  std::vector<std::string> created;  // paths below root ("a", "a/b") this call made
  std::vector<std::string> fixed;    // existing ones it chowned (crash-left)
  NsLinkState link = NsLinkState::kExists;
  // On failure: errno, the failing call and the absolute path it was about.
  int err = 0;
  const char* syscall = "";
  std::string path;
};

// False with res->err/syscall/path set when a step fails; what was done before stays done
// (and is listed in res).
bool NsLink(const NsLinkParams& p, NsLinkResult* res);

void RegisterNsOps(Napi::Env env, Napi::Object exports);

}  // namespace ecg
