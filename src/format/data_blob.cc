#include "format/data_blob.h"

#include <fmt/format.h>
#include <isa-l/crc.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "format/file_formats.h"

namespace cairn {
namespace {

constexpr int kZstdLevel = 1;  // PBS's level; fast enough for the backup hot path
constexpr size_t kIvOffset = 12;
constexpr size_t kTagOffset = 28;
// Per-thread scratch buffers up to this size are kept between calls (a 16 MiB chunk is the
// largest the backup protocol allows); a larger one is released on the next smaller request.
constexpr size_t kScratchKeep = size_t{16} << 20;

uint32_t Crc32(ByteView data) {
  // ISA-L's reflected IEEE CRC-32 (zlib's crc32, 4-5x faster with carry-less multiplication):
  // the same value, checked against zlib by the tests.
  return crc32_gzip_refl(0, data.data(), data.size());
}

// A per-thread buffer of at least `size` bytes, reused so that the hot path neither allocates
// nor page-faults a fresh multi-MiB buffer per blob. Valid until the next call on this thread;
// callers in this file use at most one at a time and never keep it past their return.
std::span<uint8_t> Scratch(size_t size) {
  thread_local Bytes buf;
  if (buf.capacity() > kScratchKeep && size <= kScratchKeep) Bytes().swap(buf);
  if (buf.size() < size) buf.resize(size);
  return {buf.data(), size};
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// zstd contexts are costly to create (and hold their tables); one per thread is reused.
Result<ZSTD_CCtx*> ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx(ZSTD_createCCtx());
  if (!ctx) return Status::IOError("cannot allocate a zstd compression context");
  return ctx.get();
}

Result<ZSTD_DCtx*> ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Status::IOError("cannot allocate a zstd decompression context");
  return ctx.get();
}

// Compresses `data` with zstd level 1 into `dst` (which has room for data.size() bytes, as in
// PBS). Returns the compressed length, or 0 when the result would not be smaller than the input
// (the caller then stores the data uncompressed).
Result<size_t> TryCompress(ByteView data, std::span<uint8_t> dst) {
  if (data.empty()) return size_t{0};
  CAIRN_ASSIGN_OR_RETURN(ZSTD_CCtx * cctx, ThreadCCtx());
  const size_t n =
      ZSTD_compressCCtx(cctx, dst.data(), dst.size(), data.data(), data.size(), kZstdLevel);
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) return size_t{0};
    return Status::IOError(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  }
  return n < data.size() ? n : size_t{0};
}

Status ZstdCorruption(size_t code) {
  return Status::Corruption(fmt::format("bad zstd payload: {}", ZSTD_getErrorName(code)));
}

// Streams `frames` (one or more zstd frames) through the decoder, for payloads whose frame
// headers do not declare the content size (PBS's streaming writer leaves it out). Output is
// appended to `out` when given (grown geometrically), otherwise produced in a scratch buffer;
// `hash`, when given, receives every output byte. More than kMaxBlobSize bytes of output, a
// truncated frame or any decoder error is Corruption. Returns the output length.
Result<uint64_t> StreamDecompress(ByteView frames, Bytes* out, Sha256* hash) {
  CAIRN_ASSIGN_OR_RETURN(ZSTD_DCtx * dctx, ThreadDCtx());
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  ZSTD_inBuffer in{frames.data(), frames.size(), 0};
  uint64_t produced = 0;
  for (;;) {
    std::span<uint8_t> dst;
    if (out != nullptr) {
      if (produced == out->size()) {
        // One byte past the limit lets an over-long stream show itself.
        out->resize(std::min<size_t>(kMaxBlobSize + 1, std::max<size_t>(out->size() * 2, 1 << 18)));
      }
      dst = std::span<uint8_t>(*out).subspan(produced);
    } else {
      dst = Scratch(ZSTD_DStreamOutSize());
    }
    ZSTD_outBuffer o{dst.data(), dst.size(), 0};
    const size_t in_before = in.pos;
    const size_t ret = ZSTD_decompressStream(dctx, &o, &in);
    if (ZSTD_isError(ret)) return ZstdCorruption(ret);
    if (hash != nullptr) hash->Update(dst.first(o.pos));
    produced += o.pos;
    if (produced > kMaxBlobSize) {
      return Status::Corruption(
          fmt::format("zstd payload decompresses to more than {} bytes", kMaxBlobSize));
    }
    if (ret == 0 && in.pos == in.size) break;  // every frame complete, all input used
    if (in.pos == in.size && o.pos < o.size) return Status::Corruption("truncated zstd payload");
    if (o.pos == 0 && in.pos == in_before) return Status::Corruption("zstd decoder stalled");
  }
  if (out != nullptr) out->resize(produced);
  return produced;
}

