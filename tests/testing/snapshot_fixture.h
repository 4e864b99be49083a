// A test fixture over every backend (test_stores.h) that writes small image snapshots: one
// 4 KiB chunk per seed, so a test names its chunks by seed (1, 2, ...) and compares what the
// store holds by digest. GC and verify tests share it. Header-only.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "base/time.h"
#include "datastore/backend/chunk_sweep.h"
#include "datastore/snapshot_writer.h"
#include "format/crypt_config.h"
#include "format/data_blob.h"
#include "format/fixed_index.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn::testing {

inline constexpr uint64_t kSeedChunkSize = 4096;

inline Bytes ChunkOfSeed(uint64_t seed) {
  return RandomBytes(kSeedChunkSize, seed);
}
inline Digest DigestOfSeed(uint64_t seed) {
  return Sha256Of(ChunkOfSeed(seed));
}

// Sets the atime of every local chunk file (chunks, markers, bad copies) to `seconds` ago: as if
// that much time had passed since anything marked them.
inline void AgeLocalChunkFiles(const std::string& root, int64_t seconds) {
  const int64_t when = NowEpoch() - seconds;
  ASSERT_TRUE(ForEachLocalChunkFile(JoinPath(root, ".chunks"), [&](const std::string& path,
                                                                   const ChunkFileName&) {
                const struct timespec times[2] = {{when, 0}, {when, 0}};
                EXPECT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
                return Status::OK();
              }).ok());
}

class SnapshotFixture : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    test_store_ = TestStore::Create(GetParam(), dir_.Sub("store"));
    ASSERT_NE(test_store_, nullptr);
    store_ = &test_store_->store();
  }

  // Starts a backup of `group` at `time` that stores one chunk per seed (encrypted with
  // `crypt` if given) and writes its index `disk.img.fidx`; Finish makes it a snapshot.
  std::unique_ptr<SnapshotWriter> StartImage(const std::string& group, int64_t time,
                                             const std::vector<uint64_t>& seeds,
                                             ChunkCaching caching = ChunkCaching::kCache,
                                             const CryptConfig* crypt = nullptr) {
    auto writer =
        SnapshotWriter::Begin(*store_, {}, *BackupGroup::Parse(group), time, "root@pam", caching);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    auto index = *FixedIndexBuilder::Create(kSeedChunkSize);
    for (uint64_t seed : seeds) {
      Bytes plain = ChunkOfSeed(seed);
      const Digest digest = crypt ? crypt->ComputeDigest(plain) : Sha256Of(plain);
      Bytes blob = *EncodeBlob(plain, crypt, true);
      EXPECT_TRUE((*writer)->InsertChunk(digest, blob, plain.size()).ok());
      EXPECT_TRUE(index.Append(digest, kSeedChunkSize).ok());
    }
    auto out = *index.Finish();
    EXPECT_TRUE((*writer)->WriteArchive("disk.img.fidx", out.bytes).ok());
    ManifestFile file;
    file.filename = "disk.img.fidx";
    file.crypt_mode = crypt ? CryptMode::kEncrypt : CryptMode::kNone;
    file.size = index.size();
    file.csum = out.csum;
    auto manifest = *Manifest::Create("vm", writer->get()->snapshot().group.id, time);
    EXPECT_TRUE(manifest.AddOrReplaceFile(file).ok());
    manifests_.insert_or_assign(writer->get(), manifest);  // an address may come round again
    return std::move(*writer);
  }
  void Finish(SnapshotWriter& writer) {
    Status st = writer.Finish(manifests_.at(&writer));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  SnapshotRef Image(const std::string& group, int64_t time, const std::vector<uint64_t>& seeds,
                    const CryptConfig* crypt = nullptr) {
    auto writer = StartImage(group, time, seeds, ChunkCaching::kCache, crypt);
    Finish(*writer);
    return writer->snapshot();
  }

  // The stored chunks (in the bucket for S3), without the all-zero chunk of GC's atime check.
  std::vector<Digest> Stored() {
    std::vector<Digest> stored = test_store_->StoredChunks();
    const Digest zero = Sha256Of(Bytes(4u << 20, 0));
    stored.erase(std::remove(stored.begin(), stored.end(), zero), stored.end());
    return stored;
  }
  static std::vector<Digest> Digests(std::vector<uint64_t> seeds) {
    std::vector<Digest> out;
    for (uint64_t seed : seeds) out.push_back(DigestOfSeed(seed));
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<TestStore> test_store_;
  Datastore* store_ = nullptr;
  std::map<SnapshotWriter*, Manifest> manifests_;
};

}  // namespace cairn::testing
