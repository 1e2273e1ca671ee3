// scanDirSync / scanDir: the batched bucket walker (layout in scan-dir.h). Does what
// agent/scan/bucket-reader-js.ts does, with the same syscalls, in one N-API call per bucket.
#include "scan-dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "args.h"

namespace ecg {

ByteSink::~ByteSink() { std::free(data_); }

void ByteSink::Reserve(size_t n) {
  if (cap_ - size_ >= n) return;
  size_t cap = cap_ == 0 ? 64 * 1024 : cap_;
  while (cap - size_ < n) cap *= 2;
  void* p = std::realloc(data_, cap);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
  cap_ = cap;
}

void ByteSink::Assign(const uint8_t* p, size_t n) {
  void* block = std::malloc(n == 0 ? 1 : n);
  if (block == nullptr) throw std::bad_alloc();
  if (n > 0) std::memcpy(block, p, n);
  std::free(data_);
  data_ = static_cast<uint8_t*>(block);
  size_ = cap_ = n;
}

ByteSink& ByteSink::operator=(ByteSink&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = o.data_;
    size_ = o.size_;
    cap_ = o.cap_;
    o.data_ = nullptr;
    o.size_ = o.cap_ = 0;
  }
  return *this;
}

namespace {

// The WHATWG decoder's notion of valid UTF-8 (what TextDecoder {fatal: true} accepts).
bool ValidUtf8(const uint8_t* s, size_t n, bool* ascii) {
  *ascii = true;
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    *ascii = false;
    size_t more;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (i + more >= n) return false;  // truncated sequence
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k <= more; k++) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += more + 1;
  }
  return true;
}

// The kernel zero-fills a buffer of the size asked for on every getxattr: asking for 8 KiB
// per value cost more than the rest of the call. Values are short; a long one (a long Pfn)
// takes a second call.
constexpr size_t kXattrFirstTry = 256;

ssize_t GetXattr(int fd, const char* name, uint8_t* buf, size_t max) {
  const size_t first = max < kXattrFirstTry ? max : kXattrFirstTry;
  ssize_t n = fgetxattr(fd, name, buf, first);
  if (n < 0 && errno == ERANGE && first < max) n = fgetxattr(fd, name, buf, max);
  return n;
}

// The names are the Pfn, then the xrdec pair of the namespace xrootd writes (user.U.), then the
// pair of the other (user.): XRDEC-FORMAT.md. The second pair is read only when the first pair is
// absent, so a production archive costs three fgetxattr. Asking is cheaper than learning which
// names exist: an flistxattr cost as much as two fgetxattr on tmpfs (perf, the scan bench), and
// reading all five as much again. A file holding both pairs is read as holding the first, which
// is the pair the record uses anyway; that the other pair disagrees is not seen by the scan.
// Only where the names are SCAN_XATTRS (ScanParams::alt_pair).
constexpr size_t kScanXattrs = 5;

bool SkipName(const ScanParams& p, size_t i, const int32_t* lens) {
  return p.alt_pair && i >= 3 && !(lens[1] == kXattrAbsent && lens[2] == kXattrAbsent);
}

// O_NOATIME: a scan must not touch what it reads. With relatime the first read of a day marks
// every data file accessed, which dirties each inode (a write per file on a real disk) and
// misleads atime-based purging. Allowed to the file's owner and to root; any other agent gets
// EPERM, and then opens without it (once per bucket: files of a bucket share an owner).
int OpenEntry(int dfd, const char* name, bool* noatime) {
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  if (*noatime) {
    int fd = openat(dfd, name, kFlags | O_NOATIME);
    if (fd >= 0 || errno != EPERM) return fd;
    *noatime = false;
  }
  return openat(dfd, name, kFlags);
}

