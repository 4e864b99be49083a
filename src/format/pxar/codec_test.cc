// pxar encoder/decoder round trips over every entry kind and metadata kind, in both layouts,
// and the decoder's answers to truncated, corrupted and hostile archives.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "format/pxar/decoder.h"
#include "format/pxar/encoder.h"

namespace cairn::pxar {
namespace {

Metadata Meta(uint64_t mode, int64_t mtime = 1700000000, uint32_t nanos = 123456789) {
  Metadata m;
  m.stat = Stat{mode, 0, 1000, 100, mtime, nanos};
  return m;
}

Metadata RichFile() {
  Metadata m = Meta(0104755, -2, 500000000);  // setuid, 1.5 s before the epoch
  m.stat.flags = 0x400000;                    // immutable
  m.xattrs = {{"user.comment", Bytes{'h', 'i'}}, {"trusted.empty", Bytes{}}};
  m.acl.users = {{1002, 6}, {1001, 4}};
  m.acl.groups = {{50, 5}};
  m.acl.group_obj = 4;
  m.fcaps = Bytes{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  m.quota_project_id = 77;
  return m;
}

Metadata RichDirectory() {
  Metadata m = Meta(041770);
  m.acl.default_base = AclDefault{7, 5, 0, kAclNoMask};
  m.acl.default_users = {{1003, 7}};
  m.acl.default_groups = {{60, 5}};
  return m;
}

struct Expected {
  EntryKind kind;
  std::string path;
  Metadata metadata;
  std::string content;  // file content or link target
};

// Writes a tree with every entry kind; returns what a decoder must report, in order.
std::vector<Expected> WriteTree(Encoder& e) {
  std::vector<Expected> want;
  auto ok = [](Status s) { EXPECT_TRUE(s.ok()) << s.ToString(); };
  Metadata file = RichFile();
  auto link = e.AddFile("a file", file, AsBytes("content\n"));
  EXPECT_TRUE(link.ok());
  want.push_back({EntryKind::kFile, "a file", file, "content\n"});
  ok(e.AddFile("empty", Meta(0100600), {}).status());
  want.push_back({EntryKind::kFile, "empty", Meta(0100600), ""});
  ok(e.AddDevice("blk", Meta(060660), 8, 1));
  want.push_back({EntryKind::kDevice, "blk", Meta(060660), ""});
  ok(e.AddDevice("chr", Meta(020666), 4095, 1048575));
  want.push_back({EntryKind::kDevice, "chr", Meta(020666), ""});
  ok(e.AddSpecial("fifo", Meta(010644)));
  want.push_back({EntryKind::kFifo, "fifo", Meta(010644), ""});
  ok(e.OpenDirectory("sub", RichDirectory()));
  want.push_back({EntryKind::kDirectory, "sub", RichDirectory(), ""});
  ok(e.AddSpecial("sock", Meta(0140755)));
  want.push_back({EntryKind::kSocket, "sub/sock", Meta(0140755), ""});
  ok(e.OpenDirectory("empty dir", Meta(040700)));
  want.push_back({EntryKind::kDirectory, "sub/empty dir", Meta(040700), ""});
  ok(e.CloseDirectory());
  want.push_back({EntryKind::kDirectoryEnd, "sub/empty dir", {}, ""});
  ok(e.AddHardlink("hard", "a file", *link));
  want.push_back({EntryKind::kHardlink, "sub/hard", {}, "a file"});
  ok(e.AddSymlink("sym", Meta(0120777), "../a file"));
  want.push_back({EntryKind::kSymlink, "sub/sym", Meta(0120777), "../a file"});
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  ok(e.AddFile("big", Meta(0100644), AsBytes(big)).status());
  want.push_back({EntryKind::kFile, "sub/big", Meta(0100644), big});
  ok(e.CloseDirectory());
  want.push_back({EntryKind::kDirectoryEnd, "sub", {}, ""});
  ok(e.Finish());
  want.push_back({EntryKind::kDirectoryEnd, "", {}, ""});
  return want;
}

std::string ReadAll(Decoder& d) {
  std::string out;
  uint8_t buf[7000];
  for (;;) {
    auto n = d.ReadContent(buf);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return out;
    out.append(reinterpret_cast<char*>(buf), *n);
  }
}

// Decodes everything; returns the first error.
Status DecodeAll(ByteView archive, ByteView payload, bool read_content) {
  ByteViewSource a(archive), p(payload);
  CAIRN_ASSIGN_OR_RETURN(auto d, Decoder::Open(&a, payload.empty() ? nullptr : &p));
  Entry e;
  uint8_t buf[4096];
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, d->Next(&e));
    if (!more) return Status::OK();
    if (read_content && e.kind == EntryKind::kFile) {
      for (;;) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, d->ReadContent(buf));
        if (n == 0) break;
      }
    }
  }
}

