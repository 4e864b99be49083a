// DataBlob encoding (docs/format-blob-and-crypto.md): byte layout, the compression rule, round
// trips of all four kinds, PBS-made fixtures, and rejection of every kind of damage. The fixture
// blobs were built independently in python3 (zlib.crc32, the zstd CLI, and the `cryptography`
// package's AESGCM with the key 00 01 ... 1f), not with Cairn's code.
#include "format/data_blob.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include "base/hex.h"
#include "format/file_formats.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::RandomBytes;

EncryptionKey CountingKey() {
  EncryptionKey key;
  std::iota(key.begin(), key.end(), uint8_t{0});
  return key;
}

Bytes Hex(std::string_view hex) {
  return HexDecode(hex).value();
}

// Text that zstd shrinks a lot.
Bytes Compressible(size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>("cairn backup "[i % 13]);
  return out;
}

uint32_t ZlibCrc(ByteView data) {
  return static_cast<uint32_t>(crc32_z(0, data.data(), data.size()));
}

size_t HeaderOf(ByteView blob) {
  return std::memcmp(blob.data(), kEncryptedBlobMagic1_0.data(), 8) == 0 ||
                 std::memcmp(blob.data(), kEncrComprBlobMagic1_0.data(), 8) == 0
             ? kEncryptedBlobHeaderSize
             : kBlobHeaderSize;
}

// Rewrites the CRC so that a deliberate change reaches the later checks.
void FixCrc(Bytes* blob) {
  PutLE32(blob->data() + 8, ZlibCrc(ByteView(*blob).subspan(HeaderOf(*blob))));
}

Bytes MakeBlob(const Magic& magic, ByteView payload) {
  Bytes blob(magic.begin(), magic.end());
  blob.resize(kBlobHeaderSize);
  blob.insert(blob.end(), payload.begin(), payload.end());
  FixCrc(&blob);
  return blob;
}

Bytes MakeEncryptedBlob(const Magic& magic, const CryptConfig& crypt, ByteView plain) {
  Bytes blob(kEncryptedBlobHeaderSize + plain.size());
  std::memcpy(blob.data(), magic.data(), 8);
  EXPECT_TRUE(crypt
                  .Encrypt(plain, blob.data() + 12, blob.data() + 28,
                           std::span<uint8_t>(blob).subspan(kEncryptedBlobHeaderSize))
                  .ok());
  FixCrc(&blob);
  return blob;
}

// One zstd frame of `data`; with `declare_size` false the header leaves the size out, as PBS's
// streaming writer does.
Bytes ZstdFrame(ByteView data, bool declare_size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, declare_size ? 1 : 0);
  if (declare_size) ZSTD_CCtx_setPledgedSrcSize(cctx, data.size());
  Bytes out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t rest;
  do {
    const size_t pos = out.size();
    out.resize(pos + (64 << 10));
    ZSTD_outBuffer o{out.data() + pos, out.size() - pos, 0};
    rest = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
    EXPECT_FALSE(ZSTD_isError(rest));
    out.resize(pos + o.pos);
  } while (rest != 0 && !ZSTD_isError(rest));
  ZSTD_freeCCtx(cctx);
  return out;
}

void ExpectCorruption(ByteView blob, const CryptConfig* crypt, const std::string& what) {
  auto r = DecodeBlob(blob, crypt);
  EXPECT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.status().code(), Code::kCorruption) << what << ": " << r.status().ToString();
}

// --- Byte layout -----------------------------------------------------------------------------

TEST(DataBlobTest, UncompressedLayoutIsExact) {
  // python: magic + crc32(b"hello").to_bytes(4, "little") + b"hello"
  auto blob = EncodeBlob(AsBytes("hello"), nullptr, false);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(HexEncode(*blob), "42ab3807be8370a186a6103668656c6c6f");
  EXPECT_EQ(GetLE32(blob->data() + 8), 0x3610a686u);  // CRC32("hello"), little-endian
  EXPECT_EQ(*InspectBlob(*blob), BlobKind::kUncompressed);
  // Tiny data does not shrink, so asking for compression changes nothing.
  EXPECT_EQ(*EncodeBlob(AsBytes("hello"), nullptr, true), *blob);
}

