// Arguments and results shared by the walker's JS entry points: scanDir / scanDirSync
// (scan-dir-js.cc) and scanBuckets (scan-buckets.cc) take the same (tailBytes, maxXattr,
// xattrNames, records?) after their directory argument, and report a directory that cannot be
// listed the same way.
#pragma once

#include <napi.h>

#include <string>

#include "args.h"
#include "scan-dir.h"

namespace ecg {

// A directory path argument: a non-empty string without NUL bytes.
std::string ScanDirArg(const ArgReader& a, const Napi::Value& v, const std::string& name);

// Arguments 1..3 (tailBytes, maxXattr, xattrNames) into *p and, when `records` (the scan entry
// points), 4 (records mode) and alt_pair; p->dir is left alone.
void ParseScanOptions(const Napi::CallbackInfo& info, const ArgReader& a, ScanParams* p, bool records = true);

// Shaped like Node's fs errors: code, errno, syscall, path.
Napi::Value DirError(Napi::Env env, int err, const char* syscall, const std::string& dir);

// Copied into a Buffer V8 allocates and frees itself: finalizers of external Buffers run only
// when the thread returns to its event loop, and a worker scanning buckets in a tight loop never
// does, so external blocks piled up (+290 KB RSS per bucket, measured).
Napi::Value ToBuffer(Napi::Env env, const ByteSink& sink);

}  // namespace ecg
