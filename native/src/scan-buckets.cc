// scanBuckets(dirs, tailBytes, maxXattr, xattrNames, records, threads, onBucket) walks every
// directory of `dirs` (each as scanDir would) on `threads` threads of its own that take the
// next directory from a shared counter, as bench/c/scan-walker.c does: a walker never waits for
// the main thread between buckets (with one walk per scanDir call it did, once per bucket, and
// on a busy 2-core machine that wait was a scheduler slice). Each finished bucket reaches
// onBucket(index, buffer, error) on the main thread, in completion order; onBucket returning
// false, or throwing, stops the walk after the buckets in progress. Returns a Promise settled
// once every thread has ended (rejected with what onBucket threw). At most kQueuedPerThread
// results per thread wait for the main thread: a slow consumer holds the walkers back instead
// of piling up buffers. That limit is ours, not the thread-safe function's queue size: Node 20
// wakes one blocked caller per pop of a full queue, and a second blocked walker slept forever.
// Own threads, not libuv's pool: a scan of many minutes would otherwise hold pool threads that
// fs and crypto calls of the rest of the process need.
#include "scan-buckets.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "scan-args.h"
#include "scan-dir.h"

namespace ecg {
namespace {

constexpr uint32_t kMaxThreads = 64;
constexpr uint32_t kMaxDirs = 1u << 24;
constexpr size_t kQueuedPerThread = 2;

struct Finished {
  size_t index = 0;
  ByteSink sink;
  bool ok = false;
  int err = 0;
  const char* syscall = "";
};

struct Job;
void CallJs(Napi::Env env, Napi::Function on_bucket, Job* job, Finished* f);
using Tsfn = Napi::TypedThreadSafeFunction<Job, Finished, CallJs>;

struct Job {
  ScanParams params;  // params.dir unused: each walk sets its own copy's
  std::vector<std::string> dirs;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable room;  // a result was taken, or stop
  size_t waiting = 0;             // results handed over, not yet taken by CallJs (under mu)
  size_t max_waiting = 1;
  std::vector<std::thread> threads;
  napi_deferred deferred = nullptr;
  napi_ref thrown = nullptr;  // {0: what was thrown} (no napi_ref to a primitive in Node-API 8); main thread only
  bool failed = false;
  Tsfn tsfn;
};

// A walker's scratch block above this is dropped after the bucket (one of big tails).
constexpr size_t kKeepScratch = 4u << 20;

void Walk(Job* job) {
  ScanParams p = job->params;
  // Walked into a block kept across buckets, then copied out at its exact size: a fresh
  // block per bucket, grown by doubling past malloc's mmap threshold, cost page faults
  // (kernel time) on every bucket.
  ByteSink scratch;
  while (!job->stop.load(std::memory_order_relaxed)) {
    const size_t i = job->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job->dirs.size()) break;
    auto f = std::make_unique<Finished>();
    f->index = i;
    try {
      p.dir = job->dirs[i];  // a copy: inside the try, as it allocates
      scratch.Truncate(0);
      f->ok = ScanDirectory(p, &scratch, &f->err, &f->syscall);
      if (f->ok) f->sink.Assign(scratch.Data(), scratch.Size());
      if (scratch.Capacity() > kKeepScratch) scratch = ByteSink();
    } catch (const std::bad_alloc&) {
      scratch = ByteSink();
      f->sink = ByteSink();
      f->ok = false;
      f->err = ENOMEM;
      f->syscall = "scandir";
    }
    {
      std::unique_lock<std::mutex> lock(job->mu);
      job->room.wait(lock, [job] { return job->waiting < job->max_waiting || job->stop.load(); });
      job->waiting++;
    }
    if (job->tsfn.NonBlockingCall(f.get()) != napi_ok) return;  // closing: already released for us
    f.release();  // CallJs owns it now
  }
  job->tsfn.Release();
}

void Stop(Job* job) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->stop.store(true);
  }
  job->room.notify_all();
}

// Called by CallJs for every result it takes (also when JS is gone).
void Taken(Job* job) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->waiting--;
  }
  job->room.notify_all();
}

// Raw calls, statuses ignored: while the env is torn down they fail, and node-addon-api's
// wrappers would then abort the process (Error::New is fatal there).
void KeepThrown(napi_env env, Job* job, napi_value v) {
  napi_value box = nullptr;
  if (v != nullptr && napi_create_object(env, &box) == napi_ok && napi_set_element(env, box, 0, v) == napi_ok)
    napi_create_reference(env, box, 1, &job->thrown);
}