TEST(DataBlobTest, CrcIsZlibsForEverySizeAndAlignment) {
  // The CRC is computed by ISA-L (carry-less multiplication, several code paths chosen by length
  // and CPU); zlib's crc32 is the oracle, over the lengths and buffer offsets that exercise the
  // head, folding and tail paths.
  const Bytes data = RandomBytes((1 << 20) + 64, 5);
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 300; ++n) sizes.push_back(n);
  for (size_t n : {511, 512, 513, 1023, 4096, 65535, 65536, 1 << 20}) sizes.push_back(n);
  for (size_t offset : {0, 1, 7, 13}) {
    for (size_t n : sizes) {
      ByteView payload = ByteView(data).subspan(offset, n);
      auto blob = EncodeBlob(payload, nullptr, false);
      ASSERT_TRUE(blob.ok());
      EXPECT_EQ(GetLE32(blob->data() + 8), ZlibCrc(payload)) << offset << " " << n;
    }
  }
}

TEST(DataBlobTest, CompressedLayout) {
  const Bytes plain = Compressible(100000);
  auto blob = EncodeBlob(plain, nullptr, true);
  ASSERT_TRUE(blob.ok());
  ASSERT_LT(blob->size(), plain.size() / 10);
  EXPECT_EQ(Bytes(blob->begin(), blob->begin() + 8),
            Bytes(kCompressedBlobMagic1_0.begin(), kCompressedBlobMagic1_0.end()));
  const ByteView payload = ByteView(*blob).subspan(12);
  EXPECT_EQ(GetLE32(blob->data() + 8), ZlibCrc(payload));
  EXPECT_EQ(HexEncode(payload.first(4)), "28b52ffd");  // a zstd frame starts right after the CRC
  // The frame declares its size and is level-1 zstd of the plaintext.
  EXPECT_EQ(ZSTD_getFrameContentSize(payload.data(), payload.size()), plain.size());
  Bytes direct(plain.size());
  ASSERT_EQ(ZSTD_decompress(direct.data(), direct.size(), payload.data(), payload.size()),
            plain.size());
  EXPECT_EQ(direct, plain);
  EXPECT_EQ(*InspectBlob(*blob), BlobKind::kCompressed);
}

TEST(DataBlobTest, EncryptedLayout) {
  CryptConfig crypt(CountingKey());
  const Bytes plain = RandomBytes(5000, 1);
  auto blob = EncodeBlob(plain, &crypt, false);
  ASSERT_TRUE(blob.ok());
  ASSERT_EQ(blob->size(), 44 + plain.size());
  EXPECT_EQ(0, std::memcmp(blob->data(), kEncryptedBlobMagic1_0.data(), 8));
  // CRC covers the ciphertext only (not IV or tag).
  EXPECT_EQ(GetLE32(blob->data() + 8), ZlibCrc(ByteView(*blob).subspan(44)));
  // IV at 12..28, tag at 28..44, ciphertext after: decrypting by hand from those offsets works.
  auto by_hand = crypt.Decrypt(ByteView(*blob).subspan(44), blob->data() + 12, blob->data() + 28);
  ASSERT_TRUE(by_hand.ok());
  EXPECT_EQ(*by_hand, plain);
  EXPECT_EQ(*InspectBlob(*blob), BlobKind::kEncrypted);
}

TEST(DataBlobTest, EncryptedCompressedLayoutCompressesThenEncrypts) {
  CryptConfig crypt(CountingKey());
  const Bytes plain = Compressible(50000);
  auto blob = EncodeBlob(plain, &crypt, true);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(0, std::memcmp(blob->data(), kEncrComprBlobMagic1_0.data(), 8));
  EXPECT_LT(blob->size(), plain.size() / 10);
  EXPECT_EQ(GetLE32(blob->data() + 8), ZlibCrc(ByteView(*blob).subspan(44)));
  auto frame = crypt.Decrypt(ByteView(*blob).subspan(44), blob->data() + 12, blob->data() + 28);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(HexEncode(ByteView(*frame).first(4)), "28b52ffd");
  EXPECT_EQ(*InspectBlob(*blob), BlobKind::kEncryptedCompressed);
}