void PutI32(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
void PutF64(uint8_t* p, double v) { std::memcpy(p, &v, 8); }

// Appends one record for `name`; never throws except on allocation failure.
void ScanEntry(int dfd, const char* name, size_t nlen, const ScanParams& p, ByteSink* out, bool* noatime) {
  const size_t nx = p.xattr_names.size();
  const size_t fixed = kRecordFixed + 4 * nx;
  out->Reserve(fixed + nlen + 8);
  const size_t rec = out->Size();
  std::memset(out->End(), 0, fixed);
  out->Grow(fixed);
  std::memcpy(out->End(), name, nlen);
  out->Grow(nlen);
  const size_t after_name = out->Size();

  uint8_t flags = 0, step = kStepOk;
  int32_t err = 0;
  bool ascii = false;
  int fd = -1;
  struct stat st;
  if (!ValidUtf8(reinterpret_cast<const uint8_t*>(name), nlen, &ascii)) {
    // Not a name xrootd writes: reported, never opened (as the JS reader does).
    flags |= kFlagBadName;
    step = kStepOpen;
    err = EILSEQ;
  } else if ((fd = OpenEntry(dfd, name, noatime)) < 0) {
    step = kStepOpen;
    err = errno;
  } else if (fstat(fd, &st) != 0) {
    step = kStepFstat;
    err = errno;
  } else {
    PutF64(out->At(rec + 8), static_cast<double>(st.st_ino));
    PutF64(out->At(rec + 16), static_cast<double>(st.st_size));
    PutF64(out->At(rec + 24), static_cast<double>(st.st_mtim.tv_sec));
    PutF64(out->At(rec + 32), static_cast<double>(st.st_mtim.tv_nsec));
    if (S_ISREG(st.st_mode)) {
      flags |= kFlagFile;
      int32_t lens[kScanXattrs] = {0, 0, 0, 0, 0};
      for (size_t i = 0; i < nx && step == kStepOk; i++) {
        int32_t len;
        if (SkipName(p, i, lens)) {
          PutI32(out->At(rec + kRecordFixed + 4 * i), kXattrAbsent);
          continue;
        }
        out->Reserve(p.max_xattr);
        ssize_t n = GetXattr(fd, p.xattr_names[i].c_str(), out->End(), p.max_xattr);
        if (n >= 0 && static_cast<size_t>(n) <= p.max_xattr) {
          len = static_cast<int32_t>(n);
          out->Grow(static_cast<size_t>(n));
        } else if (n >= 0 || errno == ERANGE || errno == E2BIG) {
          len = kXattrOversized;  // longer than any value we use: not read
        } else if (errno == ENODATA) {
          len = kXattrAbsent;
        } else {
          step = kStepXattr;
          err = errno;
          break;
        }
        if (i < kScanXattrs) lens[i] = len;
        PutI32(out->At(rec + kRecordFixed + 4 * i), len);
      }
      if (step == kStepOk) {
        flags |= kFlagXattrs;
        const size_t size = static_cast<size_t>(st.st_size);
        const size_t tlen = size < p.tail_bytes ? size : p.tail_bytes;
        out->Reserve(tlen);
        const off_t base = static_cast<off_t>(size - tlen);
        size_t got = 0;
        while (got < tlen) {
          ssize_t n = pread(fd, out->End() + got, tlen - got, base + static_cast<off_t>(got));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            step = kStepRead;
            err = errno;
            break;
          }
          if (n == 0) break;
          got += static_cast<size_t>(n);
        }
        if (step == kStepOk && got < tlen) {
          step = kStepRead;
          err = kErrShrank;
        }
        if (step == kStepOk) {
          PutI32(out->At(rec + 40), static_cast<int32_t>(tlen));
          out->Grow(tlen);
        }
      } else {
        // The JS reader keeps no xattrs when one of them failed: drop those read so far.
        std::memset(out->At(rec + kRecordFixed), 0, 4 * nx);
        out->Truncate(after_name);
      }
    }
  }
  if (fd >= 0) close(fd);
  if (ascii) flags |= kFlagAscii;
  uint8_t* h = out->At(rec);
  h[0] = flags;
  h[1] = step;
  const uint16_t nl = static_cast<uint16_t>(nlen);
  std::memcpy(h + 2, &nl, 2);
  PutI32(h + 4, err);
  const size_t pad = (8 - out->Size() % 8) % 8;
  out->Reserve(pad);
  std::memset(out->End(), 0, pad);
  out->Grow(pad);
}

}  // namespace

bool ScanDirectory(const ScanParams& p, ByteSink* out, int* dir_errno, const char** syscall) {
  const bool records = p.usual.enabled;
  const size_t header = records ? kRecordsHeader : kScanHeader;
  out->Reserve(header);  // before the directory is open: a bad_alloc here leaks nothing
  int dfd = open(p.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    *dir_errno = errno;
    *syscall = "scandir";
    return false;
  }
  DIR* d = fdopendir(dfd);
  if (d == nullptr) {
    *dir_errno = errno;
    *syscall = "scandir";
    close(dfd);
    return false;
  }
  std::memset(out->End(), 0, header);
  PutI32(out->End(), static_cast<int32_t>(records ? kRecordsMagic : kScanMagic));
  out->Grow(header);
  // Records mode: names, Pfns and digests of the compact records. Kept per thread across
  // buckets (a fresh one per bucket cost page faults); emptied here, shrunk when a bucket made
  // it large.
  thread_local ByteSink tls_text;
  ByteSink& text = tls_text;  // one TLS lookup per bucket, not one per entry
  text.Truncate(0);
  if (text.Capacity() > (4u << 20)) text = ByteSink();
  uint32_t count = 0;
  bool noatime = true;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) {
      if (errno == 0) break;
      *dir_errno = errno;
      *syscall = "scandir";
      closedir(d);
      return false;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    try {
      const size_t rec = out->Size();
      ScanEntry(dfd, n, std::strlen(n), p, out, &noatime);
      if (records) CompactUsual(p.usual, p.xattr_names.size(), out, rec, &text);
    } catch (...) {
      closedir(d);
      throw;
    }
    count++;
  }
  closedir(d);
  std::memcpy(out->At(4), &count, 4);
  if (records) {
    PutF64(out->At(8), static_cast<double>(out->Size()));
    out->Reserve(text.Size());
    if (text.Size() > 0) std::memcpy(out->End(), text.Data(), text.Size());
    out->Grow(text.Size());
  }
  return true;
}

bool ScanOneFile(const ScanParams& p, const std::string& name, ByteSink* out, int* dir_errno, const char** syscall) {
  int dfd = open(p.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    *dir_errno = errno;
    *syscall = "open";
    return false;
  }
  out->Reserve(kScanHeader);
  std::memset(out->End(), 0, kScanHeader);
  PutI32(out->End(), static_cast<int32_t>(kScanMagic));
  const uint32_t one = 1;
  std::memcpy(out->End() + 4, &one, 4);
  out->Grow(kScanHeader);
  try {
    bool noatime = true;
    ScanEntry(dfd, name.c_str(), name.size(), p, out, &noatime);
  } catch (...) {
    close(dfd);
    throw;
  }
  close(dfd);
  return true;
}

}  // namespace ecg
