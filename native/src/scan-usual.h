// Records mode of the bucket walker: the usual clean data file (the case of nearly every file
// on a healthy disk) is interpreted right here, in the walker's thread, and written as one
// compact record plus its texts; anything else stays a raw record for the JS record builder.
// The rules mirror agent/scan/record-builder.ts's fast path (pfn.ts, usualEcXattrs in
// shared/xrdec/xattrs.ts, tail-directory.ts, fastCrcKind, digest): a file is compacted only
// when that path would build the record without findings, so both give the same record.
//
// Compact record (64 bytes, 8-aligned; texts go to the text area, in record order):
//   +0 u8 flags (kFlagUsual | ...)   +1 u8 shape (1 + ns + 2 * crc; ns 0 user.U. / 1 user.,
//                                          crc 0 none / 1 crc32c / 2 crc32)
//   +2 u16 name length   +4 u16 Pfn length (trailing NUL dropped)   +6 u16 where the LFN starts in it
//   +8 f64 ino  +16 f64 size  +24 f64 mtime seconds  +32 f64 mtime nanoseconds
//   +40 f64 strpver  +48 f64 filesize  +56 f64 entries (= blocks)
//   texts: name, Pfn, central directory digest (16 lowercase hex: CRC-32C then CRC-32)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ecg {

constexpr size_t kUsualRecord = 64;
constexpr size_t kDigestChars = 16;

struct UsualRules {
  bool enabled = false;
  bool has_localroot = false;
  std::string root;                  // localroot without trailing slashes
  std::vector<std::string> exports;  // without trailing slashes
};

class ByteSink;

// `rec` is the offset of a raw record just written by the walker (the last one in `out`), for
// xattrs in SCAN_XATTRS order. When it is a usual data file, rewrites it as a compact record,
// appends its texts to `text`, and returns true; else leaves everything as it was.
bool CompactUsual(const UsualRules& rules, size_t nx, ByteSink* out, size_t rec, ByteSink* text);

}  // namespace ecg