TEST(DataBlobTest, EachEncryptionUsesAFreshIv) {
  CryptConfig crypt(CountingKey());
  const Bytes plain = RandomBytes(100, 2);
  Bytes a = *EncodeBlob(plain, &crypt, false);
  Bytes b = *EncodeBlob(plain, &crypt, false);
  EXPECT_NE(Bytes(a.begin() + 12, a.begin() + 28), Bytes(b.begin() + 12, b.begin() + 28));
  EXPECT_NE(a, b);
}

// --- Compression rule ------------------------------------------------------------------------

TEST(DataBlobTest, RandomDataStaysUncompressed) {
  CryptConfig crypt(CountingKey());
  const Bytes plain = RandomBytes(1 << 20, 3);
  Bytes blob = *EncodeBlob(plain, nullptr, true);
  EXPECT_EQ(*InspectBlob(blob), BlobKind::kUncompressed);
  EXPECT_EQ(blob.size(), 12 + plain.size());
  Bytes enc = *EncodeBlob(plain, &crypt, true);
  EXPECT_EQ(*InspectBlob(enc), BlobKind::kEncrypted);
  EXPECT_EQ(enc.size(), 44 + plain.size());
}

TEST(DataBlobTest, CompressionOnlyWhenAskedAndSmaller) {
  const Bytes plain = Compressible(10000);
  EXPECT_EQ(*InspectBlob(*EncodeBlob(plain, nullptr, false)), BlobKind::kUncompressed);
  EXPECT_EQ(*InspectBlob(*EncodeBlob(plain, nullptr, true)), BlobKind::kCompressed);
  // Empty input: nothing to gain, stored uncompressed with an empty payload (CRC 0).
  Bytes empty = *EncodeBlob({}, nullptr, true);
  EXPECT_EQ(empty.size(), 12u);
  EXPECT_EQ(*InspectBlob(empty), BlobKind::kUncompressed);
  EXPECT_EQ(GetLE32(empty.data() + 8), 0u);
}

TEST(DataBlobTest, NearlyIncompressibleDataNeverGrows) {
  // Random data with a short compressible tail: whatever the encoder picks, the payload is never
  // larger than the input.
  for (size_t tail : {0, 8, 64, 512, 4096}) {
    Bytes plain = RandomBytes(8192, tail + 11);
    std::fill(plain.end() - static_cast<ptrdiff_t>(tail), plain.end(), 0);
    Bytes blob = *EncodeBlob(plain, nullptr, true);
    EXPECT_LE(blob.size(), 12 + plain.size()) << tail;
    EXPECT_EQ(*DecodeBlob(blob, nullptr), plain) << tail;
  }
}

// --- Round trips -----------------------------------------------------------------------------

TEST(DataBlobTest, RoundTripsAllKindsAndSizes) {
  CryptConfig crypt(CountingKey());
  for (size_t size : {size_t{0}, size_t{1}, size_t{13}, size_t{4096}, size_t{4} << 20}) {
    for (bool random : {false, true}) {
      const Bytes plain = random ? RandomBytes(size, size + 5) : Compressible(size);
      for (const CryptConfig* c :
           {static_cast<const CryptConfig*>(nullptr), static_cast<const CryptConfig*>(&crypt)}) {
        for (bool compress : {false, true}) {
          SCOPED_TRACE(::testing::Message() << "size " << size << " random " << random << " crypt "
                                            << (c != nullptr) << " compress " << compress);
          auto blob = EncodeBlob(plain, c, compress);
          ASSERT_TRUE(blob.ok()) << blob.status().ToString();
          EXPECT_TRUE(VerifyBlobCrc(*blob).ok());
          auto back = DecodeBlob(*blob, c);
          ASSERT_TRUE(back.ok()) << back.status().ToString();
          EXPECT_EQ(*back, plain);
        }
      }
    }
  }
}

TEST(DataBlobTest, UnencryptedBlobDecodesWithOrWithoutKey) {
  CryptConfig crypt(CountingKey());
  const Bytes plain = Compressible(1000);
  Bytes blob = *EncodeBlob(plain, nullptr, true);
  EXPECT_EQ(*DecodeBlob(blob, &crypt), plain);
}

