# Builds the ecguard_native addon: Node-API (node-addon-api, C++ exceptions) over ISA-L.
# libisal is not linked (-lisal) but opened with RTLD_DEEPBIND at load time: see src/isal.h.
{
  "targets": [
    {
      "target_name": "ecguard_native",
      "sources": [
        "src/addon.cc",
        "src/args.cc",
        "src/rs-tables.cc",
        "src/ec-ops.cc",
        "src/crc-ops.cc",
        "src/isal.cc",
        "src/scan-dir.cc",
        "src/scan-usual.cc",
        "src/scan-args.cc",
        "src/scan-buckets.cc",
        "src/scan-dir-js.cc",
        "src/ns-walk.cc",
        "src/ns-walk-js.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "libraries": ["-ldl"]
    }
  ]
}
