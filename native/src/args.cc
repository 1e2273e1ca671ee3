// Argument checking shared by the encode, decode and CRC entry points.
#include "args.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>

namespace ecg {

// Shortest readable form of a JS number for error text (1.5, 300, NaN).
static std::string Num(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

ArgReader::ArgReader(const Napi::CallbackInfo& info, const char* fn, size_t required, const char* signature)
    : info_(info), fn_(fn) {
  if (info.Length() < required) {
    TypeFail("expects " + std::to_string(required) + " arguments " + signature + ", got " +
             std::to_string(info.Length()));
  }
}

void ArgReader::TypeFail(const std::string& what) const {
  throw Napi::TypeError::New(Env(), std::string(fn_) + ": " + what);
}

void ArgReader::RangeFail(const std::string& what) const {
  throw Napi::RangeError::New(Env(), std::string(fn_) + ": " + what);
}

int ArgReader::Int(size_t i, const char* name, int64_t min, int64_t max) const {
  return static_cast<int>(Int64(i, name, min, std::min<int64_t>(max, INT_MAX)));
}

int64_t ArgReader::Int64(size_t i, const char* name, int64_t min, int64_t max) const {
  Napi::Value v = info_[i];
  if (!v.IsNumber()) TypeFail(std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) TypeFail(std::string(name) + " must be an integer, got " + Num(d));
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    RangeFail(std::string(name) + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
              (std::fabs(d) < 9e18 ? std::to_string(static_cast<int64_t>(d)) : Num(d)));  // the cast is UB beyond int64
  }
  return static_cast<int64_t>(d);
}

uint32_t ArgReader::Uint32Or(size_t i, const char* name, uint32_t fallback) const {
  if (i >= info_.Length() || info_[i].IsUndefined()) return fallback;
  return static_cast<uint32_t>(Int64(i, name, 0, 0xFFFFFFFFLL));
}

// One napi_get_typedarray_info call both checks the type and yields pointer and length; the
// per-call cost matters for small chunks (an 8+2 encode takes ~10 of these).
static bool Uint8View(napi_env env, napi_value v, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return false;
  *data = static_cast<uint8_t*>(ptr);
  return type == napi_uint8_array;
}

uint8_t* ArgReader::Bytes(size_t i, const char* name, size_t* length) const {
  uint8_t* data = nullptr;
  if (!Uint8View(Env(), info_[i], &data, length)) TypeFail(std::string(name) + " must be a Buffer or Uint8Array");
  return data;
}

std::vector<Napi::Value> ArgReader::Elements(size_t i, const char* name, size_t count) const {
  Napi::Value v = info_[i];
  if (!v.IsArray()) TypeFail(std::string(name) + " must be an array of Buffers");
  Napi::Array arr = v.As<Napi::Array>();
  const uint32_t have = arr.Length();
  if (have != count) {
    RangeFail(std::string(name) + " must hold " + std::to_string(count) + " buffers, got " + std::to_string(have));
  }
  std::vector<Napi::Value> out;
  out.reserve(count);
  for (uint32_t j = 0; j < count; j++) out.push_back(arr.Get(j));
  return out;
}

void ArgReader::RejectResizable(const std::vector<Napi::Value>& elems, const char* name) const {
  for (size_t j = 0; j < elems.size(); j++) {
    napi_value ab = nullptr;
    if (napi_get_typedarray_info(Env(), elems[j], nullptr, nullptr, nullptr, &ab, nullptr) != napi_ok) continue;  // Views() reports it
    Napi::Value resizable = Napi::Object(Env(), ab).Get("resizable");
    if (resizable.IsBoolean() && resizable.As<Napi::Boolean>().Value()) {
      TypeFail(std::string(name) + "[" + std::to_string(j) + "] is backed by a resizable ArrayBuffer (not allowed in async calls)");
    }
  }
}

BufferList ArgReader::Views(const std::vector<Napi::Value>& elems, const char* name, size_t min_len) const {
  BufferList out;
  out.ptrs.reserve(elems.size());
  out.owners.reserve(elems.size());
  for (size_t j = 0; j < elems.size(); j++) {
    uint8_t* data = nullptr;
    size_t length = 0;
    if (!Uint8View(Env(), elems[j], &data, &length)) TypeFail(std::string(name) + "[" + std::to_string(j) + "] must be a Buffer or Uint8Array");
    if (length < min_len) {
      RangeFail(std::string(name) + "[" + std::to_string(j) + "] holds " + std::to_string(length) + " bytes, fewer than len " +
                std::to_string(min_len));
    }
    out.ptrs.push_back(data);
    out.owners.push_back(elems[j].As<Napi::Object>());
  }
  return out;
}

std::vector<int> ArgReader::Indices(size_t i, const char* name, int n) const {
  Napi::Value v = info_[i];
  if (!v.IsArray()) TypeFail(std::string(name) + " must be an array of stripe indices");
  Napi::Array arr = v.As<Napi::Array>();
  const uint32_t count = arr.Length();
  std::vector<int> out;
  out.reserve(count);
  for (uint32_t j = 0; j < count; j++) {
    Napi::Value e = arr.Get(j);
    if (!e.IsNumber()) TypeFail(std::string(name) + "[" + std::to_string(j) + "] must be a number");
    double d = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d >= n) {
      RangeFail(std::string(name) + "[" + std::to_string(j) + "] must be an integer stripe index in [0, " + std::to_string(n - 1) +
                "], got " + Num(d));
    }
    out.push_back(static_cast<int>(d));
  }
  return out;
}

}  // namespace ecg
