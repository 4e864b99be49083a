#include "datastore/backend/chunk_insert_policy.h"

#include "format/data_blob.h"

namespace cairn {

ExistingChunk InspectExistingChunk(ByteView stored) {
  using Content = ExistingChunk::Content;
  ExistingChunk existing{stored.size(), Content::kDamaged};
  auto kind = InspectBlob(stored);
  if (kind.ok() && VerifyBlobCrc(stored).ok()) {
    existing.content = IsEncrypted(*kind) ? Content::kEncrypted : Content::kPlain;
  }
  return existing;
}

bool ChunkInsertNeedsContent(uint64_t existing_size, uint64_t incoming_size) {
  return existing_size != incoming_size && existing_size != 0;
}

ChunkInsertAction DecideChunkInsert(const std::optional<ExistingChunk>& existing,
                                    bool incoming_encrypted, uint64_t incoming_size) {
  using Content = ExistingChunk::Content;
  if (!existing) return ChunkInsertAction::kStoreNew;
  if (existing->size == 0 || existing->content == Content::kDamaged) {
    return ChunkInsertAction::kReplace;
  }
  if (existing->size == incoming_size || existing->content == Content::kUnread) {
    return ChunkInsertAction::kKeepExisting;
  }
  const bool existing_encrypted = existing->content == Content::kEncrypted;
  if (incoming_encrypted) {
    return existing_encrypted ? ChunkInsertAction::kKeepExisting : ChunkInsertAction::kRefuse;
  }
  return existing->size < incoming_size ? ChunkInsertAction::kKeepExisting
                                        : ChunkInsertAction::kReplace;
}

int NextBadCopyIndex(const std::bitset<kMaxBadCopies>& taken) {
  for (int n = 0; n < kMaxBadCopies - 1; ++n) {
    if (!taken[static_cast<size_t>(n)]) return n;
  }
  return kMaxBadCopies - 1;
}

}  // namespace cairn
