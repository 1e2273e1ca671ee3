// JS entry points of the bucket walker: scanDirSync(dirPath, tailBytes, maxXattr, xattrNames,
// records?) returns one Buffer (layout in scan-dir.h); scanDir(...) does the same on the libuv
// pool and returns a Promise. `records` = {localroot?, exports} turns on records mode
// (scan-usual.h). A directory that cannot be listed throws / rejects with Node's errno code.
#include <uv.h>

#include <string>
#include <utility>

#include "args.h"
#include "scan-dir.h"

namespace ecg {
namespace {

constexpr size_t kMaxXattrNames = 64;
constexpr size_t kMaxExports = 4096;
// Records mode reads values by position: SCAN_XATTRS of agent/scan/raw-data-file.ts.
const char* const kRecordXattrs[] = {"user.XrdFrm.Pfn", "user.U.xrdec.strpver", "user.U.xrdec.filesize", "user.xrdec.strpver",
                                     "user.xrdec.filesize"};

std::string StripSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void ParseRecords(const Napi::CallbackInfo& info, const ArgReader& a, ScanParams* p) {
  if (info.Length() < 5 || info[4].IsUndefined()) return;
  if (!info[4].IsObject()) a.TypeFail("records must be an object {localroot?, exports}");
  Napi::Object o = info[4].As<Napi::Object>();
  bool same = p->xattr_names.size() == 5;
  for (size_t i = 0; same && i < 5; i++) same = p->xattr_names[i] == kRecordXattrs[i];
  if (!same) a.RangeFail("records mode needs xattrNames = SCAN_XATTRS");
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

ScanParams ParseScan(const Napi::CallbackInfo& info, const char* fn) {
  ArgReader a(info, fn, 4, "(dirPath, tailBytes, maxXattr, xattrNames)");
  ScanParams p;
  if (!info[0].IsString()) a.TypeFail("dirPath must be a string");
  p.dir = info[0].As<Napi::String>().Utf8Value();
  if (p.dir.empty() || p.dir.find('\0') != std::string::npos) a.TypeFail("dirPath must be a non-empty path without NUL bytes");
  p.tail_bytes = static_cast<size_t>(a.Int(1, "tailBytes", 0, 1 << 30));
  p.max_xattr = static_cast<size_t>(a.Int(2, "maxXattr", 0, 1 << 24));
  if (!info[3].IsArray()) a.TypeFail("xattrNames must be an array of strings");
  Napi::Array names = info[3].As<Napi::Array>();
  if (names.Length() > kMaxXattrNames) a.RangeFail("xattrNames holds more than 64 names");
  for (uint32_t i = 0; i < names.Length(); i++) {
    Napi::Value v = names.Get(i);
    if (!v.IsString()) a.TypeFail("xattrNames[" + std::to_string(i) + "] must be a string");
    p.xattr_names.push_back(v.As<Napi::String>().Utf8Value());
  }
  ParseRecords(info, a, &p);
  return p;
}

// Shaped like Node's fs errors: code, errno, syscall, path.
Napi::Value DirError(Napi::Env env, int err, const char* syscall, const std::string& dir) {
  Napi::Error e = Napi::Error::New(env, std::string(uv_err_name(-err)) + ": " + uv_strerror(-err) + ", " + syscall + " '" + dir + "'");
  e.Set("code", uv_err_name(-err));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", syscall);
  e.Set("path", dir);
  return e.Value();
}

// Copied into a Buffer V8 allocates and frees itself: finalizers of external Buffers run only
// when the thread returns to its event loop, and a worker scanning buckets in a tight loop never
// does, so external blocks piled up (+290 KB RSS per bucket, measured).
Napi::Value ToBuffer(Napi::Env env, const ByteSink& sink) {
  return Napi::Buffer<uint8_t>::Copy(env, sink.Data(), sink.Size());
}

// One scratch block per JS thread, kept between calls (no realloc churn), dropped when a bucket
// of big tails made it large.
constexpr size_t kKeepScratch = 4u << 20;

Napi::Value ScanDirSync(const Napi::CallbackInfo& info) {
  ScanParams p = ParseScan(info, "scanDirSync");
  thread_local ByteSink sink;
  sink.Truncate(0);
  int err = 0;
  const char* syscall = "";
  const bool ok = ScanDirectory(p, &sink, &err, &syscall);
  Napi::Value out = ok ? ToBuffer(info.Env(), sink) : DirError(info.Env(), err, syscall, p.dir);
  if (sink.Capacity() > kKeepScratch) sink = ByteSink();
  if (!ok) throw Napi::Error(info.Env(), out);
  return out;
}

class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, ScanParams p)
      : Napi::AsyncWorker(env, "ecguard_native:scanDir"), p_(std::move(p)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { ok_ = ScanDirectory(p_, &sink_, &err_, &syscall_); }
  void OnOK() override {
    if (ok_) deferred_.Resolve(ToBuffer(Env(), sink_));
    else deferred_.Reject(DirError(Env(), err_, syscall_, p_.dir));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  ScanParams p_;
  ByteSink sink_;
  bool ok_ = false;
  int err_ = 0;
  const char* syscall_ = "";
  Napi::Promise::Deferred deferred_;
};

// Bad arguments reject the promise rather than throw, like ecEncodeAsync.
Napi::Value ScanDirAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScanParams p;
  try {
    p = ParseScan(info, "scanDir");
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
  auto* worker = new ScanWorker(env, std::move(p));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void RegisterScanOps(Napi::Env env, Napi::Object exports) {
  exports.Set("scanDirSync", Napi::Function::New(env, ScanDirSync, "scanDirSync"));
  exports.Set("scanDir", Napi::Function::New(env, ScanDirAsync, "scanDir"));
}

}  // namespace ecg
