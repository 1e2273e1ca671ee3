// JS entry point of the namespace walk: nsLinkSync(root, dirs, name, target, opts?) returns
// {created, fixed, link: 'created' | 'replaced' | 'exists'}; opts = {replaceInto?, tempName?,
// durable?}. A failing step throws Node's errno-shaped error (code, errno, syscall, path):
// ENOTDIR / ELOOP from openat = a symlink or non-directory where a directory should be.
// Synchronous: its callers (namespace rebuild, repair placement) do their fs work synchronously.
#include <string>
#include <utility>

#include "args.h"
#include "ns-walk.h"
#include "scan-args.h"

namespace ecg {
namespace {

constexpr size_t kMaxComponent = 255;   // NAME_MAX
constexpr size_t kMaxDepth = 1024;
constexpr size_t kMaxTarget = 4095;     // PATH_MAX - 1

// One path component: no '/', no NUL, not empty, not . or ..
std::string Component(const ArgReader& a, const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) a.TypeFail(what + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s.size() > kMaxComponent || s.find('/') != std::string::npos || s.find('\0') != std::string::npos || s == "." || s == "..") {
    a.TypeFail(what + " must be one path component (no '/', no NUL, not . or ..)");
  }
  return s;
}

NsLinkParams Parse(const Napi::CallbackInfo& info) {
  ArgReader a(info, "nsLinkSync", 4, "(root, dirs, name, target, opts?)");
  NsLinkParams p;
  p.root = ScanDirArg(a, info[0], "root");
  if (!info[1].IsArray()) a.TypeFail("dirs must be an array of path components");
  Napi::Array dirs = info[1].As<Napi::Array>();
  if (dirs.Length() > kMaxDepth) a.RangeFail("dirs holds too many components");
  for (uint32_t i = 0; i < dirs.Length(); i++) p.dirs.push_back(Component(a, dirs.Get(i), "dirs[" + std::to_string(i) + "]"));
  p.name = Component(a, info[2], "name");
  p.target = ScanDirArg(a, info[3], "target");
  if (p.target.size() > kMaxTarget) a.RangeFail("target is longer than PATH_MAX");
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    if (!info[4].IsObject()) a.TypeFail("opts must be an object {replaceInto?, tempName?, durable?}");
    Napi::Object o = info[4].As<Napi::Object>();
    Napi::Value into = o.Get("replaceInto");
    if (!into.IsUndefined()) {
      p.replace_into = ScanDirArg(a, into, "opts.replaceInto");
      if (p.replace_into.back() != '/') p.replace_into += '/';
      p.temp_name = Component(a, o.Get("tempName"), "opts.tempName (needed with replaceInto)");
      if (p.temp_name == p.name) a.TypeFail("opts.tempName must differ from name");
    }
    Napi::Value durable = o.Get("durable");
    if (!durable.IsUndefined()) {
      if (!durable.IsBoolean()) a.TypeFail("opts.durable must be a boolean");
      p.durable = durable.As<Napi::Boolean>().Value();
    }
  }
  return p;
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array out = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); i++) out.Set(i, Napi::String::New(env, v[i]));
  return out;
}

Napi::Value NsLinkSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NsLinkParams p = Parse(info);
  NsLinkResult r;
  if (!NsLink(p, &r)) {
    // What was made before the failure is attached, so the caller can still report it.
    Napi::Error e(env, DirError(env, r.err, r.syscall, r.path));
    e.Set("created", Strings(env, r.created));
    e.Set("fixed", Strings(env, r.fixed));
    throw e;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("created", Strings(env, r.created));
  out.Set("fixed", Strings(env, r.fixed));
  out.Set("link", r.link == NsLinkState::kCreated ? "created" : r.link == NsLinkState::kReplaced ? "replaced" : "exists");
  return out;
}

}  // namespace

void RegisterNsOps(Napi::Env env, Napi::Object exports) {
  exports.Set("nsLinkSync", Napi::Function::New(env, NsLinkSync, "nsLinkSync"));
}

}  // namespace ecg