class PxarRoundTripTest : public ::testing::TestWithParam<bool> {};

TEST_P(PxarRoundTripTest, EveryEntryAndMetadataKindComesBackExactly) {
  bool split = GetParam();
  BytesSink archive, payload;
  Metadata root = Meta(040755);
  root.xattrs = {{"user.root", Bytes{'r'}}};
  auto encoder = Encoder::Create(&archive, split ? &payload : nullptr, root);
  ASSERT_TRUE(encoder.ok());
  std::vector<Expected> want = WriteTree(**encoder);
  want.insert(want.begin(), Expected{EntryKind::kDirectory, "", root, ""});

  ByteViewSource a(archive.bytes()), p(payload.bytes());
  auto decoder = Decoder::Open(&a, split ? &p : nullptr);
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  EXPECT_EQ((*decoder)->format_version(), split ? 2 : 1);
  Entry e;
  for (const Expected& w : want) {
    auto more = (*decoder)->Next(&e);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    ASSERT_TRUE(*more) << w.path;
    EXPECT_EQ(e.kind, w.kind) << w.path;
    EXPECT_EQ(e.path, w.path);
    if (w.kind == EntryKind::kDirectoryEnd) continue;
    if (w.kind != EntryKind::kHardlink) {
      Metadata expected = w.metadata;
      // ACL entries come back sorted by (id, permissions), as PBS stores them.
      std::sort(expected.acl.users.begin(), expected.acl.users.end());
      EXPECT_EQ(e.metadata, expected) << w.path;
    }
    if (w.kind == EntryKind::kFile) {
      EXPECT_EQ(e.file_size, w.content.size());
      EXPECT_EQ(ReadAll(**decoder), w.content) << w.path;
    }
    if (w.kind == EntryKind::kSymlink || w.kind == EntryKind::kHardlink) {
      EXPECT_EQ(e.link_target, w.content);
    }
    if (w.path == "chr") {
      EXPECT_EQ(e.device_major, 4095u);
      EXPECT_EQ(e.device_minor, 1048575u);
    }
  }
  auto more = (*decoder)->Next(&e);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST_P(PxarRoundTripTest, UnreadContentIsSkipped) {
  bool split = GetParam();
  BytesSink archive, payload;
  auto encoder = Encoder::Create(&archive, split ? &payload : nullptr, Meta(040755));
  ASSERT_TRUE(encoder.ok());
  WriteTree(**encoder);
  EXPECT_TRUE(DecodeAll(archive.bytes(), payload.bytes(), /*read_content=*/false).ok());
  // A v2 metadata archive lists without its payload stream.
  if (split) {
    EXPECT_TRUE(DecodeAll(archive.bytes(), {}, false).ok());
  }
}

// Truncating an archive anywhere gives a Corruption naming an entry, never a crash or a
// silently shorter listing.
TEST_P(PxarRoundTripTest, EveryTruncationIsACorruptionError) {
  bool split = GetParam();
  BytesSink archive, payload;
  auto encoder = Encoder::Create(&archive, split ? &payload : nullptr, Meta(040755));
  ASSERT_TRUE(encoder.ok());
  WriteTree(**encoder);
  const Bytes& full = archive.bytes();
  for (size_t cut = 0; cut < full.size(); cut += (cut < 2000 ? 1 : 997)) {
    Status s = DecodeAll(ByteView(full).first(cut), payload.bytes(), true);
    ASSERT_FALSE(s.ok()) << "cut at " << cut;
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("pxar archive: '"), std::string::npos) << s.ToString();
  }
  if (split) {
    const Bytes& pay = payload.bytes();
    for (size_t cut : {size_t{10}, size_t{40}, pay.size() / 2, pay.size() - 17}) {
      Status s = DecodeAll(full, ByteView(pay).first(cut), true);
      EXPECT_TRUE(s.IsCorruption()) << cut << ": " << s.ToString();
    }
  }
}

