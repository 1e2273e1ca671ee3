// Records mode of the bucket walker (layout and contract in scan-usual.h). Every check is
// conservative: when in doubt the raw record stays, and the JS builder decides.
#include "scan-usual.h"

#include <cstring>

#include "crc.h"
#include "scan-dir.h"

namespace ecg {
namespace {

constexpr uint32_t kSigEocd = 0x06054b50;
constexpr uint32_t kSigCdfh = 0x02014b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kCdfhSize = 46;
constexpr size_t kLfhSize = 30;
constexpr uint32_t kU32Max = 0xffffffff;
constexpr size_t kPathMax = 4096;
constexpr int32_t kAbsent = kXattrAbsent;

uint32_t U16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8); }
uint32_t U32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
int32_t I32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
double F64(const uint8_t* p) {
  double v;
  std::memcpy(&v, p, 8);
  return v;
}

// 1..max decimal digits at [p, end), no leading zero (bar "0"); sets *n; -1 if none (digits() of
// tail-directory.ts).
int64_t Digits(const uint8_t* p, const uint8_t* end, size_t max, size_t* n) {
  int64_t v = 0;
  size_t k = 0;
  while (p + k < end && k <= max && p[k] >= '0' && p[k] <= '9') v = v * 10 + (p[k++] - '0');
  if (k == 0 || k > max || (k > 1 && p[0] == '0')) return -1;
  *n = k;
  return v;
}

// Block of an entry named obj.<block>.<stripe> (block <= 2^32-1, stripe <= 254); -1 otherwise.
int64_t EntryBlock(const uint8_t* b, size_t len) {
  const uint8_t* end = b + len;
  if (len < 7 || std::memcmp(b, "obj.", 4) != 0) return -1;
  const uint8_t* p = b + 4;
  size_t n = 0;
  const int64_t block = Digits(p, end, 10, &n);
  if (block < 0) return -1;
  p += n;
  if (p >= end || *p != '.') return -1;
  p++;
  const int64_t stripe = Digits(p, end, 3, &n);
  if (stripe < 0 || p + n != end) return -1;
  return block > 0xffffffffLL || stripe > 254 ? -1 : block;
}

struct TailDir {
  uint32_t count = 0;
  size_t cd_start = 0;
  uint64_t last_size = 0;
  uint32_t last_crc = 0;
  uint64_t last_lfh = 0;
  uint32_t last_name_len = 0;
};

// tailDirectory() of tail-directory.ts: the usual EOCD + central directory inside the tail.
bool ReadTailDirectory(uint64_t size, const uint8_t* t, size_t len, TailDir* out) {
  if (size == 0 || len < kEocdSize || len > size) return false;
  const size_t e = len - kEocdSize;
  if (U32(t + e) != kSigEocd || U16(t + e + 20) != 0) return false;
  if (U16(t + e + 4) != 0 || U16(t + e + 6) != 0) return false;
  const uint32_t count = U16(t + e + 10);
  if (U16(t + e + 8) != count || count == 0xffff) return false;
  const uint64_t cd_size = U32(t + e + 12);
  const uint64_t cd_offset = U32(t + e + 16);
  if (cd_size == kU32Max || cd_offset == kU32Max) return false;
  const uint64_t base = size - len;
  if (cd_offset + cd_size != base + e || cd_offset < base) return false;
  if (uint64_t{count} * kCdfhSize > cd_size) return false;
  const size_t cd_start = static_cast<size_t>(cd_offset - base);
  const size_t cd_end = cd_start + static_cast<size_t>(cd_size);  // == e
  out->last_size = 0;
  size_t p = cd_start;
  for (uint32_t i = 0; i < count; i++) {
    if (p + kCdfhSize > cd_end || U32(t + p) != kSigCdfh) return false;
    if ((U16(t + p + 8) & 1) != 0 || U16(t + p + 10) != 0) return false;  // encrypted, compressed
    const uint32_t crc = U32(t + p + 16);
    const uint64_t csize = U32(t + p + 20);
    const uint64_t usize = U32(t + p + 24);
    const uint32_t name_len = U16(t + p + 28);
    const size_t rec_len = kCdfhSize + name_len + U16(t + p + 30) + U16(t + p + 32);
    const uint64_t lfh = U32(t + p + 42);
    if (p + rec_len > cd_end) return false;
    if (usize == kU32Max || csize == kU32Max || lfh == kU32Max || csize != usize) return false;
    if (lfh > cd_offset || usize > cd_offset - lfh || kLfhSize + name_len > cd_offset - lfh - usize) return false;
    if (EntryBlock(t + p + kCdfhSize, name_len) != static_cast<int64_t>(i)) return false;
    if (usize != 0) {
      out->last_size = usize;
      out->last_crc = crc;
      out->last_lfh = lfh;
      out->last_name_len = name_len;
    }
    p += rec_len;
  }
  if (p != cd_end) return false;
  out->count = count;
  out->cd_start = cd_start;
  return true;
}

// fastCrcKind of record-builder.ts: 0 unknown, 1 crc32c, 2 crc32, -1 both match (the JS
// builder then looks at earlier entries: left to it).
int CrcKind(uint64_t size, const uint8_t* t, size_t len, const TailDir& d) {
  if (d.last_size == 0) return 0;
  const uint64_t base = size - len;
  if (d.last_lfh < base) return 0;
  const uint64_t start = d.last_lfh + kLfhSize + d.last_name_len - base;
  if (start + d.last_size > len) return 0;
  if (U16(t + (d.last_lfh - base) + 28) != 0) return 0;  // extra field
  const uint8_t* data = t + start;
  const size_t n = static_cast<size_t>(d.last_size);
  const bool c = Crc32c(data, n, 0) == d.last_crc;
  const bool z = Crc32(data, n, 0) == d.last_crc;
  return c && z ? -1 : c ? 1 : z ? 2 : 0;
}

