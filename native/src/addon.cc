// ecguard_native: ISA-L erasure coding and CRCs for ecguard (see shared/codec/native-codec.ts).
#include <napi.h>

#include <exception>

#include "isal.h"
#include "ns-walk.h"
#include "ops.h"
#include "scan-dir.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  try {
    ecg::Isal();  // fail the require() with the cause, not a later call
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("ecguard_native: ") + e.what());
  }
  ecg::RegisterEcOps(env, exports);
  ecg::RegisterCrcOps(env, exports);
  ecg::RegisterScanOps(env, exports);
  ecg::RegisterNsOps(env, exports);
  return exports;
}

NODE_API_MODULE(ecguard_native, Init)