TEST(DataBlobTest, LargestBlobRoundTripsAndOneByteMoreIsRefused) {
  Bytes plain(kMaxBlobSize, 0);
  plain[12345] = 1;
  auto blob = EncodeBlob(plain, nullptr, true);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*InspectBlob(*blob), BlobKind::kCompressed);
  auto back = DecodeBlob(*blob, nullptr);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == plain);
  plain.push_back(0);
  EXPECT_EQ(EncodeBlob(plain, nullptr, true).status().code(), Code::kInvalidArgument);
}

// --- PBS fixtures ----------------------------------------------------------------------------

TEST(DataBlobTest, DecodesFixtureBlobs) {
  CryptConfig crypt(CountingKey());
  const std::string text = [] {
    std::string s;
    for (int i = 0; i < 8; ++i) s += "Cairn compressed blob known-answer test. ";
    return s;
  }();
  // zstd -1 of a file: the frame declares its content size.
  const Bytes sized =
      Hex("31b958426fb6a37f06dc2c0528b52ffd6048009501009402436169726e20636f6d7072657373656420626c6f"
          "62206b6e6f776e2d616e7377657220746573742e200100e160aa2a03");
  // zstd -1 from a pipe: no content size in the header (like PBS's streaming writer).
  const Bytes unsized =
      Hex("31b958426fb6a37faf13da0c28b52ffd00489501009402436169726e20636f6d7072657373656420626c6f62"
          "206b6e6f776e2d616e7377657220746573742e200100e160aa2a03");
  // AES-256-GCM, IV 64..73, of "Cairn encrypted blob known-answer test".
  const Bytes encrypted =
      Hex("7b6785be222d4cf064b284b36465666768696a6b6c6d6e6f70717273bee56b32cccf9c5ab0a54524aeda11ba"
          "9bd22a238a3442b6d18bd4f933b28845381d37a2bc848e64b2ee390ff78470ad09e1faa913bf");
  // AES-256-GCM, IV c8..d7, of the sized zstd frame above.
  const Bytes encr_compr =
      Hex("e6591bbf0bbfd80bb1669135c8c9cacbcccdcecfd0d1d2d3d4d5d6d75ae7a49335e668a5be2530146ed55876"
          "0c9d20dcf6758e68cf41ee3bf9e597f3b9e44bc8940e73ad546b91df22104423cc06126d70305eba624cfd4c"
          "8ae180b6de2bbbaa245afcefd29a5218");
  for (const Bytes* blob : {&sized, &unsized}) {
    auto plain = DecodeBlob(*blob, nullptr);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(AsString(*plain), text);
    auto verified = VerifyChunkBlob(*blob, Sha256Of(AsBytes(text)));
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(*verified, text.size());
  }
  auto plain = DecodeBlob(encrypted, &crypt);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(AsString(*plain), "Cairn encrypted blob known-answer test");
  plain = DecodeBlob(encr_compr, &crypt);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(AsString(*plain), text);
}

// --- Damage ----------------------------------------------------------------------------------

