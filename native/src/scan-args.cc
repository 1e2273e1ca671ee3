// Arguments and results shared by the walker's JS entry points (scan-dir-js.cc, scan-buckets.cc).
#include "scan-args.h"

#include <uv.h>

#include <string>
#include <utility>

namespace ecg {
namespace {

constexpr size_t kMaxXattrNames = 64;
constexpr size_t kMaxExports = 4096;
// Records mode reads values by position: SCAN_XATTRS of agent/scan/raw-data-file.ts.
const char* const kRecordXattrs[] = {"user.XrdFrm.Pfn", "user.U.xrdec.strpver", "user.U.xrdec.filesize", "user.xrdec.strpver",
                                     "user.xrdec.filesize"};
constexpr size_t kScanXattrNames = sizeof kRecordXattrs / sizeof kRecordXattrs[0];

std::string StripSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void ParseRecords(const Napi::CallbackInfo& info, const ArgReader& a, ScanParams* p) {
  if (info.Length() < 5 || info[4].IsUndefined()) return;
  if (!info[4].IsObject()) a.TypeFail("records must be an object {localroot?, exports}");
  Napi::Object o = info[4].As<Napi::Object>();
  if (!p->alt_pair) a.RangeFail("records mode needs xattrNames = SCAN_XATTRS");
  Napi::Value lr = o.Get("localroot");
  if (!lr.IsUndefined()) {
    if (!lr.IsString()) a.TypeFail("records.localroot must be a string");
    std::string root = lr.As<Napi::String>().Utf8Value();
    p->usual.has_localroot = !root.empty();  // pfn.ts: an empty localroot is none
    p->usual.root = StripSlashes(std::move(root));
  }
  Napi::Value ex = o.Get("exports");
  if (!ex.IsArray()) a.TypeFail("records.exports must be an array of strings");
  Napi::Array list = ex.As<Napi::Array>();
  if (list.Length() > kMaxExports) a.RangeFail("records.exports holds too many paths");
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) a.TypeFail("records.exports[" + std::to_string(i) + "] must be a string");
    p->usual.exports.push_back(StripSlashes(v.As<Napi::String>().Utf8Value()));
  }
  p->usual.enabled = true;
}

}  // namespace

std::string ScanDirArg(const ArgReader& a, const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) a.TypeFail(name + " must be a string");
  std::string dir = v.As<Napi::String>().Utf8Value();
  if (dir.empty() || dir.find('\0') != std::string::npos) a.TypeFail(name + " must be a non-empty path without NUL bytes");
  return dir;
}

void ParseScanOptions(const Napi::CallbackInfo& info, const ArgReader& a, ScanParams* p, bool records) {
  p->tail_bytes = static_cast<size_t>(a.Int(1, "tailBytes", 0, 1 << 30));
  p->max_xattr = static_cast<size_t>(a.Int(2, "maxXattr", 0, 1 << 24));
  if (!info[3].IsArray()) a.TypeFail("xattrNames must be an array of strings");
  Napi::Array names = info[3].As<Napi::Array>();
  if (names.Length() > kMaxXattrNames) a.RangeFail("xattrNames holds more than 64 names");
  for (uint32_t i = 0; i < names.Length(); i++) {
    Napi::Value v = names.Get(i);
    if (!v.IsString()) a.TypeFail("xattrNames[" + std::to_string(i) + "] must be a string");
    p->xattr_names.push_back(v.As<Napi::String>().Utf8Value());
  }
  if (records) {
    bool scan = p->xattr_names.size() == kScanXattrNames;
    for (size_t i = 0; scan && i < kScanXattrNames; i++) scan = p->xattr_names[i] == kRecordXattrs[i];
    p->alt_pair = scan;
    ParseRecords(info, a, p);
  }
}

Napi::Value DirError(Napi::Env env, int err, const char* syscall, const std::string& dir) {
  Napi::Error e = Napi::Error::New(env, std::string(uv_err_name(-err)) + ": " + uv_strerror(-err) + ", " + syscall + " '" + dir + "'");
  e.Set("code", uv_err_name(-err));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", syscall);
  e.Set("path", dir);
  return e.Value();
}

Napi::Value ToBuffer(Napi::Env env, const ByteSink& sink) {
  return Napi::Buffer<uint8_t>::Copy(env, sink.Data(), sink.Size());
}

}  // namespace ecg