void CallJs(Napi::Env env, Napi::Function on_bucket, Job* job, Finished* raw) {
  std::unique_ptr<Finished> f(raw);
  // env == nullptr: Node empties the queue after Finish (job is gone, walkers joined).
  if (env == nullptr) return;
  Taken(job);
  if (job->stop.load(std::memory_order_relaxed)) return;
  try {
    Napi::Value buf = env.Null();
    if (f->ok) {
      // Handed over, not copied: this thread returns to its event loop after every bucket, so
      // the finalizer runs (the tight-loop concern of ToBuffer does not apply).
      const size_t size = f->sink.Size();
      buf = Napi::Buffer<uint8_t>::New(env, f->sink.Release(), size, [](Napi::Env, uint8_t* d) { std::free(d); });
    }
    Napi::Value err = f->ok ? env.Null() : DirError(env, f->err, f->syscall, job->dirs[f->index]);
    Napi::Value r = on_bucket.Call({Napi::Number::New(env, static_cast<double>(f->index)), buf, err});
    if (r.IsBoolean() && !r.As<Napi::Boolean>().Value()) Stop(job);
  } catch (const Napi::Error& e) {
    Stop(job);
    if (!job->failed) {
      job->failed = true;
      KeepThrown(env, job, e.Value());
    }
  } catch (const std::exception& e) {
    // bad_alloc building the Buffer or the error: must not escape into Node's queue drain
    Stop(job);
    if (!job->failed) {
      job->failed = true;
      napi_value msg = nullptr, err = nullptr;
      if (napi_create_string_utf8(env, e.what(), NAPI_AUTO_LENGTH, &msg) == napi_ok && napi_create_error(env, nullptr, msg, &err) == napi_ok) KeepThrown(env, job, err);
    }
  }
}

// Runs on the main thread once every walker has released the function and its queue is empty.
void Finish(Napi::Env env, void*, Job* job) {
  Stop(job);  // env teardown: walkers may wait for room that no CallJs will make
  for (std::thread& t : job->threads) t.join();
  napi_value v = nullptr, box = nullptr;
  if (!job->failed) {
    if (napi_get_undefined(env, &v) == napi_ok) napi_resolve_deferred(env, job->deferred, v);
  } else if (job->thrown != nullptr && napi_get_reference_value(env, job->thrown, &box) == napi_ok && box != nullptr &&
             napi_get_element(env, box, 0, &v) == napi_ok) {
    napi_reject_deferred(env, job->deferred, v);
  }
  if (job->thrown != nullptr) napi_delete_reference(env, job->thrown);
  delete job;
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgReader a(info, "scanBuckets", 7, "(dirs, tailBytes, maxXattr, xattrNames, records, threads, onBucket)");
  auto job = std::make_unique<Job>();
  if (!info[0].IsArray()) a.TypeFail("dirs must be an array of strings");
  Napi::Array dirs = info[0].As<Napi::Array>();
  if (dirs.Length() > kMaxDirs) a.RangeFail("dirs holds too many paths");
  job->dirs.reserve(dirs.Length());
  for (uint32_t i = 0; i < dirs.Length(); i++) job->dirs.push_back(ScanDirArg(a, dirs.Get(i), "dirs[" + std::to_string(i) + "]"));
  ParseScanOptions(info, a, &job->params);
  const uint32_t want = static_cast<uint32_t>(a.Int(5, "threads", 1, kMaxThreads));
  if (!info[6].IsFunction()) a.TypeFail("onBucket must be a function");
  const size_t n = dirs.Length() == 0 ? 1 : std::min<size_t>(want, dirs.Length());
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred, &promise), Napi::Value());
  job->max_waiting = kQueuedPerThread * n;
  job->threads.reserve(n);  // emplace_back below then throws only system_error (no thread)
  job->tsfn = Tsfn::New(env, info[6].As<Napi::Function>(), "ecguard_native:scanBuckets", 0, n, job.get(), Finish,
                        static_cast<void*>(nullptr));
  Job* j = job.release();  // Finish deletes it, from now on
  for (size_t t = 0; t < n; t++) {
    try {
      j->threads.emplace_back(Walk, j);
    } catch (const std::system_error&) {
      j->tsfn.Release();  // its share; the threads started carry on alone
    }
  }
  if (j->threads.empty()) {
    // Nothing walks: Finish runs later (never inside this call) and rejects with this.
    j->failed = true;
    KeepThrown(env, j, Napi::Error::New(env, "scanBuckets: cannot start a walker thread").Value());
  }
  return Napi::Value(env, promise);
}

// Bad arguments reject the promise rather than throw, like scanDir.
Napi::Value ScanBuckets(const Napi::CallbackInfo& info) {
  try {
    return Start(info);
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(info.Env());
    d.Reject(e.Value());
    return d.Promise();
  }
}

}  // namespace

void RegisterScanBuckets(Napi::Env env, Napi::Object exports) {
  exports.Set("scanBuckets", Napi::Function::New(env, ScanBuckets, "scanBuckets"));
}

}  // namespace ecg
