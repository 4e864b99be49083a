// The magic numbers are PBS's (docs/format-blob-and-crypto.md): each must be the first 8 bytes of
// SHA-256 of its source string, and the table's hex column must match too.
#include "format/file_formats.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/hex.h"
#include "format/digest.h"

namespace cairn {
namespace {

struct MagicCase {
  const Magic& magic;
  const char* source;
  const char* hex;  // docs/format-blob-and-crypto.md, "hex" column
};

const MagicCase kCases[] = {
    {kUncompressedBlobMagic1_0, "Proxmox Backup uncompressed blob v1.0", "42ab3807be8370a1"},
    {kCompressedBlobMagic1_0, "Proxmox Backup zstd compressed blob v1.0", "31b958426fb6a37f"},
    {kEncryptedBlobMagic1_0, "Proxmox Backup encrypted blob v1.0", "7b6785be222d4cf0"},
    {kEncrComprBlobMagic1_0, "Proxmox Backup zstd compressed encrypted blob v1.0",
     "e6591bbf0bbfd80b"},
    {kFixedSizedChunkIndex1_0, "Proxmox Backup fixed sized chunk index v1.0", "2f7f41ed91fd0fcd"},
    {kDynamicSizedChunkIndex1_0, "Proxmox Backup dynamic sized chunk index v1.0",
     "1c914ea519bab3cd"},
    {kProxmoxCatalogFileMagic1_0, "Proxmox Backup Catalog file v1.0", "91fd60f9c46758d5"},
};

TEST(FileFormatsTest, EachMagicIsSha256PrefixOfItsSourceString) {
  for (const MagicCase& c : kCases) {
    const Digest d = Sha256Of(AsBytes(c.source));
    EXPECT_EQ(0, std::memcmp(d.data(), c.magic.data(), c.magic.size())) << c.source;
    EXPECT_EQ(HexEncode(c.magic), c.hex) << c.source;
  }
}

TEST(FileFormatsTest, MagicsAreDistinct) {
  for (size_t i = 0; i < std::size(kCases); ++i) {
    for (size_t j = i + 1; j < std::size(kCases); ++j) {
      EXPECT_NE(kCases[i].magic, kCases[j].magic) << kCases[i].source << " vs " << kCases[j].source;
    }
  }
}

TEST(FileFormatsTest, ShortNamesAliasThePbsNames) {
  EXPECT_EQ(&kUncompressedBlobMagic, &kUncompressedBlobMagic1_0);
  EXPECT_EQ(&kCompressedBlobMagic, &kCompressedBlobMagic1_0);
  EXPECT_EQ(&kEncryptedBlobMagic, &kEncryptedBlobMagic1_0);
  EXPECT_EQ(&kEncryptedCompressedBlobMagic, &kEncrComprBlobMagic1_0);
  EXPECT_EQ(&kFixedIndexMagic, &kFixedSizedChunkIndex1_0);
  EXPECT_EQ(&kDynamicIndexMagic, &kDynamicSizedChunkIndex1_0);
  EXPECT_EQ(&kCatalogMagic, &kProxmoxCatalogFileMagic1_0);
}

}  // namespace
}  // namespace cairn
