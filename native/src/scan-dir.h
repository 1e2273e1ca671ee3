// The batched bucket walker behind scanDirSync / scanDir: one call reads a whole bucket
// directory (getdents + per entry openat, fstat, fgetxattr of the Pfn and of the user.U. xrdec
// pair (of the user. pair too when that one is absent), pread of the tail, close) and packs
// every result into one byte block, decoded by agent/scan/bucket-reader-native.ts.
//
// Layout (little-endian, host order on the x86-64 / arm64 machines we run on):
//   header   u32 magic kScanMagic, u32 record count
//            (records mode, scan-usual.h: u32 kRecordsMagic, u32 count, f64 offset of the text
//            area, which follows the last record; usual data files are compact records)
//   record   (starts 8-aligned, so JS can read the f64s through one Float64Array)
//     +0  u8  flags (kFlag*)            +1 u8 step (kStep*: where it failed, 0 = ok)
//     +2  u16 name length               +4 i32 errno (> 0), kErrShrank, or 0
//     +8  f64 ino   +16 f64 size   +24 f64 mtime seconds   +32 f64 mtime nanoseconds
//     +40 i32 tail length
//     +44 i32 length per xattr name (kXattrAbsent, kXattrOversized, or bytes that follow)
//     then the name bytes, each present xattr value in name order, the tail; zero pad to 8.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scan-usual.h"

namespace ecg {

constexpr uint32_t kScanMagic = 0x31445345;  // "ESD1"
constexpr uint32_t kRecordsMagic = 0x32445345;  // "ESD2"
constexpr size_t kScanHeader = 8;
constexpr size_t kRecordsHeader = 16;
constexpr size_t kRecordFixed = 44;

enum : uint8_t { kFlagFile = 1, kFlagAscii = 2, kFlagBadName = 4, kFlagXattrs = 8, kFlagUsual = 16 };
enum : uint8_t { kStepOk = 0, kStepOpen = 1, kStepFstat = 2, kStepXattr = 3, kStepRead = 4 };
constexpr int32_t kErrShrank = -1;  // fewer bytes than fstat said: being rewritten right now
constexpr int32_t kXattrAbsent = -1;
constexpr int32_t kXattrOversized = -2;

struct ScanParams {
  std::string dir;
  size_t tail_bytes = 0;
  size_t max_xattr = 0;
  std::vector<std::string> xattr_names;
  UsualRules usual;  // records mode when enabled (xattr_names must be SCAN_XATTRS)
  // xattr_names are SCAN_XATTRS and the scan reads the user. pair only when the user.U. pair is
  // absent (scan-dir.cc, SkipName). Off for readFileTail, which answers for the slow path and so
  // reads every name.
  bool alt_pair = false;
};

// Growable malloc'd block the walker appends records to.
class ByteSink {
 public:
  ByteSink() = default;
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;
  ByteSink(ByteSink&& o) noexcept : data_(o.data_), size_(o.size_), cap_(o.cap_) { o.data_ = nullptr; o.size_ = o.cap_ = 0; }
  ByteSink& operator=(ByteSink&& o) noexcept;
  ~ByteSink();
  // Room for n more bytes at End(); pointers from earlier calls are invalidated.
  void Reserve(size_t n);
  // Replaces the contents with a copy of [p, p + n) in a block of exactly n bytes.
  void Assign(const uint8_t* p, size_t n);
  uint8_t* End() { return data_ + size_; }
  uint8_t* At(size_t off) { return data_ + off; }
  void Grow(size_t n) { size_ += n; }
  void Truncate(size_t size) { size_ = size; }
  size_t Size() const { return size_; }
  size_t Capacity() const { return cap_; }
  const uint8_t* Data() const { return data_; }
  // Gives up the block (std::free it); the sink is empty afterwards.
  uint8_t* Release() {
    uint8_t* d = data_;
    data_ = nullptr;
    size_ = cap_ = 0;
    return d;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// Walks one directory. Per-file failures are recorded; only a directory that cannot be opened
// or read returns false, with its errno in *dir_errno and the failing call in *syscall.
bool ScanDirectory(const ScanParams& p, ByteSink* out, int* dir_errno, const char** syscall);

// One named file of one directory, recorded as ScanDirectory records it (a result of one
// record). The directory itself is opened without following a symlink; false with its errno
// when it cannot be opened.
bool ScanOneFile(const ScanParams& p, const std::string& name, ByteSink* out, int* dir_errno, const char** syscall);

void RegisterScanOps(Napi::Env env, Napi::Object exports);

}  // namespace ecg
