// AES-128-CTR keystream (AES-NI) for protocol/correlated/prg.ts; see prg.cc.
#pragma once
#include <cstddef>
#include <cstdint>

namespace securenn {

bool aesAvailable();
// Keystream bytes [offset, offset + len) of AES-128-CTR(key, IV = 0).
void aesCtrKeystream(const uint8_t* key, uint64_t offset, uint8_t* out, size_t len);
// Rejection sampling through a 256-entry table (255 = reject) from the keystream at offset; returns the new offset.
uint64_t aesCtrRejectSample(const uint8_t* key, uint64_t offset, const uint8_t* table, uint8_t* out, size_t n);

}  // namespace securenn