// Random byte flips either decode to something or give a clean error (run under ASan in CI).
TEST_P(PxarRoundTripTest, FlippedBytesNeverCrash) {
  bool split = GetParam();
  BytesSink archive, payload;
  auto encoder = Encoder::Create(&archive, split ? &payload : nullptr, Meta(040755));
  ASSERT_TRUE(encoder.ok());
  WriteTree(**encoder);
  std::mt19937 rng(42);
  size_t errors = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes damaged = archive.bytes();
    size_t at = rng() % std::min<size_t>(damaged.size(), 1500);
    damaged[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    errors += !DecodeAll(damaged, payload.bytes(), true).ok();
  }
  EXPECT_GT(errors, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Layouts, PxarRoundTripTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Split" : "Unified"; });

// Builds an archive by hand around one hostile FILENAME or HARDLINK item.
Bytes ArchiveWithChild(ByteView child_items) {
  Bytes out;
  EXPECT_TRUE(AppendMetadata(out, Meta(040755)).ok());
  out.insert(out.end(), child_items.begin(), child_items.end());
  AppendGoodbye(out, {}, out.size(), 0);
  return out;
}

Bytes FilenameItem(std::string_view name) {
  Bytes out;
  AppendHeader(out, kFilename, name.size() + 1);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  return out;
}

TEST(PxarHostileTest, NamesThatEscapeTheDirectoryAreRejected) {
  for (std::string name :
       std::vector<std::string>{"..", ".", "a/b", "/etc", std::string("a\0b", 3), ""}) {
    Bytes child = FilenameItem(name);
    EXPECT_TRUE(AppendMetadata(child, Meta(0100644)).ok());
    AppendHeader(child, kPayload, 0);
    Status s = DecodeAll(ArchiveWithChild(child), {}, true);
    EXPECT_TRUE(s.IsCorruption()) << name << ": " << s.ToString();
  }
}

TEST(PxarHostileTest, HardLinksOutsideTheArchiveAreRejected) {
  for (std::string target : {"../etc/passwd", "/etc/passwd", "a//b", "a/./b", "."}) {
    Bytes child = FilenameItem("link");
    AppendHeader(child, kHardlink, 8 + target.size() + 1);
    uint8_t back[8];
    PutLE64(back, 1);
    child.insert(child.end(), back, back + 8);
    child.insert(child.end(), target.begin(), target.end());
    child.push_back(0);
    Status s = DecodeAll(ArchiveWithChild(child), {}, true);
    EXPECT_TRUE(s.IsCorruption()) << target << ": " << s.ToString();
  }
}

TEST(PxarHostileTest, HugeSizesAreRefusedWithoutAllocating) {
  // A PAYLOAD claiming 2^62 bytes in a tiny archive: truncated, not an allocation.
  Bytes child = FilenameItem("huge");
  EXPECT_TRUE(AppendMetadata(child, Meta(0100644)).ok());
  AppendHeader(child, kPayload, uint64_t{1} << 62);
  Status s = DecodeAll(ArchiveWithChild(child), {}, true);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // A GOODBYE or PRELUDE claiming gigabytes.
  Bytes bad;
  EXPECT_TRUE(AppendMetadata(bad, Meta(040755)).ok());
  AppendHeader(bad, kGoodbye, uint64_t{1} << 40);
  s = DecodeAll(bad, {}, true);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(PxarHostileTest, TerminalItemMustMatchTheFileType) {
  Bytes child = FilenameItem("x");
  EXPECT_TRUE(AppendMetadata(child, Meta(0100644)).ok());  // regular file ...
  AppendHeader(child, kSymlink, 2);                        // ... with a SYMLINK
  child.push_back('y');
  child.push_back(0);
  EXPECT_TRUE(DecodeAll(ArchiveWithChild(child), {}, true).IsCorruption());
  Bytes nothing = FilenameItem("x");
  EXPECT_TRUE(AppendMetadata(nothing, Meta(0100644)).ok());  // regular file without content
  EXPECT_TRUE(DecodeAll(ArchiveWithChild(nothing), {}, true).IsCorruption());
}

TEST(PxarHostileTest, DataAfterTheRootIsRejected) {
  Bytes archive = ArchiveWithChild({});
  archive.push_back(0);
  EXPECT_TRUE(DecodeAll(archive, {}, true).IsCorruption());
}

TEST(PxarEncoderTest, MisuseIsAnError) {
  BytesSink archive, payload;
  EXPECT_FALSE(Encoder::Create(&archive, nullptr, Meta(0100644)).ok());  // root not a dir
  auto e = Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE((*e)->AddPayloadRef("x", Meta(0100644), 1, 16).ok());  // v1 has no refs
  EXPECT_FALSE((*e)->AddFile("a/b", Meta(0100644), {}).ok());
  EXPECT_FALSE((*e)->AddFile("dir", Meta(040755), {}).ok());
  EXPECT_FALSE((*e)->CloseDirectory().ok());
  ASSERT_TRUE((*e)->BeginFile("f", Meta(0100644), 3).ok());
  EXPECT_FALSE((*e)->AddSpecial("p", Meta(010644)).ok());  // file still open
  EXPECT_FALSE((*e)->EndFile().ok());                      // short content
  EXPECT_FALSE((*e)->Finish().ok());                       // the encoder has failed

  auto s = Encoder::Create(&archive, &payload, Meta(040755));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->AddPayloadRef("a", Meta(0100644), 10, 100).ok());
  EXPECT_FALSE((*s)->AddPayloadRef("b", Meta(0100644), 10, 100).ok());  // not increasing
}

}  // namespace
}  // namespace cairn::pxar
