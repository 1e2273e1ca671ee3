// JS entry points of the bucket walker: scanDirSync(dirPath, tailBytes, maxXattr, xattrNames,
// records?) returns one Buffer (layout in scan-dir.h); scanDir(...) does the same on the libuv
// pool and returns a Promise. `records` = {localroot?, exports} turns on records mode
// (scan-usual.h). A directory that cannot be listed throws / rejects with Node's errno code.
#include <uv.h>

#include <string>
#include <utility>

#include "scan-args.h"
#include "scan-buckets.h"
#include "scan-dir.h"

namespace ecg {
namespace {

ScanParams ParseScan(const Napi::CallbackInfo& info, const char* fn) {
  ArgReader a(info, fn, 4, "(dirPath, tailBytes, maxXattr, xattrNames)");
  ScanParams p;
  p.dir = ScanDirArg(a, info[0], "dirPath");
  ParseScanOptions(info, a, &p);
  return p;
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

// scanDir on the libuv pool; with `name`, readFileTail (that one file of the directory).
class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, ScanParams p, std::string name = std::string())
      : Napi::AsyncWorker(env, name.empty() ? "ecguard_native:scanDir" : "ecguard_native:readFileTail"),
        p_(std::move(p)), name_(std::move(name)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    ok_ = name_.empty() ? ScanDirectory(p_, &sink_, &err_, &syscall_) : ScanOneFile(p_, name_, &sink_, &err_, &syscall_);
  }
  void OnOK() override {
    if (ok_) deferred_.Resolve(ToBuffer(Env(), sink_));
    else deferred_.Reject(DirError(Env(), err_, syscall_, p_.dir));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  ScanParams p_;
  std::string name_;
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

// readFileTail(dirPath, tailBytes, maxXattr, xattrNames, name): one file of a directory in one
// trip to the libuv pool (open dir, openat, fstat, fgetxattr×n, pread, close), as a scanDir
// result of one record. What a peer's ReadDirectory costs otherwise: a dozen async fs calls.
constexpr size_t kMaxFileName = 4096;

Napi::Value ReadFileTailAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScanParams p;
  std::string name;
  try {
    ArgReader a(info, "readFileTail", 5, "(dirPath, tailBytes, maxXattr, xattrNames, name)");
    p.dir = ScanDirArg(a, info[0], "dirPath");
    ParseScanOptions(info, a, &p, false);
    if (!info[4].IsString()) a.TypeFail("name must be a string");
    name = info[4].As<Napi::String>().Utf8Value();
    if (name.empty() || name.size() > kMaxFileName || name.find('/') != std::string::npos || name.find('\0') != std::string::npos || name == "." || name == "..") {
      a.TypeFail("name must be one path component (no '/', no NUL, not . or ..)");
    }
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
  auto* worker = new ScanWorker(env, std::move(p), std::move(name));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void RegisterScanOps(Napi::Env env, Napi::Object exports) {
  exports.Set("scanDirSync", Napi::Function::New(env, ScanDirSync, "scanDirSync"));
  exports.Set("scanDir", Napi::Function::New(env, ScanDirAsync, "scanDir"));
  exports.Set("readFileTail", Napi::Function::New(env, ReadFileTailAsync, "readFileTail"));
  RegisterScanBuckets(env, exports);
}

}  // namespace ecg
