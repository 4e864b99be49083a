// Fuzzes DataBlob decoding (format/data_blob.h): the bytes of a chunk or small file as read
// from a datastore or received from a client. Every entry point is run: InspectBlob,
// VerifyBlobCrc, DecodeBlob without and with the key, DecodeCrcCheckedBlobInto (skips the CRC,
// so mutated payloads reach zstd and AES-GCM) and VerifyChunkBlob. Whatever decodes must agree
// across entry points and survive a re-encode.
#include <cstddef>
#include <cstdint>

#include "format/data_blob.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

// Re-encoding is checked only for small outputs: a tiny zstd frame may declare 128 MiB.
constexpr size_t kMaxReencode = size_t{1} << 20;

void CheckReencodes(const Bytes& plain, const CryptConfig* crypt) {
  if (plain.size() > kMaxReencode) return;
  for (bool compress : {false, true}) {
    auto encoded = EncodeBlob(plain, crypt, compress);
    FUZZ_CHECK(encoded.ok(), "EncodeBlob of a decoded blob failed");
    auto back = DecodeBlob(*encoded, crypt);
    FUZZ_CHECK(back.ok() && *back == plain, "a re-encoded blob does not decode to its content");
  }
}

void FuzzBlob(ByteView blob) {
  static const CryptConfig crypt(fuzz::kKey);

  auto kind = InspectBlob(blob);
  const Status crc = VerifyBlobCrc(blob);

  auto plain = DecodeBlob(blob, nullptr);
  if (plain.ok()) {
    FUZZ_CHECK(kind.ok() && !IsEncrypted(*kind) && crc.ok(), "decoded a blob that is not sound");
    auto verified = VerifyChunkBlob(blob, Sha256Of(*plain));
    FUZZ_CHECK(verified.ok() && *verified == plain->size(),
               "VerifyChunkBlob disagrees with DecodeBlob");
    CheckReencodes(*plain, nullptr);
  } else {
    (void)VerifyChunkBlob(blob, Digest{});
  }

  auto with_key = DecodeBlob(blob, &crypt);
  if (with_key.ok() && kind.ok() && IsEncrypted(*kind)) CheckReencodes(*with_key, &crypt);

  // As a reader that checked the CRC itself decodes: the payload is taken as it is.
  Bytes out;
  for (const CryptConfig* key : {static_cast<const CryptConfig*>(nullptr), &crypt}) {
    const Status st = DecodeCrcCheckedBlobInto(blob, key, &out);
    if (st.ok() && key == nullptr && plain.ok()) {
      FUZZ_CHECK(out == *plain, "CRC-checked decode differs from DecodeBlob");
    }
  }
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzBlob(cairn::ByteView(data, size));
  return 0;
}
