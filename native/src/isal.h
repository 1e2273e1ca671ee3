// ISA-L entry points, resolved at load time from libisal.so.2 opened with RTLD_DEEPBIND.
//
// Why not plain -lisal: the node executable exports OpenSSL's curve448 `gf_mul`, and
// libisal.so calls its own `gf_mul` through the PLT (gf_invert_matrix, ec_encode_data_base for
// short lengths). Linked normally inside Node, those calls land in OpenSSL's function and
// crash or corrupt memory. RTLD_DEEPBIND makes libisal resolve its symbols inside itself first.
// Nothing else in the addon may name an ISA-L symbol directly (that would bind to Node too).
#pragma once

#include <string>

namespace ecg {

struct IsalApi {
  void (*ec_encode_data)(int len, int k, int rows, unsigned char* gftbls, unsigned char** data, unsigned char** coding);
  void (*ec_init_tables)(int k, int rows, unsigned char* a, unsigned char* gftbls);
  void (*gf_gen_cauchy1_matrix)(unsigned char* a, int m, int k);
  int (*gf_invert_matrix)(unsigned char* in, unsigned char* out, const int n);
  unsigned char (*gf_mul)(unsigned char a, unsigned char b);
  unsigned int (*crc32_iscsi)(unsigned char* buffer, int len, unsigned int init_crc);
  unsigned int (*crc32_gzip_refl)(unsigned int init_crc, const unsigned char* buf, unsigned long len);
  std::string path;  // the file actually loaded
};

// Loads the library once per process; throws std::runtime_error naming the cause and the fix.
const IsalApi& Isal();

}  // namespace ecg