// plainDecimal of xattrs.ts: 1..15 ASCII digits.
bool PlainDecimal(const uint8_t* p, int32_t n, double* out) {
  if (n <= 0 || n > 15) return false;
  uint64_t v = 0;
  for (int32_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (p[i] - '0');
  }
  *out = static_cast<double>(v);
  return true;
}

// checkPfn of pfn.ts, accepting only the plain case: ASCII, absolute, no empty / . / ..
// segment, below the localroot, inside an export. Sets the text length and the LFN's start.
bool UsualPfn(const UsualRules& r, const uint8_t* pf, size_t len, size_t* end_out, size_t* lfn_start) {
  const size_t end = len > 0 && pf[len - 1] == 0 ? len - 1 : len;
  if (end == 0 || end >= kPathMax || pf[0] != '/') return false;
  size_t seg = 1;
  for (size_t i = 1; i <= end; i++) {
    const uint8_t b = i < end ? pf[i] : '/';
    if (b == '/') {
      const size_t n = i - seg;
      if (n == 0 || (pf[seg] == '.' && (n == 1 || (n == 2 && pf[seg + 1] == '.')))) return false;
      seg = i + 1;
    } else if (b == 0 || b >= 0x80) {
      return false;
    }
  }
  size_t start = 0;
  if (r.has_localroot) {
    const size_t n = r.root.size();
    if (end < n + 1 || std::memcmp(pf, r.root.data(), n) != 0 || pf[n] != '/') return false;
    start = n;
  }
  const uint8_t* lfn = pf + start;
  const size_t lfn_len = end - start;
  for (const std::string& ex : r.exports) {
    const size_t n = ex.size();
    if (n == 0 || (lfn_len >= n && std::memcmp(lfn, ex.data(), n) == 0 && (lfn_len == n || lfn[n] == '/'))) {
      *end_out = end;
      *lfn_start = start;
      return true;
    }
  }
  return false;
}

void Hex8(uint32_t v, uint8_t* out) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 7; i >= 0; i--, v >>= 4) out[i] = static_cast<uint8_t>(kHex[v & 15]);
}

}  // namespace

bool CompactUsual(const UsualRules& rules, size_t nx, ByteSink* out, size_t rec, ByteSink* text) {
  constexpr uint8_t kNeed = kFlagFile | kFlagAscii | kFlagXattrs;
  const uint8_t* h = out->At(rec);
  if ((h[0] & (kNeed | kFlagBadName)) != kNeed || h[1] != kStepOk || nx != 5) return false;
  const size_t nlen = U16(h + 2);
  const uint8_t* name = h + kRecordFixed + 4 * nx;
  if (nlen == 0 || name[nlen - 1] != '%') return false;
  int32_t xl[5];
  const uint8_t* xv[5];
  const uint8_t* p = name + nlen;
  for (size_t i = 0; i < 5; i++) {
    xl[i] = I32(h + kRecordFixed + 4 * i);
    xv[i] = p;
    if (xl[i] >= 0) p += xl[i];
    else if (xl[i] != kAbsent) return false;  // oversized
  }
  const uint8_t* tail = p;
  const size_t tlen = static_cast<size_t>(I32(h + 40));
  const uint64_t size = static_cast<uint64_t>(F64(h + 16));

  size_t pfn_len = 0, lfn_start = 0;
  if (xl[0] < 0 || !UsualPfn(rules, xv[0], static_cast<size_t>(xl[0]), &pfn_len, &lfn_start)) return false;
  // usualEcXattrs: one namespace, both values plain decimals.
  const bool in_u = xl[3] == kAbsent && xl[4] == kAbsent;
  if (!in_u && (xl[1] != kAbsent || xl[2] != kAbsent)) return false;
  const int sv = in_u ? 1 : 3;
  double strpver = 0, filesize = 0;
  if (!PlainDecimal(xv[sv], xl[sv], &strpver) || !PlainDecimal(xv[sv + 1], xl[sv + 1], &filesize)) return false;
  TailDir d;
  if (!ReadTailDirectory(size, tail, tlen, &d)) return false;
  const int crc = CrcKind(size, tail, tlen, d);
  if (crc < 0) return false;

  uint8_t digest[kDigestChars];
  Hex8(Crc32c(tail + d.cd_start, tlen - d.cd_start, 0), digest);
  Hex8(Crc32(tail + d.cd_start, tlen - d.cd_start, 0), digest + 8);
  text->Reserve(nlen + pfn_len + kDigestChars);
  std::memcpy(text->End(), name, nlen);
  std::memcpy(text->End() + nlen, xv[0], pfn_len);
  std::memcpy(text->End() + nlen + pfn_len, digest, kDigestChars);
  text->Grow(nlen + pfn_len + kDigestChars);

  // Rewrite in place: ino, size and mtime (+8..+39) stay where they are.
  uint8_t* w = out->At(rec);
  w[0] = static_cast<uint8_t>(kFlagUsual | kNeed);
  w[1] = static_cast<uint8_t>(1 + (in_u ? 0 : 1) + 2 * crc);
  const uint16_t f16[3] = {static_cast<uint16_t>(nlen), static_cast<uint16_t>(pfn_len), static_cast<uint16_t>(lfn_start)};
  std::memcpy(w + 2, f16, sizeof f16);
  const double count = d.count;
  std::memcpy(w + 40, &strpver, 8);
  std::memcpy(w + 48, &filesize, 8);
  std::memcpy(w + 56, &count, 8);
  out->Truncate(rec + kUsualRecord);
  return true;
}

}  // namespace ecg
