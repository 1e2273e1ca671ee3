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
  RegisterScanBuckets(env, exports);
}

}  // namespace ecg
