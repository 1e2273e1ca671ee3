// Each source file registers its own exports.
#pragma once

#include <napi.h>

namespace ecg {
void RegisterEcOps(Napi::Env env, Napi::Object exports);
void RegisterCrcOps(Napi::Env env, Napi::Object exports);
}  // namespace ecg