// Total decompressed size declared by the frame headers of `frames` (uses only zstd's stable
// API): a value, or ZSTD_CONTENTSIZE_UNKNOWN if some frame does not declare it. Corruption on a
// malformed or truncated frame or a declared total over kMaxBlobSize.
Result<unsigned long long> DeclaredSize(ByteView frames) {
  if (frames.empty()) return Status::Corruption("empty zstd payload");
  unsigned long long total = 0;
  for (ByteView rest = frames; !rest.empty();) {
    const unsigned long long size = ZSTD_getFrameContentSize(rest.data(), rest.size());
    if (size == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("malformed zstd frame header");
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) return size;
    const size_t frame_len = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
    if (ZSTD_isError(frame_len)) return ZstdCorruption(frame_len);
    total += size;
    if (size > kMaxBlobSize || total > kMaxBlobSize) {
      return Status::Corruption(
          fmt::format("zstd payload declares more than {} bytes of content", kMaxBlobSize));
    }
    rest = rest.subspan(frame_len);
  }
  return total;
}

// One-shot decompression of `frames` into `dst`, whose size the headers declared.
Status DecompressInto(ByteView frames, std::span<uint8_t> dst) {
  CAIRN_ASSIGN_OR_RETURN(ZSTD_DCtx * dctx, ThreadDCtx());
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  const size_t n = ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), frames.data(), frames.size());
  if (ZSTD_isError(n)) return ZstdCorruption(n);
  if (n != dst.size()) {
    return Status::Corruption(
        fmt::format("zstd payload decompressed to {} bytes, headers declared {}", n, dst.size()));
  }
  return Status::OK();
}

// Decompresses `frames` into *out, replacing its content but reusing its allocation (resizing a
// buffer that already has the size writes nothing before the decoder does).
Status DecompressTo(ByteView frames, Bytes* out) {
  CAIRN_ASSIGN_OR_RETURN(unsigned long long size, DeclaredSize(frames));
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
    out->clear();
    return StreamDecompress(frames, out, nullptr).status();
  }
  out->resize(size);
  return DecompressInto(frames, *out);
}

const Magic& MagicOf(BlobKind kind) {
  switch (kind) {
    case BlobKind::kUncompressed: return kUncompressedBlobMagic1_0;
    case BlobKind::kCompressed: return kCompressedBlobMagic1_0;
    case BlobKind::kEncrypted: return kEncryptedBlobMagic1_0;
    case BlobKind::kEncryptedCompressed: return kEncrComprBlobMagic1_0;
  }
  return kUncompressedBlobMagic1_0;
}

size_t HeaderSize(BlobKind kind) {
  return IsEncrypted(kind) ? kEncryptedBlobHeaderSize : kBlobHeaderSize;
}

bool IsCompressed(BlobKind kind) {
  return kind == BlobKind::kCompressed || kind == BlobKind::kEncryptedCompressed;
}

// Checks the CRC of a blob InspectBlob accepted as `kind`.
Status CheckCrc(ByteView encoded, BlobKind kind) {
  const uint32_t stored = GetLE32(encoded.data() + 8);
  const uint32_t actual = Crc32(encoded.subspan(HeaderSize(kind)));
  if (stored != actual) {
    return Status::Corruption(
        fmt::format("blob CRC mismatch (stored {:08x}, computed {:08x})", stored, actual));
  }
  return Status::OK();
}

// Inspects `encoded`, CRC-checks it unless its reader did, and bounds its payload: no valid blob
// carries more than kMaxBlobSize payload bytes (compression only ever shrinks it).
enum class Crc { kCheck, kCheckedByReader };
Result<BlobKind> CheckBlob(ByteView encoded, Crc crc = Crc::kCheck) {
  CAIRN_ASSIGN_OR_RETURN(BlobKind kind, InspectBlob(encoded));
  const size_t payload = encoded.size() - HeaderSize(kind);
  if (payload > kMaxBlobSize) {
    return Status::Corruption(
        fmt::format("blob payload of {} bytes exceeds the limit of {}", payload, kMaxBlobSize));
  }
  if (crc == Crc::kCheck) CAIRN_RETURN_IF_ERROR(CheckCrc(encoded, kind));
  return kind;
}

Status DecodeInto(ByteView encoded, const CryptConfig* crypt, Bytes* out, Crc crc) {
  CAIRN_ASSIGN_OR_RETURN(BlobKind kind, CheckBlob(encoded, crc));
  const ByteView payload = encoded.subspan(HeaderSize(kind));
  if (!IsEncrypted(kind)) {
    if (IsCompressed(kind)) return DecompressTo(payload, out);
    out->assign(payload.begin(), payload.end());
    return Status::OK();
  }
  if (crypt == nullptr) {
    return Status::InvalidArgument("blob is encrypted and no encryption key was given");
  }
  const uint8_t* iv = encoded.data() + kIvOffset;
  const uint8_t* tag = encoded.data() + kTagOffset;
  if (!IsCompressed(kind)) {
    out->resize(payload.size());
    return crypt->Decrypt(payload, iv, tag, *out);
  }
  std::span<uint8_t> compressed = Scratch(payload.size());
  CAIRN_RETURN_IF_ERROR(crypt->Decrypt(payload, iv, tag, compressed));
  return DecompressTo(compressed, out);
}

}  // namespace

