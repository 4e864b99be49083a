// pxar compatibility with PBS: the encoder reproduces the reference archives from
// proxmox-backup's tests/pxar (copied to tests/testdata/pxar) byte for byte, the payload stream
// cut with PBS's chunker and file-start suggestions has the chunk digests of the shipped
// .ppxar.didx, and the decoder reads the references back. Also the name hash, the GOODBYE tree
// order and a worked v1 example computed by hand from the format.
#include <gtest/gtest.h>

#include <string>

#include "base/file_util.h"
#include "format/chunk_stream.h"
#include "format/dynamic_index.h"
#include "format/pxar/decoder.h"
#include "format/pxar/encoder.h"

namespace cairn::pxar {
namespace {

Bytes Fixture(const std::string& name) {
  auto bytes = ReadFile(std::string(CAIRN_SOURCE_DIR) + "/tests/testdata/pxar/" + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : Bytes();
}

Metadata Meta(uint64_t mode, uint32_t uid = 1000, uint32_t gid = 1000, int64_t mtime = 0) {
  Metadata m;
  m.stat.mode = mode;
  m.stat.uid = uid;
  m.stat.gid = gid;
  m.stat.mtime_secs = mtime;
  return m;
}

constexpr uint64_t kFileSize = 1 << 20;

TEST(PxarHashTest, NameHashesMatchTheReference) {
  EXPECT_EQ(HashName(""), 0x76614015f8d1bb6cULL);
  EXPECT_EQ(HashName("a"), 0x0c26e9067c2c7bcfULL);
  EXPECT_EQ(HashName("abcdefgh"), 0xea82693c92359125ULL);
  EXPECT_EQ(HashName("abcdefghi"), 0xba687b3dd67d2933ULL);
  EXPECT_EQ(HashName("a.txt"), 0xdc392d66b611aa72ULL);
  EXPECT_EQ(HashName(".pxarexclude-cli"), 0x046975ce672e09ebULL);
  EXPECT_EQ(HashName("file_0"), 0xa72d4eec8843fa66ULL);
  EXPECT_EQ(HashName("folder_9"), 0xa366b271c73f1223ULL);
}

TEST(PxarHashTest, TypeConstantsAreHashesOfTheirMarkerStrings) {
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_ENTRY_V2__"), kEntry);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_ENTRY__"), kEntryV1);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_FILENAME__"), kFilename);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_PXAR_PAYLOAD__"), kPayload);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_PXAR_PAYLOAD_REF__"), kPayloadRef);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_GOODBYE__"), kGoodbye);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_PXAR_GOODBYE_TAIL_MARKER__"), kGoodbyeTailMarker);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_ACL_DEFAULT_GROUP__"), kAclDefaultGroup);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_QUOTA_PROJID__"), kQuotaProjectId);
  EXPECT_EQ(HashName("__PROXMOX_FORMAT_PXAR_PAYLOAD_TAIL_MARKER__"), kPayloadTailMarker);
}

TEST(PxarGoodbyeTest, TreeOrderMatchesTheReferenceVectors) {
  const std::vector<std::vector<size_t>> expected = {
      {},
      {0},
      {1, 0},
      {1, 0, 2},
      {2, 1, 3, 0},
      {3, 1, 4, 0, 2},
      {3, 1, 5, 0, 2, 4},
      {3, 1, 5, 0, 2, 4, 6},
      {4, 2, 6, 1, 3, 5, 7, 0},
      {5, 3, 7, 1, 4, 6, 8, 0, 2},
      {6, 3, 8, 1, 5, 7, 9, 0, 2, 4},
      {7, 3, 9, 1, 5, 8, 10, 0, 2, 4, 6},
      {7, 3, 10, 1, 5, 9, 11, 0, 2, 4, 6, 8},
      {7, 3, 11, 1, 5, 9, 12, 0, 2, 4, 6, 8, 10},
      {7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12},
      {7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12, 14},
      {8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0},
      {9, 5, 13, 3, 7, 11, 15, 1, 4, 6, 8, 10, 12, 14, 16, 0, 2},
  };
  for (size_t n = 0; n < expected.size(); ++n) EXPECT_EQ(GoodbyeTreeOrder(n), expected[n]) << n;
}

