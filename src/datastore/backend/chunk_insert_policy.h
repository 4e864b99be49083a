// The rules a backend follows when a chunk is uploaded under a digest it may already hold, and
// how a damaged copy set aside is numbered: one pure function each, used by the filesystem and
// the object store backends alike, so both keep the same chunk.
//
// Insert (PBS's chunk store rules): nothing there -> store; an empty file (an eviction marker or
// a cut-off write) or a copy known to be damaged -> replace it; same encoded size -> keep the
// existing copy (a duplicate; its content need not be read); an encrypted upload over an intact
// unencrypted chunk -> refuse (the server cannot check an encrypted chunk's digest, so it may not
// displace one whose digest was checked); an encrypted upload over an encrypted chunk -> keep the
// existing one; an unencrypted upload (its digest was checked) -> keep the smaller of the two.
//
// Thread-safety: pure functions.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>

#include "base/bytes.h"

namespace cairn {

// What a backend found under a digest it is asked to store.
struct ExistingChunk {
  enum class Content {
    kUnread,     // only the size is known (enough unless ChunkInsertNeedsContent)
    kPlain,      // an intact unencrypted blob
    kEncrypted,  // an intact encrypted blob
    kDamaged,    // not a whole blob, or its CRC fails
  };
  uint64_t size = 0;
  Content content = Content::kUnread;
};

// The size and content of a stored copy, from its bytes.
ExistingChunk InspectExistingChunk(ByteView stored);

enum class ChunkInsertAction {
  kStoreNew,      // nothing there: store the upload
  kKeepExisting,  // a duplicate: keep what is there (and mark it used)
  kReplace,       // store the upload over what is there
  kRefuse,        // InvalidArgument: an encrypted upload over an unencrypted chunk
};

// Whether deciding needs the existing copy's content (its integrity and crypt mode), or its
// size alone decides (equal to the upload's, or an empty file).
bool ChunkInsertNeedsContent(uint64_t existing_size, uint64_t incoming_size);

// The action for an upload of `incoming_size` encoded bytes, encrypted or not, given what is
// stored (nullopt: nothing). An unread copy whose size cannot decide is kept (never lose a
// chunk on too little knowledge; verify finds a damaged one).
ChunkInsertAction DecideChunkInsert(const std::optional<ExistingChunk>& existing,
                                    bool incoming_encrypted, uint64_t incoming_size);

// A damaged chunk is set aside as "<digest>.N.bad", N in 0..9. Given which N are taken, the
// lowest free one below 9, else 9 (the last copy set aside is then replaced).
inline constexpr int kMaxBadCopies = 10;
int NextBadCopyIndex(const std::bitset<kMaxBadCopies>& taken);

}  // namespace cairn
