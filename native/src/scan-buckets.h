// scanBuckets: many bucket directories walked on threads of the walker's own (scan-buckets.cc).
#pragma once

#include <napi.h>

namespace ecg {

void RegisterScanBuckets(Napi::Env env, Napi::Object exports);

}  // namespace ecg