TEST(PxarGoodbyeTest, LookupFindsEveryKeyIncludingDuplicates) {
  for (size_t n = 1; n < 200; n += 7) {
    std::vector<GoodbyeItem> items;
    for (size_t i = 0; i < n; ++i) items.push_back({(i * 7919) % 64, i + 1, 0});  // duplicates
    Bytes out;
    AppendGoodbye(out, items, 1000000, 0);
    auto table = ParseGoodbye(ByteView(out).subspan(kHeaderSize));
    ASSERT_TRUE(table.ok());
    table->pop_back();
    for (uint64_t key = 0; key < 64; ++key) {
      size_t want = 0;
      for (const auto& it : items) want += it.hash == key;
      EXPECT_EQ(GoodbyeLookup(*table, key).size(), want) << n << " " << key;
    }
  }
}

// Encodes PBS's fixture tree: ten folders of ten 1 MiB zero files, all mode 0777, uid/gid 1000.
// `reuse` true: metadata mode, every file referenced in a previous payload stream.
Bytes EncodeFixtureTree(ByteSink* payload, bool reuse, std::optional<Bytes> prelude) {
  BytesSink archive;
  auto encoder = Encoder::Create(&archive, payload, Meta(040777), prelude);
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  Bytes zeros(kFileSize, 0);
  uint64_t k = 0;
  for (int d = 0; d < 10; ++d) {
    EXPECT_TRUE((*encoder)->OpenDirectory("folder_" + std::to_string(d), Meta(040777)).ok());
    for (int f = 0; f < 10; ++f, ++k) {
      std::string name = "file_" + std::to_string(f);
      if (reuse) {
        uint64_t offset = 32 + k * (16 + kFileSize);
        EXPECT_TRUE((*encoder)->AddPayloadRef(name, Meta(0100777), kFileSize, offset).ok());
      } else {
        EXPECT_TRUE((*encoder)->AddFile(name, Meta(0100777), zeros).ok());
      }
    }
    EXPECT_TRUE((*encoder)->CloseDirectory().ok());
  }
  Status s = (*encoder)->Finish();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return archive.Take();
}

TEST(PxarFixtureTest, DataModeArchiveIsByteIdenticalToPbs) {
  BytesSink payload;
  Bytes archive = EncodeFixtureTree(&payload, /*reuse=*/false, std::nullopt);
  EXPECT_EQ(archive, Fixture("backup-client-pxar-data.mpxar"));
  EXPECT_EQ(payload.bytes().size(), 16 + 100 * (16 + kFileSize) + 16);
}