Result<Bytes> EncodeBlob(ByteView data, const CryptConfig* crypt, bool compress) {
  Bytes out;
  CAIRN_RETURN_IF_ERROR(EncodeBlobInto(data, crypt, compress, &out));
  return out;
}

Status EncodeBlobInto(ByteView data, const CryptConfig* crypt, bool compress, Bytes* result) {
  if (data.size() > kMaxBlobSize) {
    return Status::InvalidArgument(
        fmt::format("blob of {} bytes exceeds the limit of {} bytes", data.size(), kMaxBlobSize));
  }
  // Compress into per-thread scratch (warm pages: no zero-filled fresh multi-MiB buffer per
  // chunk); keep the data as it is when compression does not shrink it.
  ByteView payload = data;
  bool compressed = false;
  if (compress) {
    std::span<uint8_t> scratch = Scratch(data.size());
    CAIRN_ASSIGN_OR_RETURN(size_t size, TryCompress(data, scratch));
    if (size != 0) {
      payload = scratch.first(size);
      compressed = true;
    }
  }
  BlobKind kind;
  Bytes& out = *result;
  if (crypt == nullptr) {
    kind = compressed ? BlobKind::kCompressed : BlobKind::kUncompressed;
    out.resize(kBlobHeaderSize + payload.size());
    // An empty payload may have a null data(), which memcpy must not be given.
    if (!payload.empty()) {
      std::memcpy(out.data() + kBlobHeaderSize, payload.data(), payload.size());
    }
  } else {
    kind = compressed ? BlobKind::kEncryptedCompressed : BlobKind::kEncrypted;
    out.resize(kEncryptedBlobHeaderSize + payload.size());
    CAIRN_RETURN_IF_ERROR(
        crypt->Encrypt(payload, out.data() + kIvOffset, out.data() + kTagOffset,
                       std::span<uint8_t>(out).subspan(kEncryptedBlobHeaderSize)));
  }
  std::memcpy(out.data(), MagicOf(kind).data(), MagicOf(kind).size());
  PutLE32(out.data() + 8, Crc32(ByteView(out).subspan(HeaderSize(kind))));
  return Status::OK();
}

Result<BlobKind> InspectBlob(ByteView encoded) {
  if (encoded.size() < kBlobHeaderSize) {
    return Status::Corruption(fmt::format("blob too short ({} bytes, a header needs {})",
                                          encoded.size(), kBlobHeaderSize));
  }
  for (BlobKind kind : {BlobKind::kUncompressed, BlobKind::kCompressed, BlobKind::kEncrypted,
                        BlobKind::kEncryptedCompressed}) {
    if (std::memcmp(encoded.data(), MagicOf(kind).data(), MagicOf(kind).size()) == 0) {
      if (encoded.size() < HeaderSize(kind)) {
        return Status::Corruption(
            fmt::format("encrypted blob too short ({} bytes, header needs {})", encoded.size(),
                        HeaderSize(kind)));
      }
      return kind;
    }
  }
  return Status::Corruption("not a blob (unknown magic)");
}

Status VerifyBlobCrc(ByteView encoded) {
  CAIRN_ASSIGN_OR_RETURN(BlobKind kind, InspectBlob(encoded));
  return CheckCrc(encoded, kind);
}

Status DecodeBlobInto(ByteView encoded, const CryptConfig* crypt, Bytes* out) {
  return DecodeInto(encoded, crypt, out, Crc::kCheck);
}

Status DecodeCrcCheckedBlobInto(ByteView encoded, const CryptConfig* crypt, Bytes* out) {
  return DecodeInto(encoded, crypt, out, Crc::kCheckedByReader);
}

Result<Bytes> DecodeBlob(ByteView encoded, const CryptConfig* crypt) {
  Bytes out;
  CAIRN_RETURN_IF_ERROR(DecodeBlobInto(encoded, crypt, &out));
  return out;
}

Result<uint64_t> VerifyChunkBlob(ByteView encoded, const Digest& digest) {
  CAIRN_ASSIGN_OR_RETURN(BlobKind kind, CheckBlob(encoded));
  if (IsEncrypted(kind)) return uint64_t{0};  // the digest needs the key; the CRC is all we have
  const ByteView payload = encoded.subspan(HeaderSize(kind));
  Digest actual;
  uint64_t size = 0;
  if (!IsCompressed(kind)) {
    actual = Sha256Of(payload);
    size = payload.size();
  } else {
    // Streamed through a small buffer and hashed as it comes: a verifying thread holds
    // 128 KiB, not a buffer the size of the largest chunk it has seen (the server verifies
    // uploads on all its handler threads at once; whole-chunk buffers made a backup session's
    // server 160 MiB instead of 60). DeclaredSize rejects bad frame headers early.
    CAIRN_RETURN_IF_ERROR(DeclaredSize(payload).status());
    Sha256 hash;
    CAIRN_ASSIGN_OR_RETURN(size, StreamDecompress(payload, nullptr, &hash));
    actual = hash.Finish();
  }
  if (actual != digest) {
    return Status::Corruption(fmt::format(
        "chunk content does not match its digest (content has {})", DigestToHex(actual)));
  }
  return size;
}

}  // namespace cairn
