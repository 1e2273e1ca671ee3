// Generator, decode matrices and the LRU caches of prepared tables.
#include "rs-tables.h"

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "isal.h"

namespace ecg {
namespace {

// Thread-safe LRU: async work and worker_threads share one process-wide addon instance.
class TableCache {
 public:
  explicit TableCache(size_t capacity) : capacity_(capacity) {}

  template <typename Build>
  Tables GetOrBuild(const std::string& key, Build build) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = index_.find(key);
      if (it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        hits_++;
        return it->second->second;
      }
      misses_++;
    }
    Tables built = build();  // outside the lock: may throw SingularMatrix
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.find(key) == index_.end()) {
      lru_.emplace_front(key, built);
      index_[key] = lru_.begin();
      if (lru_.size() > capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
      }
    }
    return built;
  }

  CacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return CacheStats{hits_, misses_, lru_.size()};
  }

 private:
  std::mutex mu_;
  size_t capacity_;
  std::list<std::pair<std::string, Tables>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Tables>>::iterator> index_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

TableCache encode_cache(64);
TableCache decode_cache(256);

std::vector<unsigned char> Generator(int k, int m) {
  std::vector<unsigned char> g(static_cast<size_t>(k + m) * k);
  Isal().gf_gen_cauchy1_matrix(g.data(), k + m, k);
  return g;
}

Tables Expand(int k, int rows, unsigned char* coefs) {
  auto t = std::make_shared<std::vector<unsigned char>>(static_cast<size_t>(32) * k * rows);
  Isal().ec_init_tables(k, rows, coefs, t->data());
  return t;
}

}  // namespace

Tables EncodeTables(int k, int m) {
  std::string key{static_cast<char>(k), static_cast<char>(m)};
  return encode_cache.GetOrBuild(key, [k, m] {
    std::vector<unsigned char> g = Generator(k, m);
    return Expand(k, m, g.data() + static_cast<size_t>(k) * k);
  });
}

Tables DecodeTables(int k, int m, const std::vector<int>& src, const std::vector<int>& want) {
  // Indices are < 255, so one byte each; the separator keeps (src, want) splits distinct.
  std::string key{static_cast<char>(k), static_cast<char>(m)};
  for (int s : src) key.push_back(static_cast<char>(s));
  key.push_back(static_cast<char>(0xFF));
  for (int w : want) key.push_back(static_cast<char>(w));

  return decode_cache.GetOrBuild(key, [&] {
    const IsalApi& isal = Isal();
    const size_t kk = static_cast<size_t>(k);
    std::vector<unsigned char> g = Generator(k, m);
    std::vector<unsigned char> sub(kk * kk), inv(kk * kk);
    for (size_t r = 0; r < kk; r++) {
      for (size_t c = 0; c < kk; c++) sub[r * kk + c] = g[static_cast<size_t>(src[r]) * kk + c];
    }
    if (isal.gf_invert_matrix(sub.data(), inv.data(), k) != 0) {
      throw SingularMatrix("the source stripes do not form an invertible matrix");
    }
    // Row for wanted stripe w = generator row w x inverse (data rows reduce to inverse rows).
    std::vector<unsigned char> rows(want.size() * kk, 0);
    for (size_t i = 0; i < want.size(); i++) {
      const unsigned char* grow = &g[static_cast<size_t>(want[i]) * kk];
      for (size_t c = 0; c < kk; c++) {
        unsigned char acc = 0;
        for (size_t t = 0; t < kk; t++) acc ^= isal.gf_mul(grow[t], inv[t * kk + c]);
        rows[i * kk + c] = acc;
      }
    }
    return Expand(k, static_cast<int>(want.size()), rows.data());
  });
}

CacheStats DecodeCacheStats() { return decode_cache.Stats(); }

}  // namespace ecg