TEST(PxarFixtureTest, PayloadStreamChunksMatchPbsIndex) {
  // The payload stream goes through PBS's buzhash chunker (avg 4 MiB) with each file start
  // suggested as a boundary, as PBS's client does; the digests must be those of the .didx.
  BuzhashChunker chunker;
  std::vector<DynamicIndexEntry> chunks;
  uint64_t end = 0;
  ChunkStream stream(chunker, [&](Bytes chunk) {
    end += chunk.size();
    chunks.push_back({end, Sha256Of(chunk)});
    return Status::OK();
  });
  struct SuggestingSink : ByteSink {
    ChunkStream* stream;
    size_t min;
    Status Write(ByteView data) override {
      // A PAYLOAD header starts each file: suggest a cut before it.
      if (data.size() == kHeaderSize && GetLE64(data.data()) == kPayload) {
        CAIRN_RETURN_IF_ERROR(stream->CutIfAtLeast(min));
      }
      return stream->Write(data);
    }
  } sink;
  sink.stream = &stream;
  sink.min = chunker.min_size();
  EncodeFixtureTree(&sink, /*reuse=*/false, std::nullopt);
  ASSERT_TRUE(stream.Finish().ok());
  auto index = DynamicIndex::Parse(Fixture("backup-client-pxar-data.ppxar.didx"), "fixture");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_EQ(chunks.size(), index->chunk_count());
  for (size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(chunks[i], index->entries()[i]) << i;
  EXPECT_EQ(DynamicIndexCsum(chunks), index->csum());
}

TEST(PxarFixtureTest, MetadataModeArchiveIsByteIdenticalToPbs) {
  BytesSink payload;
  Bytes archive = EncodeFixtureTree(&payload, /*reuse=*/true, Bytes{});
  EXPECT_EQ(archive, Fixture("backup-client-pxar-expected.mpxar"));
}

TEST(PxarFixtureTest, DecoderReadsTheReferenceArchives) {
  for (const char* name : {"backup-client-pxar-data.mpxar", "backup-client-pxar-expected.mpxar"}) {
    Bytes archive = Fixture(name);
    ByteViewSource source(archive);
    auto decoder = Decoder::Open(&source, nullptr);
    ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
    EXPECT_EQ((*decoder)->format_version(), 2);
    Entry e;
    size_t files = 0, dirs = 0, ends = 0;
    uint64_t k = 0;
    bool reused = std::string(name).find("expected") != std::string::npos;
    for (;;) {
      auto more = (*decoder)->Next(&e);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      if (e.kind == EntryKind::kFile) {
        EXPECT_EQ(e.file_size, kFileSize);
        EXPECT_EQ(e.metadata.stat.mode, 0100777u);
        EXPECT_EQ(*e.payload_offset, (reused ? 32 : 16) + k * (16 + kFileSize));
        EXPECT_EQ(e.path, "folder_" + std::to_string(k / 10) + "/file_" + std::to_string(k % 10));
        ++k;
        ++files;
      } else if (e.kind == EntryKind::kDirectory) {
        EXPECT_EQ(e.metadata.stat.uid, 1000u);
        ++dirs;
      } else if (e.kind == EntryKind::kDirectoryEnd) {
        ++ends;
      }
    }
    EXPECT_EQ(files, 100u);
    EXPECT_EQ(dirs, 11u);
    EXPECT_EQ(ends, 11u);
    EXPECT_EQ((*decoder)->prelude().has_value(), reused);
  }
}

// A worked example, computed by hand from the format (not made by PBS's encoder): a small
// unified archive with a file carrying an xattr, a hard link, a symlink and a FIFO; 531 bytes,
// with the GOODBYE records below.
TEST(PxarFixtureTest, WorkedUnifiedExampleHasTheSpecifiedLayout) {
  BytesSink archive;
  auto encoder = Encoder::Create(&archive, nullptr, Meta(040755, 0, 0, 1430487000));
  ASSERT_TRUE(encoder.ok());
  Metadata file = Meta(0100644, 1000, 1000, 1430487000);
  file.xattrs.push_back({"user.k", Bytes{'v'}});
  auto link = (*encoder)->AddFile("a.txt", file, AsBytes("hi\n"));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->value, 56u);
  ASSERT_TRUE((*encoder)->AddHardlink("h", "a.txt", *link).ok());
  ASSERT_TRUE((*encoder)->AddSymlink("l", Meta(0120777, 0, 0, 1430487000), "a.txt").ok());
  ASSERT_TRUE((*encoder)->AddSpecial("p", Meta(0010644, 0, 0, 1430487000)).ok());
  ASSERT_TRUE((*encoder)->Finish().ok());
  const Bytes& b = archive.bytes();
  ASSERT_EQ(b.size(), 531u);
  EXPECT_EQ(GetLE64(&b[195]), kHardlink);
  EXPECT_EQ(GetLE64(&b[195 + 16]), 121u);
  EXPECT_EQ(GetLE64(&b[395]), kGoodbye);
  EXPECT_EQ(GetLE64(&b[395 + 8]), 136u);
  const uint64_t records[5][3] = {{0xdc392d66b611aa72ULL, 339, 121},
                                  {0xce4d55a939ab1099ULL, 74, 74},
                                  {0xfcb517b2b2698000ULL, 218, 48},
                                  {0x53720446c9172559ULL, 170, 96},
                                  {kGoodbyeTailMarker, 395, 136}};
  for (size_t i = 0; i < 5; ++i) {
    for (size_t f = 0; f < 3; ++f) {
      EXPECT_EQ(GetLE64(&b[395 + 16 + 24 * i + 8 * f]), records[i][f]) << i << "," << f;
    }
  }
}

}  // namespace
}  // namespace cairn::pxar
