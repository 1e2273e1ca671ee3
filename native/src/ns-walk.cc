// The descriptor walk behind nsLinkSync (see ns-walk.h for why each step is done this way).
#include "ns-walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace ecg {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(-1); }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  int Get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string Join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

bool Fail(NsLinkResult* res, const char* syscall, std::string path) {
  res->err = errno;
  res->syscall = syscall;
  res->path = std::move(path);
  return false;
}

// Reads at most a couple of entries: a namespace directory may hold many thousands.
bool IsEmptyDir(int dirfd, bool* empty) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return false;
  }
  *empty = true;
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    *empty = false;
    break;
  }
  const int err = errno;
  closedir(d);
  errno = err;
  return err == 0;
}

// Our own swap link left by a crash (a symlink to `target` under temp_name): removed, nothing else.
void DropTemp(int dirfd, const NsLinkParams& p) {
  std::vector<char> buf(p.target.size() + 2);
  const ssize_t n = readlinkat(dirfd, p.temp_name.c_str(), buf.data(), buf.size());
  if (n >= 0 && static_cast<size_t>(n) == p.target.size() && std::memcmp(buf.data(), p.target.data(), p.target.size()) == 0) {
    unlinkat(dirfd, p.temp_name.c_str(), 0);
  }
}

// True when `name` is a symlink whose target starts with p.replace_into.
bool Replaceable(int dirfd, const NsLinkParams& p) {
  std::vector<char> buf(4096);
  const ssize_t n = readlinkat(dirfd, p.name.c_str(), buf.data(), buf.size());
  if (n < 0 || static_cast<size_t>(n) >= buf.size()) return false;
  return static_cast<size_t>(n) >= p.replace_into.size() && std::memcmp(buf.data(), p.replace_into.data(), p.replace_into.size()) == 0;
}

// Chowns the link just made through an O_PATH fd of it, after checking it is still a symlink.
// False (errno EEXIST) when something else took its place meanwhile: that is not ours to chown.
bool ChownLink(int dirfd, const std::string& name, const struct stat& parent) {
  Fd fd(openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (fd.Get() < 0) return false;
  struct stat st;
  if (fstat(fd.Get(), &st) != 0) return false;
  if (!S_ISLNK(st.st_mode)) {
    errno = EEXIST;
    return false;
  }
  if (st.st_uid == parent.st_uid && st.st_gid == parent.st_gid) return true;
  return fchownat(fd.Get(), "", parent.st_uid, parent.st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace

bool NsLink(const NsLinkParams& p, NsLinkResult* res) {
  // The root is the admin's configuration: it may itself be reached through a symlink.
  Fd dir(open(p.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.Get() < 0) return Fail(res, "open", p.root);
  struct stat parent;
  if (fstat(dir.Get(), &parent) != 0) return Fail(res, "fstat", p.root);
  const uid_t me = geteuid();
  std::string rel;          // below root, for the result
  std::string here = p.root;  // absolute, for error messages
  for (const std::string& c : p.dirs) {
    rel += rel.empty() ? c : "/" + c;
    const std::string abs = Join(here, c);
    bool made = false;
    if (mkdirat(dir.Get(), c.c_str(), 0755) == 0) made = true;
    else if (errno != EEXIST) return Fail(res, "mkdirat", abs);
    if (made) res->created.push_back(rel);
    if (made && p.durable && fsync(dir.Get()) != 0) return Fail(res, "fsync", here);
    // A symlink or a non-directory here (ENOTDIR, or ELOOP on some kernels): the walk stops,
    // nothing past it is made.
    Fd next(openat(dir.Get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.Get() < 0) return Fail(res, "openat", abs);
    struct stat st;
    if (fstat(next.Get(), &st) != 0) return Fail(res, "fstat", abs);
    // Only a directory of ours is given away: one made by someone else (swapped in after our
    // mkdirat) keeps its owner.
    if (st.st_uid == me && (st.st_uid != parent.st_uid || st.st_gid != parent.st_gid)) {
      bool empty = made;
      if (!made && !IsEmptyDir(next.Get(), &empty)) return Fail(res, "readdir", abs);
      if (empty) {
        if (fchown(next.Get(), parent.st_uid, parent.st_gid) != 0) return Fail(res, "fchown", abs);
        if (!made) res->fixed.push_back(rel);
        st.st_uid = parent.st_uid;
        st.st_gid = parent.st_gid;
      }
    }
    dir.Reset(next.Release());
    parent = st;
    here = abs;
  }
  const std::string link = Join(here, p.name);
  if (!p.replace_into.empty() && Replaceable(dir.Get(), p)) {
    DropTemp(dir.Get(), p);
    if (symlinkat(p.target.c_str(), dir.Get(), p.temp_name.c_str()) != 0) return Fail(res, "symlinkat", Join(here, p.temp_name));
    if (renameat(dir.Get(), p.temp_name.c_str(), dir.Get(), p.name.c_str()) != 0) {
      const int err = errno;
      unlinkat(dir.Get(), p.temp_name.c_str(), 0);
      errno = err;
      return Fail(res, "renameat", link);
    }
    res->link = NsLinkState::kReplaced;
  } else if (symlinkat(p.target.c_str(), dir.Get(), p.name.c_str()) != 0) {
    if (errno != EEXIST) return Fail(res, "symlinkat", link);
    res->link = NsLinkState::kExists;  // never overwritten
    return true;
  } else {
    res->link = NsLinkState::kCreated;
  }
  if (!ChownLink(dir.Get(), p.name, parent)) {
    if (errno == EEXIST) {
      res->link = NsLinkState::kExists;  // swapped for something else already: not ours
      return true;
    }
    return Fail(res, "fchownat", link);
  }
  if (p.durable && fsync(dir.Get()) != 0) return Fail(res, "fsync", link);
  return true;
}

}  // namespace ecg
