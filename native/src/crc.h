// Finalised CRC-32C and zip CRC-32 over ISA-L (crc-ops.cc): `prev` is the previous finalised
// CRC, so calls chain. Shared by the JS entry points and the scan walker.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ecg {

uint32_t Crc32c(const uint8_t* p, size_t n, uint32_t prev);
uint32_t Crc32(const uint8_t* p, size_t n, uint32_t prev);

}  // namespace ecg