// A small deterministic generator for the damage tests.
struct XorShift {
  uint64_t state;
  uint64_t operator()() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

struct Samples {
  CryptConfig crypt{CountingKey()};
  std::vector<Bytes> blobs;  // one of each kind
  Samples() {
    blobs.push_back(*EncodeBlob(RandomBytes(300, 1), nullptr, true));
    blobs.push_back(*EncodeBlob(Compressible(3000), nullptr, true));
    blobs.push_back(*EncodeBlob(RandomBytes(300, 2), &crypt, true));
    blobs.push_back(*EncodeBlob(Compressible(3000), &crypt, true));
  }
};

TEST(DataBlobTest, RejectsBadMagic) {
  Samples s;
  for (Bytes blob : s.blobs) {
    blob[3] ^= 0x40;
    EXPECT_TRUE(InspectBlob(blob).status().IsCorruption());
    EXPECT_TRUE(VerifyBlobCrc(blob).IsCorruption());
    ExpectCorruption(blob, &s.crypt, "bad magic");
  }
  // Another format's magic (an index) is not a blob either.
  Bytes index(kFixedIndexMagic.begin(), kFixedIndexMagic.end());
  index.resize(64);
  ExpectCorruption(index, nullptr, "index magic");
}

TEST(DataBlobTest, RejectsBadCrc) {
  Samples s;
  for (Bytes blob : s.blobs) {
    blob[9] ^= 1;
    EXPECT_TRUE(InspectBlob(blob).ok());  // the magic is fine
    EXPECT_TRUE(VerifyBlobCrc(blob).IsCorruption());
    ExpectCorruption(blob, &s.crypt, "bad crc");
    EXPECT_TRUE(VerifyChunkBlob(blob, Digest{}).status().IsCorruption());
  }
  // A flipped payload byte is caught by the CRC before anything else looks at it.
  for (Bytes blob : s.blobs) {
    blob.back() ^= 0x10;
    EXPECT_TRUE(VerifyBlobCrc(blob).IsCorruption());
    ExpectCorruption(blob, &s.crypt, "payload flip");
  }
}

TEST(DataBlobTest, RejectsEveryTruncation) {
  Samples s;
  for (const Bytes& blob : s.blobs) {
    for (size_t len = 0; len <= kEncryptedBlobHeaderSize + 8 && len < blob.size(); ++len) {
      ByteView cut = ByteView(blob).first(len);
      ExpectCorruption(cut, &s.crypt, "truncated to " + std::to_string(len));
      EXPECT_TRUE(VerifyBlobCrc(cut).IsCorruption()) << len;
    }
    ExpectCorruption(ByteView(blob).first(blob.size() - 1), &s.crypt, "one byte short");
  }
}

TEST(DataBlobTest, RejectsTamperedCiphertextTagAndIv) {
  Samples s;
  for (size_t i : {2, 3}) {
    // Ciphertext byte flipped and the CRC fixed up: only the GCM tag can catch it.
    Bytes blob = s.blobs[i];
    blob[50] ^= 1;
    FixCrc(&blob);
    ASSERT_TRUE(VerifyBlobCrc(blob).ok());
    ExpectCorruption(blob, &s.crypt, "ciphertext flip");
    // Tag and IV are outside the CRC.
    blob = s.blobs[i];
    blob[30] ^= 1;
    ASSERT_TRUE(VerifyBlobCrc(blob).ok());
    ExpectCorruption(blob, &s.crypt, "tag flip");
    blob = s.blobs[i];
    blob[20] ^= 1;
    ExpectCorruption(blob, &s.crypt, "iv flip");
  }
}

TEST(DataBlobTest, WrongKeyIsCorruptionAndMissingKeyIsInvalidArgument) {
  Samples s;
  EncryptionKey other = CountingKey();
  other[0] = 0xff;
  CryptConfig wrong(other);
  for (size_t i : {2, 3}) {
    ExpectCorruption(s.blobs[i], &wrong, "wrong key");
    EXPECT_EQ(DecodeBlob(s.blobs[i], nullptr).status().code(), Code::kInvalidArgument);
  }
}

TEST(DataBlobTest, RejectsGarbageUnderCompressedMagic) {
  CryptConfig crypt(CountingKey());
  const Bytes garbage = RandomBytes(1000, 77);
  const Bytes frame = ZstdFrame(Compressible(5000), true);
  Bytes truncated_frame(frame.begin(), frame.end() - 3);
  Bytes trailing = frame;
  trailing.insert(trailing.end(), {1, 2, 3, 4, 5, 6, 7, 8});
  Bytes zstd_magic_then_garbage = Hex("28b52ffd");
  zstd_magic_then_garbage.insert(zstd_magic_then_garbage.end(), garbage.begin(), garbage.end());
  const std::vector<std::pair<const char*, Bytes>> payloads = {
      {"empty", {}},
      {"random", garbage},
      {"zstd magic then garbage", zstd_magic_then_garbage},
      {"truncated frame", truncated_frame},
      {"frame then trailing bytes", trailing},
  };
  for (const auto& [what, payload] : payloads) {
    const Bytes blob = MakeBlob(kCompressedBlobMagic1_0, payload);
    ASSERT_TRUE(VerifyBlobCrc(blob).ok()) << what;
    ExpectCorruption(blob, nullptr, what);
    EXPECT_TRUE(VerifyChunkBlob(blob, Digest{}).status().IsCorruption()) << what;
    // The same payload, validly encrypted under the compressed+encrypted magic.
    ExpectCorruption(MakeEncryptedBlob(kEncrComprBlobMagic1_0, crypt, payload), &crypt, what);
  }
  // The same frame without a declared size and truncated goes through the streaming decoder.
  const Bytes unsized = ZstdFrame(Compressible(5000), false);
  const Bytes cut = MakeBlob(kCompressedBlobMagic1_0, ByteView(unsized).first(unsized.size() - 3));
  ExpectCorruption(cut, nullptr, "truncated unsized frame");
  EXPECT_TRUE(VerifyChunkBlob(cut, Digest{}).status().IsCorruption());
}

TEST(DataBlobTest, RejectsZstdBombs) {
  // One byte over the limit compresses to a few KiB. A frame that declares its size is refused
  // from its header; one that does not is decoded only up to the limit.
  CryptConfig crypt(CountingKey());
  const Bytes zeros(kMaxBlobSize + 1, 0);
  const Bytes declared = ZstdFrame(zeros, true);
  ASSERT_LT(declared.size(), 64u << 10);
  const Bytes blob = MakeBlob(kCompressedBlobMagic1_0, declared);
  ExpectCorruption(blob, nullptr, "declared bomb");
  EXPECT_TRUE(VerifyChunkBlob(blob, Digest{}).status().IsCorruption());
  ExpectCorruption(MakeEncryptedBlob(kEncrComprBlobMagic1_0, crypt, declared), &crypt,
                   "encrypted declared bomb");

  const Bytes streamed = MakeBlob(kCompressedBlobMagic1_0, ZstdFrame(zeros, false));
  ExpectCorruption(streamed, nullptr, "streamed bomb");
  EXPECT_TRUE(VerifyChunkBlob(streamed, Digest{}).status().IsCorruption());

  // Two frames that are each in bounds but together exceed it.
  const Bytes half = ZstdFrame(ByteView(zeros).first(kMaxBlobSize / 2 + 1), true);
  Bytes two = half;
  two.insert(two.end(), half.begin(), half.end());
  ExpectCorruption(MakeBlob(kCompressedBlobMagic1_0, two), nullptr, "two frames over the limit");
}

TEST(DataBlobTest, AcceptsConcatenatedFrames) {
  // A zstd decoder (and PBS's decode_all) reads concatenated frames as one stream.
  const Bytes a = Compressible(3000), b = RandomBytes(500, 4);
  Bytes plain = a;
  plain.insert(plain.end(), b.begin(), b.end());
  for (bool declare : {true, false}) {
    Bytes frames = ZstdFrame(a, declare);
    const Bytes second = ZstdFrame(b, declare);
    frames.insert(frames.end(), second.begin(), second.end());
    auto back = DecodeBlob(MakeBlob(kCompressedBlobMagic1_0, frames), nullptr);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, plain);
  }
}

