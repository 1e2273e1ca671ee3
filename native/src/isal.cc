// Loads libisal.so.2 with RTLD_DEEPBIND and resolves the functions the addon uses (see isal.h).
#include "isal.h"

#include <dlfcn.h>
#include <isa-l.h>  // types only: checked below, never called directly

#include <mutex>
#include <stdexcept>
#include <type_traits>

namespace ecg {
namespace {

// Our declarations must match the real ones (decltype does not reference the symbols).
#define ECG_SAME_TYPE(fn) \
  static_assert(std::is_same_v<decltype(IsalApi::fn), decltype(&::fn)>, #fn " signature differs from isa-l.h")
ECG_SAME_TYPE(ec_encode_data);
ECG_SAME_TYPE(ec_init_tables);
ECG_SAME_TYPE(gf_gen_cauchy1_matrix);
ECG_SAME_TYPE(gf_invert_matrix);
ECG_SAME_TYPE(gf_mul);
ECG_SAME_TYPE(crc32_iscsi);
ECG_SAME_TYPE(crc32_gzip_refl);
#undef ECG_SAME_TYPE

constexpr const char* kLibName = "libisal.so.2";

template <typename Fn>
void Resolve(void* handle, const char* name, Fn* out) {
  void* sym = dlsym(handle, name);
  if (sym == nullptr) {
    throw std::runtime_error(std::string(kLibName) + " lacks " + name + " (ISA-L 2.30 or newer is needed)");
  }
  *out = reinterpret_cast<Fn>(sym);
}

IsalApi Load() {
  void* handle = dlopen(kLibName, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw std::runtime_error(std::string("cannot load ") + kLibName + ": " + (why ? why : "unknown error") +
                             " (install it with `apt-get install libisal-dev`)");
  }
  IsalApi api{};
  Resolve(handle, "ec_encode_data", &api.ec_encode_data);
  Resolve(handle, "ec_init_tables", &api.ec_init_tables);
  Resolve(handle, "gf_gen_cauchy1_matrix", &api.gf_gen_cauchy1_matrix);
  Resolve(handle, "gf_invert_matrix", &api.gf_invert_matrix);
  Resolve(handle, "gf_mul", &api.gf_mul);
  Resolve(handle, "crc32_iscsi", &api.crc32_iscsi);
  Resolve(handle, "crc32_gzip_refl", &api.crc32_gzip_refl);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(api.ec_encode_data), &info) != 0 && info.dli_fname != nullptr) {
    api.path = info.dli_fname;
  }
  return api;
}

}  // namespace

const IsalApi& Isal() {
  // Process-wide: worker threads loading the addon share one handle.
  static std::once_flag once;
  static IsalApi api;
  static std::string error;
  std::call_once(once, [] {
    try {
      api = Load();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw std::runtime_error(error);
  return api;
}

}  // namespace ecg
