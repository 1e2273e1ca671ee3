// Prepared ISA-L multiplication tables (ec_init_tables output) for encode and decode, built from
// the XrdEc generator gf_gen_cauchy1_matrix(k+m, k) and kept in bounded LRU caches so repeated
// stripe patterns skip the matrix inversion and table expansion.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace ecg {

// Shared so an async job keeps its tables alive even if the cache evicts them meanwhile.
using Tables = std::shared_ptr<const std::vector<unsigned char>>;

struct CacheStats {
  uint64_t hits;
  uint64_t misses;
  size_t size;
};

// Thrown when the chosen source rows do not form an invertible matrix.
class SingularMatrix : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// g_tbls for the m parity rows (32 * k * m bytes).
Tables EncodeTables(int k, int m);
// g_tbls turning the k chunks at `src` into the chunks at `want` (32 * k * want.size() bytes).
Tables DecodeTables(int k, int m, const std::vector<int>& src, const std::vector<int>& want);
CacheStats DecodeCacheStats();

}  // namespace ecg
