// DataBlob is PBS's encoding for chunks and small files (docs/format-blob-and-crypto.md),
// byte-compatible:
//   unencrypted: MAGIC[8] | CRC32-LE[4] | payload            (header 12 bytes)
//   encrypted:   MAGIC[8] | CRC32-LE[4] | IV[16] | TAG[16] | ciphertext   (header 44 bytes)
// The CRC (IEEE) covers everything after the header (for encrypted blobs: the ciphertext only).
// Compression is zstd level 1 over the whole payload, used only when the result is smaller.
// Encrypted+compressed blobs are compressed first, then encrypted.
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/result.h"
#include "format/crypt_config.h"
#include "format/digest.h"

namespace cairn {

enum class BlobKind { kUncompressed, kCompressed, kEncrypted, kEncryptedCompressed };

inline constexpr size_t kBlobHeaderSize = 12;
inline constexpr size_t kEncryptedBlobHeaderSize = 44;
inline constexpr size_t kMaxBlobSize = 128u << 20;  // largest plaintext EncodeBlob accepts

inline bool IsEncrypted(BlobKind kind) {
  return kind == BlobKind::kEncrypted || kind == BlobKind::kEncryptedCompressed;
}

// Encodes `data`. With `crypt` the blob is encrypted; with `compress` zstd-1 is tried and kept
// only if smaller. InvalidArgument if data exceeds kMaxBlobSize.
Result<Bytes> EncodeBlob(ByteView data, const CryptConfig* crypt, bool compress);
// The same, into *out (its content replaced, its allocation reused, so a loop encoding many
// chunks into one buffer touches no fresh pages). *out is unspecified after an error.
Status EncodeBlobInto(ByteView data, const CryptConfig* crypt, bool compress, Bytes* out);

// Reads the magic and checks the header length. Corruption on an unknown magic or a blob shorter
// than its header.
Result<BlobKind> InspectBlob(ByteView encoded);

// Checks magic, header length and CRC32. Corruption on any mismatch.
Status VerifyBlobCrc(ByteView encoded);

// Checks the CRC, then decrypts (needs `crypt` for encrypted blobs: InvalidArgument without it;
// Corruption if the tag fails, i.e. wrong key or tampered data) and decompresses.
// Corruption on any malformed content. Payload and decompressed output are capped at
// kMaxBlobSize (Corruption beyond).
Result<Bytes> DecodeBlob(ByteView encoded, const CryptConfig* crypt);
// The same, into *out (its content replaced, its allocation reused: a loop that decodes many
// chunks into one buffer neither allocates nor zero-fills per chunk). *out is unspecified after
// an error.
Status DecodeBlobInto(ByteView encoded, const CryptConfig* crypt, Bytes* out);
// As DecodeBlobInto, for a blob whose CRC its reader has already checked (every backend's and
// repository's ReadChunk does): skips the second pass over the payload, checks the rest alike.
// The caller checks the result (e.g. its digest) as for any chunk.
Status DecodeCrcCheckedBlobInto(ByteView encoded, const CryptConfig* crypt, Bytes* out);

// Checks magic and CRC (as VerifyBlobCrc); then, for an unencrypted chunk, decodes and checks
// that SHA-256 of the plaintext equals `digest` (Corruption otherwise). For an encrypted chunk
// only the CRC can be checked without the key. Returns the decoded plaintext length (0 for
// encrypted blobs). Uses no per-call buffer beyond a reused per-thread one.
Result<uint64_t> VerifyChunkBlob(ByteView encoded, const Digest& digest);

}  // namespace cairn
