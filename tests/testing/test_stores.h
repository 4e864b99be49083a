// Datastores for tests, on every backend: the local filesystem, S3 on each real server the
// s3_peers fixture runs (moto, and s3rver, which exercises the no-conditional-PUT quirk), and
// the in-memory object store (fast; metered like a remote store, and behind a FaultObjectStore
// without rules that a test may give some, e.g. to pause a call). A
// test suite parameterised over StoreKind runs unchanged against all of them; TestStore gives it
// the few backend-aware probes a test needs (which chunks are stored, damage one where reads
// will find it). Header-only, like s3_peers.h.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/datastore.h"
#include "format/digest.h"
#include "storage/fault_object_store.h"
#include "storage/mem_object_store.h"
#include "storage/metered_object_store.h"
#include "storage/s3_object_store.h"
#include "testing/s3_peers.h"

namespace cairn::testing {

enum class StoreKind { kFilesystem, kMemory, kMoto, kS3rver };

inline std::string StoreKindName(StoreKind kind) {
  switch (kind) {
    case StoreKind::kFilesystem: return "filesystem";
    case StoreKind::kMemory: return "memory";
    case StoreKind::kMoto: return "moto";
    case StoreKind::kS3rver: return "s3rver";
  }
  return "?";
}

inline void PrintTo(StoreKind kind, std::ostream* os) {
  *os << StoreKindName(kind);
}

// For INSTANTIATE_TEST_SUITE_P(..., kAllStoreKinds, PrintStoreKind).
inline const auto kAllStoreKinds = ::testing::Values(StoreKind::kFilesystem, StoreKind::kMemory,
                                                     StoreKind::kMoto, StoreKind::kS3rver);
inline std::string PrintStoreKind(const ::testing::TestParamInfo<StoreKind>& info) {
  return StoreKindName(info.param);
}

// The object store of a fresh bucket on a running peer ("moto", "s3rver"), with the quirks the
// peer needs. Fails the test (and returns null) if it cannot be set up.
inline std::shared_ptr<ObjectStore> NewPeerBucket(const std::string& peer_kind,
                                                  std::string bucket = "") {
  S3Peer peer = LoadS3Peer(peer_kind);
  s3::EndpointConfig config = peer.config;
  config.quirks.skip_if_none_match_header = !peer.conditional_put;
  if (bucket.empty()) bucket = UniqueBucketName("ds");
  auto client = s3::S3Client::Create(config, bucket);
  if (!client.ok()) {
    ADD_FAILURE() << client.status().ToString();
    return nullptr;
  }
  Status created = (*client)->CreateBucket();
  if (!created.ok() && !created.IsAlreadyExists()) {
    ADD_FAILURE() << created.ToString();
    return nullptr;
  }
  return std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(client).value(), config.id));
}

class TestStore {
 public:
  static constexpr char kStoreName[] = "store";

