// crc32c / crc32 over ISA-L, plus isalInfo. Both return the standard (finalised) CRC and take
// the previous finalised CRC as `prev`, so calls chain: crc(b, crc(a)) == crc(a ++ b).
#include <isa-l.h>  // version macros only

#include <algorithm>
#include <cstdint>
#include <string>

#include "args.h"
#include "crc.h"
#include "isal.h"
#include "ops.h"

namespace ecg {

// crc32_iscsi takes an int length; feed large buffers in pieces.
constexpr size_t kPiece = size_t{1} << 30;

// The scan walker calls these four times per archive: a function-local static is one load,
// where Isal()'s call_once cost a TLS lookup per call (~1% of the walker's user time).
static const IsalApi& Api() {
  static const IsalApi& api = Isal();
  return api;
}

// Measured: crc32_iscsi neither pre- nor post-inverts, so we do both around it.
uint32_t Crc32c(const uint8_t* p, size_t n, uint32_t prev) {
  uint32_t state = ~prev;
  for (size_t off = 0; off < n; off += kPiece) {
    size_t piece = std::min(kPiece, n - off);
    state = Api().crc32_iscsi(const_cast<uint8_t*>(p + off), static_cast<int>(piece), state);
  }
  return ~state;
}

// Measured: crc32_gzip_refl inverts on entry and exit itself, so it chains on finalised values.
uint32_t Crc32(const uint8_t* p, size_t n, uint32_t prev) {
  return Api().crc32_gzip_refl(prev, p, n);
}

namespace {

template <uint32_t (*Fn)(const uint8_t*, size_t, uint32_t)>
Napi::Value CrcJs(const Napi::CallbackInfo& info, const char* fn) {
  ArgReader a(info, fn, 1, "(buf, prev = 0)");
  size_t n = 0;
  uint8_t* p = a.Bytes(0, "buf", &n);
  uint32_t prev = a.Uint32Or(1, "prev", 0);
  return Napi::Number::New(info.Env(), n == 0 ? prev : Fn(p, n, prev));
}

Napi::Value Crc32cJs(const Napi::CallbackInfo& info) { return CrcJs<Crc32c>(info, "crc32c"); }
Napi::Value Crc32Js(const Napi::CallbackInfo& info) { return CrcJs<Crc32>(info, "crc32"); }

// Header version, the shared object actually loaded, and the CPU features ISA-L dispatches on.
Napi::Value IsalInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("headerVersion", std::to_string(ISAL_MAJOR_VERSION) + "." + std::to_string(ISAL_MINOR_VERSION) + "." +
                             std::to_string(ISAL_PATCH_VERSION));
  o.Set("library", Isal().path);
  o.Set("binding", "dlopen RTLD_DEEPBIND");
  __builtin_cpu_init();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx2", __builtin_cpu_supports("avx2") != 0);
  cpu.Set("avx512f", __builtin_cpu_supports("avx512f") != 0);
  cpu.Set("avx512bw", __builtin_cpu_supports("avx512bw") != 0);
  cpu.Set("gfni", __builtin_cpu_supports("gfni") != 0);
  cpu.Set("vpclmulqdq", __builtin_cpu_supports("vpclmulqdq") != 0);
  o.Set("cpu", cpu);
  return o;
}

}  // namespace

void RegisterCrcOps(Napi::Env env, Napi::Object exports) {
  exports.Set("crc32c", Napi::Function::New(env, Crc32cJs, "crc32c"));
  exports.Set("crc32", Napi::Function::New(env, Crc32Js, "crc32"));
  exports.Set("isalInfo", Napi::Function::New(env, IsalInfo, "isalInfo"));
}

}  // namespace ecg