TEST(DataBlobTest, RejectsOversizePayload) {
  // No encoder writes more than kMaxBlobSize payload bytes; the size is refused before the CRC.
  for (const Magic* magic : {&kUncompressedBlobMagic1_0, &kEncryptedBlobMagic1_0}) {
    Bytes blob(kEncryptedBlobHeaderSize + kMaxBlobSize + 1, 'x');
    std::memcpy(blob.data(), magic->data(), magic->size());
    CryptConfig crypt(CountingKey());
    ExpectCorruption(blob, &crypt, "oversize payload");
  }
}

TEST(DataBlobTest, RandomDamageNeverCrashes) {
  // Flip, cut or rewrite bytes at random (fixing the CRC half the time) and decode: the result
  // is either the original data or a clean error. Run under ASan/UBSan to catch memory errors.
  Samples s;
  XorShift next{12345};
  for (int iter = 0; iter < 4000; ++iter) {
    const Bytes& original = s.blobs[iter % s.blobs.size()];
    Bytes blob = original;
    switch (next() % 3) {
      case 0: blob[next() % blob.size()] ^= static_cast<uint8_t>(1u << (next() % 8)); break;
      case 1: blob.resize(next() % blob.size()); break;
      default:
        for (int k = 0; k < 4; ++k) blob[next() % blob.size()] = static_cast<uint8_t>(next());
    }
    if (next() % 2 == 0 && blob.size() >= kEncryptedBlobHeaderSize) FixCrc(&blob);
    // A change can still decode (e.g. a literal byte inside a zstd frame after a CRC fix-up);
    // what must never happen is a crash or an error other than Corruption.
    auto r = DecodeBlob(blob, &s.crypt);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
  }
}