  // A new datastore of `kind` whose directory (the store, or the cache) is `path`.
  static std::unique_ptr<TestStore> Create(StoreKind kind, const std::string& path,
                                           uint64_t max_cache_size = 0) {
    auto t = std::unique_ptr<TestStore>(new TestStore(kind, path));
    if (kind == StoreKind::kFilesystem) {
      auto store = Datastore::CreateFilesystem(path);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (store.ok()) t->store_ = std::move(store).value();
      return t;
    }
    t->bucket_ = UniqueBucketName("ds");
    if (kind == StoreKind::kMemory) {
      t->faults_ = std::make_shared<FaultObjectStore>(std::make_shared<MemObjectStore>(), 1);
    }
    t->objects_ = t->NewBucketClient();
    if (!t->objects_) return t;
    t->max_cache_size_ = max_cache_size;
    ObjectStoreDatastoreOptions options;
    options.backend = t->BackendOptions();
    options.hostname = "test-host";
    auto store = Datastore::CreateOnObjectStore(path, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (store.ok()) t->store_ = std::move(store).value();
    return t;
  }

  StoreKind kind() const { return kind_; }
  bool remote() const { return objects_ != nullptr; }
  Datastore& store() { return *store_; }
  ObjectStore* objects() { return objects_.get(); }
  // kMemory: the fault injector every client of the bucket goes through; null otherwise.
  FaultObjectStore* faults() { return faults_.get(); }
  const std::string& path() const { return path_; }

  ObjectStoreBackendOptions BackendOptions() const {
    return ObjectStoreBackendOptions{kStoreName, objects_, max_cache_size_};
  }

  // Opens another Datastore object on the same directory (and bucket, through a client of its
  // own), as another process would. Call it in a forked child to get a store of its own.
  Result<std::unique_ptr<Datastore>> OpenAnother() const {
    if (!remote()) return Datastore::OpenFilesystem(path_);
    ObjectStoreBackendOptions options = BackendOptions();
    options.objects = NewBucketClient();
    if (!options.objects) return Status::Unavailable("no S3 peer");
    return Datastore::OpenOnObjectStore(path_, options);
  }

  // Attaches a second cache directory at `path` to the same bucket prefix (--reuse), as a host
  // that lost its cache would: it sees what the bucket holds, nothing else.
  Result<std::unique_ptr<Datastore>> AttachMirror(const std::string& path) const {
    ObjectStoreDatastoreOptions options;
    options.backend = BackendOptions();
    options.hostname = "test-host";
    options.reuse = true;
    return Datastore::CreateOnObjectStore(path, options);
  }

  // Drops the Datastore object and opens the directory again (a new process, as it were).
  void Reopen() {
    store_.reset();
    auto store = remote() ? Datastore::OpenOnObjectStore(path_, BackendOptions())
                          : Datastore::OpenFilesystem(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // Digests of the chunks in the store proper (the bucket for S3), sorted.
  std::vector<Digest> StoredChunks() {
    std::vector<Digest> out;
    if (remote()) {
      const std::string prefix = std::string(kStoreName) + "/.chunks/";
      Status st = objects_->List({prefix}, [&](const StoredObject& o) {
        auto d = DigestFromHex(o.key.substr(o.key.rfind('/') + 1));
        if (d.ok()) out.push_back(*d);
        return true;
      });
      EXPECT_TRUE(st.ok()) << st.ToString();
    } else {
      for (unsigned i = 0; i < 0x10000; ++i) {
        auto entries = ListDir(path_ + "/.chunks/" + HexDir(i));
        if (!entries.ok()) continue;
        for (const auto& e : *entries) {
          auto d = DigestFromHex(e.name);
          if (d.ok()) out.push_back(*d);
        }
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // The stored bytes of a chunk (bucket for S3).
  Bytes ReadStoredChunk(const Digest& digest) {
    if (remote()) {
      auto data = objects_->Get(ChunkKey(digest));
      EXPECT_TRUE(data.ok()) << data.status().ToString();
      return data.ok() ? *data : Bytes();
    }
    return ReadFile(LocalChunkPath(digest)).value();
  }

  // Replaces a chunk's stored bytes where the next read finds them (for S3: in the bucket, with
  // the local cached copy turned into an eviction marker).
  void ReplaceStoredChunk(const Digest& digest, ByteView data) {
    if (remote()) {
      ASSERT_TRUE(objects_->Put(ChunkKey(digest), data, PutMode::kReplace).ok());
      ASSERT_TRUE(WriteFileAtomic(LocalChunkPath(digest), {}, 0644, SyncMode::kNone).ok());
    } else {
      ASSERT_TRUE(WriteFileAtomic(LocalChunkPath(digest), data, 0644, SyncMode::kNone).ok());
    }
  }

  // Leaves `data` where an upload cut off by a crash would: in the bucket with nothing in the
  // cache (S3), or as the chunk file (filesystem, where only a damaged disk could do it).
  void PlantInterruptedUpload(const Digest& digest, ByteView data) {
    ReplaceStoredChunk(digest, data);
    if (remote()) {
      ASSERT_TRUE(RemoveFile(LocalChunkPath(digest)).ok());
    }
  }

  // Removes a chunk from the store (for S3: from the bucket and the cache).
  void DeleteStoredChunk(const Digest& digest) {
    if (remote()) {
      ASSERT_TRUE(objects_->Delete(ChunkKey(digest)).ok());
    }
    ASSERT_TRUE(RemoveFile(LocalChunkPath(digest)).ok());
  }

  // Whether the store proper (the bucket for S3) holds the chunk's bad copy `.n.bad`.
  bool HasBadCopy(const Digest& digest, int n) {
    const std::string suffix = "." + std::to_string(n) + ".bad";
    if (!remote()) return PathExists(LocalChunkPath(digest) + suffix).value();
    auto object = objects_->Get(ChunkKey(digest) + suffix);
    EXPECT_TRUE(object.ok() || object.status().IsNotFound()) << object.status().ToString();
    return object.ok();
  }

  std::string ChunkKey(const Digest& digest) const {
    return std::string(kStoreName) + "/" + ChunkStore::RelativeChunkPath(digest);
  }

  std::string LocalChunkPath(const Digest& digest) const {
    return JoinPath(path_, ChunkStore::RelativeChunkPath(digest));
  }

 private:
  TestStore(StoreKind kind, std::string path) : kind_(kind), path_(std::move(path)) {}
  // A new client of the test's bucket (for memory: a new meter on the same objects).
  std::shared_ptr<ObjectStore> NewBucketClient() const {
    if (faults_) return std::make_shared<MeteredObjectStore>(faults_);
    return NewPeerBucket(kind_ == StoreKind::kMoto ? "moto" : "s3rver", bucket_);
  }
  static std::string HexDir(unsigned i) {
    static const char* kHex = "0123456789abcdef";
    return {kHex[(i >> 12) & 15], kHex[(i >> 8) & 15], kHex[(i >> 4) & 15], kHex[i & 15]};
  }
  StoreKind kind_;
  std::string path_;
  std::string bucket_;
  std::shared_ptr<FaultObjectStore> faults_;  // kMemory: in front of the bucket's objects
  std::shared_ptr<ObjectStore> objects_;
  uint64_t max_cache_size_ = 0;
  std::unique_ptr<Datastore> store_;
};

}  // namespace cairn::testing
