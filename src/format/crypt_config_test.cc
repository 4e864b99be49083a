// CryptConfig against PBS's derivations (docs/format-blob-and-crypto.md). The expected values were
// computed independently with python3 (hashlib.pbkdf2_hmac, hashlib.sha256, hmac, and the
// `cryptography` package's AESGCM) for the key 00 01 02 ... 1f.
#include "format/crypt_config.h"

#include <gtest/gtest.h>

#include <numeric>

#include "base/hex.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

EncryptionKey CountingKey() {
  EncryptionKey key;
  std::iota(key.begin(), key.end(), uint8_t{0});
  return key;
}

Bytes Hex(std::string_view hex) {
  return HexDecode(hex).value();
}

TEST(CryptConfigTest, FingerprintInputIsPbsConstant) {
  // PBS FINGERPRINT_INPUT = sha256("Proxmox Backup Encryption Key Fingerprint").
  EXPECT_EQ(DigestToHex(Sha256Of(AsBytes("Proxmox Backup Encryption Key Fingerprint"))),
            "6ed0ef77471fff4d55c7a8fe4a9db62161407f134c725ddf30992d25ec45ed26");
}

TEST(CryptConfigTest, KnownAnswersForFixedKey) {
  CryptConfig c(CountingKey());
  // id_key = 7c2c013e...225c; digest = sha256(data || id_key); tag = hmac(id_key, data).
  EXPECT_EQ(DigestToHex(c.ComputeDigest(AsBytes("abc"))),
            "ae52f0812a2f1ac3f368d9295cf6419bdff5fe1fe197e48052dd2f7e6d00a6fd");
  EXPECT_EQ(DigestToHex(c.ComputeAuthTag(AsBytes("abc"))),
            "7360a50d400e31775748b350f5dd31f7becb35579072430d2eb74afe5536f844");
  EXPECT_EQ(DigestToHex(c.Fingerprint()),
            "0eabd4460b6eb9ca345023dee2b778c790e54a1683b9659c0a57ae199090159b");
  EXPECT_EQ(c.FingerprintString(),
            "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:"
            "90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b");
  EXPECT_EQ(CryptConfig::FingerprintToString(c.Fingerprint()), c.FingerprintString());
  // The digest of an encrypted chunk is not the plain SHA-256.
  EXPECT_NE(c.ComputeDigest(AsBytes("abc")), Sha256Of(AsBytes("abc")));
}

TEST(CryptConfigTest, DecryptsKnownCiphertext) {
  // AESGCM(key).encrypt(iv = 64..73 hex, "Cairn encrypted blob known-answer test", aad = b"").
  CryptConfig c(CountingKey());
  const Bytes iv = Hex("6465666768696a6b6c6d6e6f70717273");
  const Bytes tag = Hex("bee56b32cccf9c5ab0a54524aeda11ba");
  const Bytes ct =
      Hex("9bd22a238a3442b6d18bd4f933b28845381d37a2bc848e64b2ee390ff78470ad09e1faa913bf");
  auto plain = c.Decrypt(ct, iv.data(), tag.data());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(AsString(*plain), "Cairn encrypted blob known-answer test");
}

TEST(CryptConfigTest, EncryptRoundTripWithFreshIv) {
  CryptConfig c(CountingKey());
  const Bytes plain = testing::RandomBytes(100000, 7);
  uint8_t iv1[16], tag1[16], iv2[16], tag2[16];
  Bytes ct1, ct2;
  ASSERT_TRUE(c.Encrypt(plain, iv1, tag1, &ct1).ok());
  ASSERT_TRUE(c.Encrypt(plain, iv2, tag2, &ct2).ok());
  EXPECT_EQ(ct1.size(), plain.size());
  EXPECT_NE(Bytes(iv1, iv1 + 16), Bytes(iv2, iv2 + 16));
  EXPECT_NE(ct1, ct2);
  EXPECT_NE(ct1, plain);
  auto back = c.Decrypt(ct1, iv1, tag1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, plain);
}

TEST(CryptConfigTest, EmptyPlaintextRoundTrips) {
  CryptConfig c(CountingKey());
  uint8_t iv[16], tag[16];
  Bytes ct;
  ASSERT_TRUE(c.Encrypt({}, iv, tag, &ct).ok());
  EXPECT_TRUE(ct.empty());
  auto back = c.Decrypt(ct, iv, tag);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
  tag[0] ^= 1;  // the tag still authenticates an empty message
  EXPECT_TRUE(c.Decrypt(ct, iv, tag).status().IsCorruption());
}

TEST(CryptConfigTest, TamperingAndWrongKeyAreCorruption) {
  CryptConfig c(CountingKey());
  EncryptionKey other = CountingKey();
  other[31] ^= 0x80;
  const Bytes plain = testing::RandomBytes(1000, 9);
  uint8_t iv[16], tag[16];
  Bytes ct;
  ASSERT_TRUE(c.Encrypt(plain, iv, tag, &ct).ok());

  EXPECT_TRUE(CryptConfig(other).Decrypt(ct, iv, tag).status().IsCorruption());
  Bytes bad_ct = ct;
  bad_ct[500] ^= 1;
  EXPECT_TRUE(c.Decrypt(bad_ct, iv, tag).status().IsCorruption());
  uint8_t bad_tag[16];
  std::copy(tag, tag + 16, bad_tag);
  bad_tag[15] ^= 1;
  EXPECT_TRUE(c.Decrypt(ct, iv, bad_tag).status().IsCorruption());
  uint8_t bad_iv[16];
  std::copy(iv, iv + 16, bad_iv);
  bad_iv[15] ^= 1;  // the 4 bytes past a 96-bit IV matter: PBS uses 16-byte IVs
  EXPECT_TRUE(c.Decrypt(ct, bad_iv, tag).status().IsCorruption());
}

TEST(CryptConfigTest, SpanOverloadsCheckSizesAndWipeOnFailure) {
  CryptConfig c(CountingKey());
  const Bytes plain = testing::RandomBytes(64, 3);
  uint8_t iv[16], tag[16];
  Bytes ct(64);
  EXPECT_EQ(c.Encrypt(plain, iv, tag, std::span<uint8_t>(ct).first(63)).code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(c.Encrypt(plain, iv, tag, std::span<uint8_t>(ct)).ok());
  Bytes out(64, 0xaa);
  EXPECT_EQ(c.Decrypt(ct, iv, tag, std::span<uint8_t>(out).first(10)).code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(c.Decrypt(ct, iv, tag, std::span<uint8_t>(out)).ok());
  EXPECT_EQ(out, plain);
  tag[0] ^= 1;
  EXPECT_TRUE(c.Decrypt(ct, iv, tag, std::span<uint8_t>(out)).IsCorruption());
  EXPECT_EQ(out, Bytes(64, 0));  // unauthenticated plaintext was wiped
}

TEST(CryptConfigTest, CopiesBehaveAlike) {
  CryptConfig a(CountingKey());
  CryptConfig b = a;
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
  EXPECT_EQ(a.key(), b.key());
  EncryptionKey k2{};
  CryptConfig c(k2);
  c = a;
  EXPECT_EQ(c.ComputeDigest(AsBytes("x")), a.ComputeDigest(AsBytes("x")));
}

}  // namespace
}  // namespace cairn
