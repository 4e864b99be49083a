#include "datastore/backend/chunk_insert_policy.h"

#include <gtest/gtest.h>

#include "format/data_blob.h"

namespace cairn {
namespace {

using Action = ChunkInsertAction;

TEST(ChunkInsertPolicyTest, Table) {
  struct Row {
    const char* what;
    std::optional<ExistingChunk> existing;
    bool incoming_encrypted;
    uint64_t incoming_size;
    Action expected;
  };
  using Content = ExistingChunk::Content;
  const ExistingChunk plain100{100, Content::kPlain}, enc100{100, Content::kEncrypted},
      damaged100{100, Content::kDamaged}, unread100{100, Content::kUnread};
  const Row rows[] = {
      {"nothing stored", std::nullopt, false, 100, Action::kStoreNew},
      {"nothing stored, encrypted", std::nullopt, true, 100, Action::kStoreNew},
      {"same size, plain", plain100, false, 100, Action::kKeepExisting},
      {"same size, not read", unread100, true, 100, Action::kKeepExisting},
      {"same size, but read and damaged", damaged100, false, 100, Action::kReplace},
      {"other size, not read", unread100, true, 120, Action::kKeepExisting},
      {"empty marker", ExistingChunk{0, Content::kUnread}, false, 80, Action::kReplace},
      {"empty marker, encrypted upload", ExistingChunk{0, Content::kUnread}, true, 80,
       Action::kReplace},
      {"damaged, plain upload", damaged100, false, 120, Action::kReplace},
      {"damaged, encrypted upload", damaged100, true, 120, Action::kReplace},
      {"encrypted over plain", plain100, true, 120, Action::kRefuse},
      {"encrypted over plain, smaller", plain100, true, 80, Action::kRefuse},
      {"encrypted over encrypted", enc100, true, 120, Action::kKeepExisting},
      {"encrypted over encrypted, smaller", enc100, true, 80, Action::kKeepExisting},
      {"plain over smaller plain", plain100, false, 120, Action::kKeepExisting},
      {"plain over bigger plain", plain100, false, 80, Action::kReplace},
      {"plain over smaller encrypted", enc100, false, 120, Action::kKeepExisting},
      {"plain over bigger encrypted", enc100, false, 80, Action::kReplace},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(DecideChunkInsert(row.existing, row.incoming_encrypted, row.incoming_size),
              row.expected)
        << row.what;
  }
}

TEST(ChunkInsertPolicyTest, ContentIsReadOnlyWhenTheSizeCannotDecide) {
  EXPECT_FALSE(ChunkInsertNeedsContent(100, 100));
  EXPECT_FALSE(ChunkInsertNeedsContent(0, 100));
  EXPECT_TRUE(ChunkInsertNeedsContent(100, 120));
  EXPECT_TRUE(ChunkInsertNeedsContent(120, 100));
}

TEST(ChunkInsertPolicyTest, BadCopiesTakeTheLowestFreeNumberAndTheLastIsReused) {
  std::bitset<kMaxBadCopies> taken;
  EXPECT_EQ(NextBadCopyIndex(taken), 0);
  taken.set(0);
  taken.set(2);
  EXPECT_EQ(NextBadCopyIndex(taken), 1);
  taken.set();
  taken.reset(9);
  EXPECT_EQ(NextBadCopyIndex(taken), 9);
  taken.set();
  EXPECT_EQ(NextBadCopyIndex(taken), 9);
}

TEST(ChunkInsertPolicyTest, InspectsStoredCopies) {
  using Content = ExistingChunk::Content;
  Bytes blob = EncodeBlob(AsBytes(std::string_view("chunk data")), nullptr, true).value();
  ExistingChunk intact = InspectExistingChunk(blob);
  EXPECT_EQ(intact.size, blob.size());
  EXPECT_EQ(intact.content, Content::kPlain);
  blob.back() ^= 1;
  EXPECT_EQ(InspectExistingChunk(blob).content, Content::kDamaged);
  EXPECT_EQ(InspectExistingChunk(ByteView(blob).first(5)).content, Content::kDamaged);
}

}  // namespace
}  // namespace cairn
