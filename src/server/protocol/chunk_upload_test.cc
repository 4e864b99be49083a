#include "server/protocol/chunk_upload.h"

#include <gtest/gtest.h>

#include "format/crypt_config.h"
#include "format/data_blob.h"

namespace cairn::server {
namespace {

struct Encoded {
  ChunkUploadInfo info;
  Bytes body;
};

Encoded Chunk(std::string_view text, bool compress = true) {
  Bytes plain(text.begin(), text.end());
  Encoded out;
  out.body = *EncodeBlob(plain, nullptr, compress);
  out.info = {Sha256Of(plain), plain.size(), out.body.size()};
  return out;
}

TEST(ChunkUploadTest, AcceptsAChunkThatMatchesItsAnnouncement) {
  for (bool compress : {true, false}) {
    Encoded chunk = Chunk(std::string(5000, 'q'), compress);
    EXPECT_TRUE(CheckUploadedChunk(chunk.info, chunk.body).ok());
  }
}

TEST(ChunkUploadTest, RefusesEachKindOfMismatchWithPbsMessages) {
  Encoded chunk = Chunk("some chunk data");
  Bytes longer = chunk.body;
  longer.push_back(0);
  EXPECT_EQ(CheckUploadedChunk(chunk.info, longer).message(),
            "uploaded chunk is larger than announced.");
  Bytes shorter(chunk.body.begin(), chunk.body.end() - 1);
  EXPECT_EQ(CheckUploadedChunk(chunk.info, shorter).message(),
            "uploaded chunk has unexpected size.");
  Bytes bad_magic = chunk.body;
  bad_magic[0] ^= 1;
  EXPECT_EQ(CheckUploadedChunk(chunk.info, bad_magic).message(), "wrong magic");

  ChunkUploadInfo wrong_digest = chunk.info;
  wrong_digest.digest[0] ^= 1;
  EXPECT_EQ(CheckUploadedChunk(wrong_digest, chunk.body).code(), Code::kCorruption);
  ChunkUploadInfo wrong_size = chunk.info;
  wrong_size.size += 1;
  EXPECT_EQ(CheckUploadedChunk(wrong_size, chunk.body).code(), Code::kCorruption);
  Bytes bad_crc = chunk.body;
  bad_crc.back() ^= 1;
  EXPECT_EQ(CheckUploadedChunk(chunk.info, bad_crc).code(), Code::kCorruption);
  ChunkUploadInfo tiny = {chunk.info.digest, 1, 3};
  EXPECT_EQ(CheckUploadedChunk(tiny, Bytes{1, 2, 3}).message(), "wrong magic");
}

TEST(ChunkUploadTest, AnEncryptedChunkIsCheckedForItsCrcOnly) {
  EncryptionKey key;
  key.fill(7);
  CryptConfig crypt(key);
  Bytes plain(1000, 'e');
  Bytes body = *EncodeBlob(plain, &crypt, true);
  ChunkUploadInfo info = {Sha256Of(plain), plain.size(), body.size()};
  EXPECT_TRUE(CheckUploadedChunk(info, body).ok());
  body.back() ^= 1;
  EXPECT_EQ(CheckUploadedChunk(info, body).code(), Code::kCorruption);
}

}  // namespace
}  // namespace cairn::server
