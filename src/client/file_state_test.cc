#include "client/file_state.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

constexpr int64_t kStart = 2000000000;
// Half a second into kStart.
constexpr struct timespec kStartTime = {kStart, 500'000'000};

Digest Id(uint8_t fill) {
  Digest d;
  d.fill(fill);
  return d;
}

class FileStateTest : public ::testing::Test {
 protected:
  // Records `count` files "dir/fN" with inode N and ctime N seconds (+N ns), saved for `id`.
  void SaveFiles(int count, const Digest& id) {
    FileStateRecorder recorder(kStartTime);
    for (int i = count - 1; i >= 0; --i) {  // unsorted on purpose
      recorder.Add("dir/f" + std::to_string(i),
                   {static_cast<uint64_t>(i), 1000 + i, static_cast<uint32_t>(i)});
    }
    ASSERT_TRUE(recorder.Save(path_, id).ok());
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.Sub("state/sub/x.fstate");
};

TEST_F(FileStateTest, RoundTripFindsEveryRecordedFile) {
  SaveFiles(1000, Id(1));
  auto loaded = FileStateTable::Load(path_, Id(1));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->has_value());
  const FileStateTable& table = **loaded;
  EXPECT_EQ(table.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    std::optional<FileIdentity> found = table.Find("dir/f" + std::to_string(i));
    ASSERT_TRUE(found.has_value()) << i;
    EXPECT_EQ(*found, (FileIdentity{static_cast<uint64_t>(i), 1000 + i, static_cast<uint32_t>(i)}));
  }
  EXPECT_FALSE(table.Find("dir/f1000").has_value());
  EXPECT_FALSE(table.Find("").has_value());
}

TEST_F(FileStateTest, MissingFileOrAnotherArchiveIsNoState) {
  auto missing = FileStateTable::Load(path_, Id(1));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  SaveFiles(3, Id(1));
  auto other = FileStateTable::Load(path_, Id(2));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_F(FileStateTest, EveryDamageIsCorruptionNamingTheFile) {
  SaveFiles(20, Id(1));
  const Bytes good = *ReadFile(path_);
  for (size_t at = 0; at < good.size(); ++at) {
    Bytes bad = good;
    bad[at] ^= 0x10;
    ASSERT_TRUE(WriteFileAtomic(path_, bad).ok());
    auto loaded = FileStateTable::Load(path_, Id(1));
    ASSERT_FALSE(loaded.ok()) << "flipped byte " << at;
    EXPECT_EQ(loaded.status().code(), Code::kCorruption);
    EXPECT_NE(loaded.status().ToString().find(path_), std::string::npos);
  }
  for (size_t size : {size_t{0}, size_t{7}, size_t{60}, good.size() - 1}) {
    ASSERT_TRUE(WriteFileAtomic(path_, ByteView(good).first(size)).ok());
    auto loaded = FileStateTable::Load(path_, Id(1));
    EXPECT_EQ(loaded.status().code(), Code::kCorruption) << "truncated to " << size;
  }
}

TEST_F(FileStateTest, SavedWithPrivateModes) {
  SaveFiles(1, Id(1));
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.Sub("state/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// A file changed in the same timestamp tick after its fstat would keep the recorded ctime:
// files whose ctime is within 100 ms of the start (2 s for whole-second ctimes, which may come
// from a filesystem without sub-second timestamps) are left out, so they are read next time.
TEST_F(FileStateTest, RacyFilesAreNotRecorded) {
  FileStateRecorder recorder(kStartTime);  // kStart + 0.5 s
  const std::map<std::string, FileIdentity> recorded = {
      {"old", {1, kStart - 2, 999999999}},
      {"fine, 101 ms before", {2, kStart, 399'000'000}},
      {"fine, a second before", {3, kStart - 1, 500'000'000}},
      {"whole second, 2.5 s before", {4, kStart - 2, 0}},
  };
  const std::map<std::string, FileIdentity> racy = {
      {"fine, 100 ms before", {5, kStart, 400'000'000}},
      {"fine, 1 ns before", {6, kStart, 499'999'999}},
      {"whole second, 1.5 s before", {7, kStart - 1, 0}},
      {"whole second, before the start", {8, kStart, 0}},
      {"during", {9, kStart, 500'000'005}},
      {"future", {10, kStart + 100, 0}},
      {"fine, next second", {11, kStart + 1, 1}},
  };
  for (const auto& [path, identity] : recorded) recorder.Add(path, identity);
  for (const auto& [path, identity] : racy) recorder.Add(path, identity);
  EXPECT_EQ(recorder.racy_files(), racy.size());
  ASSERT_TRUE(recorder.Save(path_, Id(1)).ok());
  auto table = *FileStateTable::Load(path_, Id(1));
  ASSERT_TRUE(table.has_value());
  for (const auto& [path, identity] : recorded) EXPECT_EQ(table->Find(path), identity) << path;
  for (const auto& [path, identity] : racy) EXPECT_FALSE(table->Find(path).has_value()) << path;
}

TEST_F(FileStateTest, TheRacyWindowCrossesASecondBoundary) {
  FileStateRecorder recorder(timespec{kStart, 50'000'000});  // 100 ms back is kStart - 1 + 0.95
  recorder.Add("clear", {1, kStart - 1, 949'999'999});
  recorder.Add("racy", {2, kStart - 1, 950'000'000});
  EXPECT_EQ(recorder.racy_files(), 1u);
}

TEST(FileStatePathTest, OneFilePerNamespaceGroupAndArchive) {
  std::set<std::string> paths;
  for (const auto& [ns, group, stem] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"", "host/a", "root"},
                                                                      {"", "host/a", "etc"},
                                                                      {"", "host/b", "root"},
                                                                      {"x", "host/a", "root"},
                                                                      {"", "host/ax", "root"},
                                                                      {"h", "ost/a", "root"}}) {
    std::string p = FileStatePath("/c", ns, group, stem);
    EXPECT_TRUE(p.starts_with("/c/")) << p;
    EXPECT_TRUE(p.ends_with(".fstate")) << p;
    EXPECT_EQ(p.find('/', 3), std::string::npos) << p;  // no name part can make a subdirectory
    paths.insert(p);
  }
  EXPECT_EQ(paths.size(), 6u);
}

}  // namespace
}  // namespace cairn
