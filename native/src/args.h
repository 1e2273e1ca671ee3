// Argument checking for the exported functions: every bad value becomes a TypeError or
// RangeError naming the function and the argument, never a crash inside ISA-L.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ecg {

// Raw pointers into JS-owned memory plus the objects owning it, so async work can pin them.
struct BufferList {
  std::vector<uint8_t*> ptrs;
  std::vector<Napi::Object> owners;
};

class ArgReader {
 public:
  ArgReader(const Napi::CallbackInfo& info, const char* fn, size_t required, const char* signature);

  Napi::Env Env() const { return info_.Env(); }
  int Int(size_t i, const char* name, int64_t min, int64_t max) const;  // max is capped at INT_MAX
  int64_t Int64(size_t i, const char* name, int64_t min, int64_t max) const;
  uint32_t Uint32Or(size_t i, const char* name, uint32_t fallback) const;
  // One Uint8Array (Buffer included); returns its pointer and byte length.
  uint8_t* Bytes(size_t i, const char* name, size_t* length) const;
  // Buffer arguments are read in two phases. Elements() reads the array (element reads can run
  // JS: index getters) and must run for every array argument before any View(): a getter could
  // otherwise detach a buffer whose pointer was already taken.
  std::vector<Napi::Value> Elements(size_t i, const char* name, size_t count) const;
  // Async work: rejects views over a resizable ArrayBuffer (resize() decommits the pages while the
  // pool thread uses them). May run JS (a getter), so call it between Elements() and Views().
  void RejectResizable(const std::vector<Napi::Value>& elems, const char* name) const;
  // Pointers and owners of Elements() output, each at least `min_len` bytes. Runs no JS.
  BufferList Views(const std::vector<Napi::Value>& elems, const char* name, size_t min_len) const;
  // An array of stripe indices, each in [0, n).
  std::vector<int> Indices(size_t i, const char* name, int n) const;

  [[noreturn]] void TypeFail(const std::string& what) const;
  [[noreturn]] void RangeFail(const std::string& what) const;

 private:
  const Napi::CallbackInfo& info_;
  const char* fn_;  // a string literal: no allocation on the success path
};

}  // namespace ecg
