// ecEncode / ecDecode, their async (libuv thread pool) variants, decodeCacheStats and
// alignOffset.
#include <climits>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "isal.h"
#include "ops.h"
#include "rs-tables.h"

namespace ecg {
namespace {

constexpr int kMaxStripes = 255;

// Everything ec_encode_data needs; plain data so it can run off the JS thread.
struct Job {
  int len = 0;
  int k = 0;
  int rows = 0;
  Tables tables;
  std::vector<unsigned char*> in;
  std::vector<unsigned char*> out;
  std::vector<Napi::Object> owners;  // the JS buffers behind in/out
};

void Run(Job& job) {
  if (job.len == 0 || job.rows == 0) return;
  Isal().ec_encode_data(job.len, job.k, job.rows, const_cast<unsigned char*>(job.tables->data()), job.in.data(), job.out.data());
}

void Adopt(Job& job, BufferList& list, std::vector<unsigned char*>& dst) {
  dst = std::move(list.ptrs);
  for (auto& o : list.owners) job.owners.push_back(o);
}

// ISA-L reads the sources once per group of up to 6 outputs and re-reads a tail block, so an
// output overlapping a source gives wrong bytes (not ISA-L's contract either): reject it.
void RejectOverlap(const ArgReader& a, const Job& job, const char* in_name, const char* out_name) {
  const uintptr_t n = static_cast<uintptr_t>(job.len);
  if (n == 0) return;
  for (size_t r = 0; r < job.out.size(); r++) {
    const uintptr_t o = reinterpret_cast<uintptr_t>(job.out[r]);
    for (size_t j = 0; j < job.in.size(); j++) {
      const uintptr_t i = reinterpret_cast<uintptr_t>(job.in[j]);
      if (o < i + n && i < o + n) {
        a.RangeFail(std::string(out_name) + "[" + std::to_string(r) + "] overlaps " + in_name + "[" + std::to_string(j) + "]");
      }
    }
  }
}

int ReadK(const ArgReader& a) { return a.Int(0, "k", 1, kMaxStripes - 1); }

int ReadM(const ArgReader& a, int k) {
  int m = a.Int(1, "m", 1, kMaxStripes - 1);
  if (k + m > kMaxStripes) a.RangeFail("k + m must be at most 255, got " + std::to_string(k + m));
  return m;
}

Job ParseEncode(const Napi::CallbackInfo& info, const char* fn, bool async) {
  ArgReader a(info, fn, 5, "(k, m, data, parity, len)");
  Job job;
  job.k = ReadK(a);
  int m = ReadM(a, job.k);
  job.len = a.Int(4, "len", 0, INT_MAX);
  job.rows = m;
  std::vector<Napi::Value> data_v = a.Elements(2, "data", static_cast<size_t>(job.k));
  std::vector<Napi::Value> parity_v = a.Elements(3, "parity", static_cast<size_t>(m));
  if (async) {
    a.RejectResizable(data_v, "data");
    a.RejectResizable(parity_v, "parity");
  }
  BufferList data = a.Views(data_v, "data", static_cast<size_t>(job.len));  // no JS runs from here on
  BufferList parity = a.Views(parity_v, "parity", static_cast<size_t>(job.len));
  Adopt(job, data, job.in);
  Adopt(job, parity, job.out);
  RejectOverlap(a, job, "data", "parity");
  job.tables = EncodeTables(job.k, m);
  return job;
}

Job ParseDecode(const Napi::CallbackInfo& info, const char* fn, bool async) {
  ArgReader a(info, fn, 7, "(k, m, srcIdx, src, wantIdx, out, len)");
  Job job;
  job.k = ReadK(a);
  int m = ReadM(a, job.k);
  job.len = a.Int(6, "len", 0, INT_MAX);
  std::vector<int> src_idx = a.Indices(2, "srcIdx", job.k + m);
  if (src_idx.size() != static_cast<size_t>(job.k)) {
    a.RangeFail("srcIdx must hold exactly k = " + std::to_string(job.k) + " indices, got " + std::to_string(src_idx.size()));
  }
  std::vector<bool> seen(static_cast<size_t>(job.k + m), false);
  for (int s : src_idx) {
    if (seen[static_cast<size_t>(s)]) a.RangeFail("srcIdx repeats stripe index " + std::to_string(s));
    seen[static_cast<size_t>(s)] = true;
  }
  std::vector<int> want_idx = a.Indices(4, "wantIdx", job.k + m);
  job.rows = static_cast<int>(want_idx.size());
  std::vector<Napi::Value> src_v = a.Elements(3, "src", src_idx.size());
  std::vector<Napi::Value> out_v = a.Elements(5, "out", want_idx.size());
  if (async) {
    a.RejectResizable(src_v, "src");
    a.RejectResizable(out_v, "out");
  }
  BufferList src = a.Views(src_v, "src", static_cast<size_t>(job.len));  // no JS runs from here on
  BufferList out = a.Views(out_v, "out", static_cast<size_t>(job.len));
  Adopt(job, src, job.in);
  Adopt(job, out, job.out);
  RejectOverlap(a, job, "src", "out");
  if (job.rows > 0) {
    try {
      job.tables = DecodeTables(job.k, m, src_idx, want_idx);
    } catch (const SingularMatrix& e) {
      throw Napi::Error::New(info.Env(), std::string(fn) + ": " + e.what());
    }
  }
  return job;
}

// Runs one Job on the thread pool; references keep the views alive until the promise settles.
// They do not stop JS from detaching (transferring) an ArrayBuffer, which frees the memory the
// pool thread uses; Node-API cannot prevent that, so callers must not transfer a buffer before
// the promise settles (NativeCodec marks its inputs untransferable, and owns its outputs).
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Job job)
      : Napi::AsyncWorker(env, "ecguard_native:ec"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (auto& o : job_.owners) refs_.push_back(Napi::Persistent(o));
    job_.owners.clear();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { Run(job_); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
};

// Async entry points report bad arguments as a rejected promise, not a synchronous throw.
Napi::Value Async(const Napi::CallbackInfo& info, Job (*parse)(const Napi::CallbackInfo&, const char*, bool), const char* fn) {
  Napi::Env env = info.Env();
  Job job;
  try {
    job = parse(info, fn, true);
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  } catch (const std::exception& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(Napi::Error::New(env, std::string(fn) + ": " + e.what()).Value());
    return d.Promise();
  }
  auto* worker = new JobWorker(env, std::move(job));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Value EcEncode(const Napi::CallbackInfo& info) {
  Job job = ParseEncode(info, "ecEncode", false);
  Run(job);
  return info.Env().Undefined();
}

Napi::Value EcDecode(const Napi::CallbackInfo& info) {
  Job job = ParseDecode(info, "ecDecode", false);
  Run(job);
  return info.Env().Undefined();
}

Napi::Value EcEncodeAsync(const Napi::CallbackInfo& info) { return Async(info, ParseEncode, "ecEncodeAsync"); }
Napi::Value EcDecodeAsync(const Napi::CallbackInfo& info) { return Async(info, ParseDecode, "ecDecodeAsync"); }

Napi::Value CacheStatsJs(const Napi::CallbackInfo& info) {
  CacheStats s = DecodeCacheStats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(s.misses)));
  o.Set("size", Napi::Number::New(info.Env(), static_cast<double>(s.size)));
  return o;
}

// Bytes to skip from the start of `buf` to reach a 64-byte boundary. Lets JS carve aligned
// chunks out of ordinary (slightly larger) Buffers: ISA-L's vector loads run ~10-20% faster on
// aligned 1 MiB chunks, and Node's large Buffers start 16 bytes past a page boundary. (Node
// memory rather than posix_memalign'd external buffers: V8 frees it like any other Buffer.)
Napi::Value AlignOffset(const Napi::CallbackInfo& info) {
  ArgReader a(info, "alignOffset", 1, "(buf)");
  size_t n = 0;
  uintptr_t addr = reinterpret_cast<uintptr_t>(a.Bytes(0, "buf", &n));
  return Napi::Number::New(info.Env(), static_cast<double>((64 - addr % 64) % 64));
}

}  // namespace

void RegisterEcOps(Napi::Env env, Napi::Object exports) {
  exports.Set("ecEncode", Napi::Function::New(env, EcEncode, "ecEncode"));
  exports.Set("ecDecode", Napi::Function::New(env, EcDecode, "ecDecode"));
  exports.Set("ecEncodeAsync", Napi::Function::New(env, EcEncodeAsync, "ecEncodeAsync"));
  exports.Set("ecDecodeAsync", Napi::Function::New(env, EcDecodeAsync, "ecDecodeAsync"));
  exports.Set("alignOffset", Napi::Function::New(env, AlignOffset, "alignOffset"));
  exports.Set("decodeCacheStats", Napi::Function::New(env, CacheStatsJs, "decodeCacheStats"));
}

}  // namespace ecg