TEST(DataBlobTest, CrcCheckedDecodeSkipsOnlyTheCrc) {
  // For blobs whose reader checked the CRC already: the same output for good blobs; a stale
  // CRC is not looked at, but everything else still is, and random damage (the CRC not fixed
  // up, so only the other checks see it) never crashes and fails only with Corruption. Damage
  // that decodes (e.g. in an uncompressed payload) is for the caller's digest check to catch.
  Samples s;
  for (const Bytes& blob : s.blobs) {
    Bytes expected, actual;
    ASSERT_TRUE(DecodeBlobInto(blob, &s.crypt, &expected).ok());
    ASSERT_TRUE(DecodeCrcCheckedBlobInto(blob, &s.crypt, &actual).ok());
    EXPECT_EQ(actual, expected);
    Bytes stale_crc = blob;
    stale_crc[9] ^= 1;
    ASSERT_TRUE(DecodeCrcCheckedBlobInto(stale_crc, &s.crypt, &actual).ok());
    EXPECT_EQ(actual, expected);
    Bytes bad_magic = blob;
    bad_magic[0] ^= 1;
    EXPECT_TRUE(DecodeCrcCheckedBlobInto(bad_magic, &s.crypt, &actual).IsCorruption());
  }
  XorShift next{777};
  Bytes out;
  for (int iter = 0; iter < 4000; ++iter) {
    const Bytes& original = s.blobs[iter % s.blobs.size()];
    Bytes blob = original;
    if (next() % 2 == 0) {
      blob[next() % blob.size()] ^= static_cast<uint8_t>(1u << (next() % 8));
    } else {
      blob.resize(next() % blob.size());
    }
    Status st = DecodeCrcCheckedBlobInto(blob, &s.crypt, &out);
    if (!st.ok()) {
      EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    }
  }
}

// --- VerifyChunkBlob -------------------------------------------------------------------------

TEST(DataBlobTest, VerifyChunkBlobChecksDigestAndReturnsSize) {
  CryptConfig crypt(CountingKey());
  for (const Bytes& plain : {Compressible(70000), RandomBytes(70000, 5), Bytes{}}) {
    for (bool compress : {false, true}) {
      Bytes blob = *EncodeBlob(plain, nullptr, compress);
      auto size = VerifyChunkBlob(blob, Sha256Of(plain));
      ASSERT_TRUE(size.ok()) << size.status().ToString();
      EXPECT_EQ(*size, plain.size());
      Digest wrong = Sha256Of(plain);
      wrong[0] ^= 1;
      EXPECT_TRUE(VerifyChunkBlob(blob, wrong).status().IsCorruption());
    }
  }
  // Encrypted chunks: only the CRC can be checked without the key.
  Bytes enc = *EncodeBlob(Compressible(1000), &crypt, true);
  auto size = VerifyChunkBlob(enc, Digest{});
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 0u);
  enc[60] ^= 1;
  EXPECT_TRUE(VerifyChunkBlob(enc, Digest{}).status().IsCorruption());
}

// --- Concurrency -----------------------------------------------------------------------------

TEST(DataBlobTest, ConcurrentEncodeDecode) {
  // Each thread has its own zstd contexts and scratch buffer.
  CryptConfig crypt(CountingKey());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const Bytes plain = (i % 2) ? Compressible(100000 + i * 10 + t) : RandomBytes(50000, i + t);
        const CryptConfig* c = (i % 3 == 0) ? &crypt : nullptr;
        auto blob = EncodeBlob(plain, c, true);
        if (!blob.ok()) {
          ++failures[t];
          continue;
        }
        auto back = DecodeBlob(*blob, c);
        if (!back.ok() || *back != plain) ++failures[t];
        if (c == nullptr && !VerifyChunkBlob(*blob, Sha256Of(plain)).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace cairn
