// File archives end to end: a tree with every entry type and metadata kind is backed up through a
// LocalRepository (filesystem and S3 datastores) and restored exactly, in both layouts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/file_util.h"
#include "client/backup.h"
#include "client/fs_metadata.h"
#include "client/local_repository.h"
#include "client/restore.h"
#include "format/dynamic_index.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

void SetTimes(const std::string& path, int64_t secs, long nanos) {
  struct timespec t[2] = {{secs, nanos}, {secs, nanos}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Everything the archive must carry about one file, as text: a mismatch shows the path.
std::string Describe(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  std::string d = fmt::format("mode={:o} uid={} gid={} mtime={}.{:09}", st.st_mode, st.st_uid,
                              st.st_gid, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    auto content = ReadFile(path);
    d += fmt::format(" size={} sha={} links={}", st.st_size,
                     content.ok() ? DigestToHex(Sha256Of(*content)).substr(0, 16) : "?",
                     st.st_nlink);
  }
  if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(path).string();
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    d += fmt::format(" dev={}:{}", major(st.st_rdev), minor(st.st_rdev));
  }
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
  std::vector<std::string> list;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
    list.emplace_back(names + i);
  }
  std::sort(list.begin(), list.end());
  for (const auto& x : list) {
    char value[4096];
    ssize_t v = ::lgetxattr(path.c_str(), x.c_str(), value, sizeof(value));
    d += fmt::format(
        " {}={}", x,
        v < 0 ? "?"
              : DigestToHex(Sha256Of(ByteView(reinterpret_cast<uint8_t*>(value), v))).substr(0, 8));
  }
  return d;
}

std::map<std::string, std::string> DescribeTree(const std::string& root) {
  std::map<std::string, std::string> out;
  out["."] = Describe(root);
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    out[fs::relative(it->path(), root).string()] = Describe(it->path().string());
  }
  return out;
}

// Access ACL blob: user::rwx, user:1234:r--, group::r-x, mask::r-x, other::---.
Bytes TestAcl() {
  pxar::Acl acl;
  acl.users = {{1234, 4}};
  return AccessAclXattr(acl, 0750);
}

class FileArchiveTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    store_ = testing::TestStore::Create(GetParam(), dir_.Sub("store"));
    ASSERT_NE(store_, nullptr);
    repo_ = NewLocalRepository(store_->store());
  }

  // A tree with every entry type and metadata kind the filesystem supports.
  void BuildTree(const std::string& root) {
    fs::create_directories(root + "/dir/sub");
    fs::create_directories(root + "/empty");
    testing::WriteTestFile(root + "/small.txt", AsBytes(std::string_view("hello\n")));
    testing::WriteTestFile(root + "/empty.bin", Bytes{});
    testing::WriteTestFile(root + "/dir/big.bin", testing::RandomBytes(3 << 20, 7));
    testing::WriteTestFile(root + "/dir/sub/zeros", Bytes(300000, 0));
    for (int i = 0; i < 50; ++i) {
      testing::WriteTestFile(fmt::format("{}/dir/f{:03}", root, i),
                             testing::RandomBytes(static_cast<size_t>(i * 997), i));
    }
    ASSERT_EQ(::link((root + "/small.txt").c_str(), (root + "/dir/hardlink").c_str()), 0);
    ASSERT_EQ(::symlink("../small.txt", (root + "/dir/link").c_str()), 0);
    ASSERT_EQ(::symlink("/nonexistent/target", (root + "/dangling").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0640), 0);
    if (::geteuid() == 0) {
      ASSERT_EQ(::mknod((root + "/dir/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
      ASSERT_EQ(::chown((root + "/dir/f001").c_str(), 1234, 5678), 0);
      ASSERT_EQ(::lchown((root + "/dir/link").c_str(), 42, 43), 0);
    }
    ::chmod((root + "/dir/f002").c_str(), 04755);
    ::chmod((root + "/dir/sub").c_str(), 0555);
    ::setxattr((root + "/small.txt").c_str(), "user.comment", "a note", 6, 0);
    ::setxattr((root + "/dir").c_str(), "user.dir", "d", 1, 0);
    Bytes acl = TestAcl();
    ::setxattr((root + "/dir/f003").c_str(), "system.posix_acl_access", acl.data(), acl.size(), 0);
    ::setxattr((root + "/dir").c_str(), "system.posix_acl_default", acl.data(), acl.size(), 0);
    SetTimes(root + "/small.txt", 1234567890, 123456789);
    SetTimes(root + "/dir/link", 1000000000, 5);
    SetTimes(root + "/dir/sub", -2, 500000000);  // before the epoch
    SetTimes(root + "/empty", 1700000000, 999999999);
  }

  Result<BackupSummary> Backup(const std::string& source, int64_t time,
                               ChangeDetection mode = ChangeDetection::kLegacy,
                               std::vector<std::string> excludes = {}) {
    BackupOptions opt;
    opt.group = *BackupGroup::Parse("host/files");
    opt.backup_time = time;
    opt.chunk_size = 64 << 10;
    opt.change_detection = mode;
    opt.file_state_dir = file_state_dir_;
    for (const auto& e : excludes) EXPECT_TRUE(opt.excludes.Add(e).ok());
    return RunBackup(*repo_, opt, {*ParseBackupSpec("root.pxar:" + source)});
  }

  Result<RestoreSummary> Restore(int64_t time, const std::string& target,
                                 const std::string& subtree = "") {
    RestoreOptions opt;
    opt.subtree = subtree;
    auto snap = *SnapshotRef::Make(*BackupGroup::Parse("host/files"), time);
    return RestoreArchive(*repo_, BackupNamespace(), snap, "root.pxar", target, opt);
  }

  testing::TempDir dir_;
  std::string file_state_dir_ = dir_.Sub("file-state");
  std::unique_ptr<testing::TestStore> store_;
  std::unique_ptr<Repository> repo_;
};

// Files changed less than a second before a backup are racy (file_state.h) and read again by
// the next one; tests that expect reuse let the tree age first.
void LetCtimesAge() {
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
}

// Rewrites `path` with other bytes of the same size and puts its mtime back: only the ctime
// tells (rsync -t, tar x and `touch -d` users do this).
void RewriteKeepingSizeAndMtime(const std::string& path) {
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  Bytes content = *ReadFile(path);
  for (auto& b : content) b = static_cast<uint8_t>(~b);
  testing::WriteTestFile(path, content);
  SetTimes(path, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

INSTANTIATE_TEST_SUITE_P(Backends, FileArchiveTest, testing::kAllStoreKinds,
                         testing::PrintStoreKind);

TEST_P(FileArchiveTest, EveryEntryAndMetadataKindRoundTripsInBothLayouts) {
  BuildTree(dir_.Sub("src"));
  const auto want = DescribeTree(dir_.Sub("src"));
  int64_t time = 1000;
  for (ChangeDetection mode : {ChangeDetection::kLegacy, ChangeDetection::kData}) {
    auto summary = Backup(dir_.Sub("src"), ++time, mode);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    ASSERT_TRUE(summary->archives[0].tree.has_value());
    EXPECT_EQ(summary->archives[0].tree->files, 54u);
    EXPECT_EQ(summary->archives[0].tree->hardlinks, 1u);
    EXPECT_EQ(summary->archives[0].filename,
              mode == ChangeDetection::kLegacy ? "root.pxar.didx" : "root.mpxar.didx");
    std::string out = dir_.Sub(fmt::format("out{}", time));
    auto restored = Restore(time, out);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(restored->files, 54u);
    auto got = DescribeTree(out);
    for (const auto& [path, desc] : want) EXPECT_EQ(got[path], desc) << path;
    EXPECT_EQ(got.size(), want.size());
  }
}

TEST_P(FileArchiveTest, ASecondBackupUploadsOnlyWhatChanged) {
  BuildTree(dir_.Sub("src"));
  auto first = Backup(dir_.Sub("src"), 2000, ChangeDetection::kData);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  testing::WriteTestFile(dir_.Sub("src/dir/f010"), testing::RandomBytes(5000, 99));
  auto second = Backup(dir_.Sub("src"), 2001, ChangeDetection::kData);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->incremental);
  const auto& c = second->archives[0].chunks;
  EXPECT_GT(c.known, 0u);
  // The 3 MiB random file and the others before the change keep their chunks.
  EXPECT_LT(c.uploaded_bytes, first->archives[0].chunks.uploaded_bytes / 2);
  auto restored = Restore(2001, dir_.Sub("out"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(*ReadFile(dir_.Sub("out/dir/f010")), testing::RandomBytes(5000, 99));
}

TEST_P(FileArchiveTest, ExcludesAndPxarexcludeFiles) {
  BuildTree(dir_.Sub("src"));
  testing::WriteTestFile(dir_.Sub("src/dir/.pxarexclude"),
                         AsBytes(std::string_view("f00*\n!f007\n")));
  auto summary = Backup(dir_.Sub("src"), 3000, ChangeDetection::kLegacy, {"*.bin", "/empty"});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_TRUE(Restore(3000, dir_.Sub("out")).ok());
  EXPECT_FALSE(fs::exists(dir_.Sub("out/empty.bin")));
  EXPECT_FALSE(fs::exists(dir_.Sub("out/dir/big.bin")));
  EXPECT_FALSE(fs::exists(dir_.Sub("out/empty")));
  EXPECT_FALSE(fs::exists(dir_.Sub("out/dir/f001")));
  EXPECT_TRUE(fs::exists(dir_.Sub("out/dir/f007")));
  EXPECT_TRUE(fs::exists(dir_.Sub("out/dir/f010")));
  EXPECT_TRUE(fs::exists(dir_.Sub("out/small.txt")));
}

TEST_P(FileArchiveTest, SubtreeAndSingleFileRestore) {
  BuildTree(dir_.Sub("src"));
  ASSERT_TRUE(Backup(dir_.Sub("src"), 4000, ChangeDetection::kData).ok());
  auto one = Restore(4000, dir_.Sub("one"), "dir/f005");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*ReadFile(dir_.Sub("one/f005")), testing::RandomBytes(5 * 997, 5));
  auto sub = Restore(4000, dir_.Sub("sub"), "dir/sub");
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(*ReadFile(dir_.Sub("sub/sub/zeros")), Bytes(300000, 0));
  EXPECT_EQ(Restore(4000, dir_.Sub("none"), "no/such").status().code(), Code::kNotFound);
}

// Metadata change detection: an unchanged tree of 10,000 files is backed up again without
// reading a single file, and every later state restores exactly.
TEST_P(FileArchiveTest, MetadataModeReadsOnlyChangedFiles) {
  const std::string src = dir_.Sub("many");
  for (int d = 0; d < 100; ++d) {
    fs::create_directories(fmt::format("{}/d{:02}", src, d));
    for (int f = 0; f < 100; ++f) {
      testing::WriteTestFile(fmt::format("{}/d{:02}/f{:02}", src, d, f),
                             testing::RandomBytes(static_cast<size_t>(100 + (d * 100 + f) % 3000),
                                                  static_cast<uint64_t>(d * 100 + f)));
    }
  }
  testing::WriteTestFile(src + "/large", testing::RandomBytes(6 << 20, 1));
  LetCtimesAge();
  auto first = Backup(src, 6000, ChangeDetection::kMetadata);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->archives[0].tree->files_read, 10001u);  // no previous snapshot

  auto unchanged = Backup(src, 6001, ChangeDetection::kMetadata);
  ASSERT_TRUE(unchanged.ok()) << unchanged.status().ToString();
  const CreateStats& t = *unchanged->archives[0].tree;
  EXPECT_EQ(t.files, 10001u);
  EXPECT_EQ(t.reused_files, 10001u);
  EXPECT_EQ(t.files_read, 0u);
  EXPECT_EQ(t.bytes_read, 0u);
  // Only metadata is new: the payload stream is the previous one's chunks.
  EXPECT_LT(unchanged->archives[0].chunks.new_bytes, 4u << 20);
  auto restored = Restore(6001, dir_.Sub("r1"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(DescribeTree(dir_.Sub("r1")), DescribeTree(src));

  // Change some files (content, size, metadata only), delete one, add one.
  testing::WriteTestFile(src + "/d10/f10", testing::RandomBytes(5000, 999));
  ::chmod((src + "/d20/f20").c_str(), 0600);
  SetTimes(src + "/d30/f30", 1, 1);
  fs::remove(src + "/d40/f40");
  testing::WriteTestFile(src + "/d50/new", testing::RandomBytes(777, 5));
  auto changed = Backup(src, 6002, ChangeDetection::kMetadata);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  const CreateStats& c = *changed->archives[0].tree;
  EXPECT_EQ(c.files, 10001u);
  EXPECT_EQ(c.files_read, 4u);  // the 3 changed files and the new one; their neighbours reused
  EXPECT_EQ(c.files_read + c.reused_files, 10001u);
  restored = Restore(6002, dir_.Sub("r2"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(DescribeTree(dir_.Sub("r2")), DescribeTree(src));

  // A third run on top of a stream that itself reused chunks.
  testing::WriteTestFile(src + "/d99/f99", testing::RandomBytes(10, 10));
  auto third = Backup(src, 6003, ChangeDetection::kMetadata);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  restored = Restore(6003, dir_.Sub("r3"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(DescribeTree(dir_.Sub("r3")), DescribeTree(src));
  // The earlier snapshots still restore as they were.
  restored = Restore(6001, dir_.Sub("r1b"));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(DescribeTree(dir_.Sub("r1b")), DescribeTree(dir_.Sub("r1")));
}

TEST_P(FileArchiveTest, MetadataModeAfterALegacyBackupReadsEverything) {
  BuildTree(dir_.Sub("src"));
  ASSERT_TRUE(Backup(dir_.Sub("src"), 7000, ChangeDetection::kLegacy).ok());
  auto next = Backup(dir_.Sub("src"), 7001, ChangeDetection::kMetadata);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->archives[0].tree->reused_files, 0u);
  EXPECT_EQ(next->archives[0].tree->files_read, 54u);
  ASSERT_TRUE(Restore(7001, dir_.Sub("out")).ok());
  EXPECT_EQ(DescribeTree(dir_.Sub("out")), DescribeTree(dir_.Sub("src")));
}

// Metadata mode also compares inode and ctime, kept in the client's file state: a file rewritten
// with its size and mtime kept is read again. Without that state (lost, damaged, or written
// for another snapshot) every file is read; racy files are read once more.
TEST_P(FileArchiveTest, MetadataModeChecksCtimeAndInodeThroughTheFileState) {
  if (GetParam() != testing::StoreKind::kFilesystem) GTEST_SKIP() << "client-side logic";
  const std::string src = dir_.Sub("tree");
  fs::create_directories(src);
  for (int i = 0; i < 200; ++i) {
    testing::WriteTestFile(fmt::format("{}/f{:03}", src, i), testing::RandomBytes(5000, i));
  }
  LetCtimesAge();
  auto reads = [&](int64_t time) -> uint64_t {
    auto r = Backup(src, time, ChangeDetection::kMetadata);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return ~uint64_t{0};
    EXPECT_EQ(r->archives[0].tree->files, 200u);
    EXPECT_TRUE(Restore(time, dir_.Sub(fmt::format("out{}", time))).ok());
    EXPECT_EQ(DescribeTree(dir_.Sub(fmt::format("out{}", time))), DescribeTree(src)) << time;
    return r->archives[0].tree->files_read;
  };
  EXPECT_EQ(reads(8000), 200u);
  EXPECT_EQ(reads(8001), 0u);

  // Same size and mtime, other bytes; and a file replaced by another inode through rename.
  RewriteKeepingSizeAndMtime(src + "/f050");
  struct stat st;
  ASSERT_EQ(::stat((src + "/f060").c_str(), &st), 0);
  testing::WriteTestFile(src + "/new", *ReadFile(src + "/f060"));
  ASSERT_EQ(::rename((src + "/new").c_str(), (src + "/f060").c_str()), 0);
  SetTimes(src + "/f060", st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  LetCtimesAge();
  EXPECT_EQ(reads(8002), 2u);
  EXPECT_EQ(reads(8003), 0u);

  // Lost state: everything is read, and the state is there again for the next run.
  ASSERT_TRUE(RemoveTree(file_state_dir_).ok());
  EXPECT_EQ(reads(8004), 200u);
  EXPECT_EQ(reads(8005), 0u);

  // Damaged state: a warning, everything is read.
  std::vector<std::string> states;
  for (const auto& e : fs::directory_iterator(file_state_dir_)) states.push_back(e.path());
  ASSERT_EQ(states.size(), 1u);
  Bytes damaged = *ReadFile(states[0]);
  damaged[damaged.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(states[0], damaged).ok());
  EXPECT_EQ(reads(8006), 200u);

  // A state written for another snapshot (the next backup did not record one): ignored.
  file_state_dir_.clear();
  EXPECT_EQ(reads(8007), 0u);  // the PBS rule alone: metadata and size match
  file_state_dir_ = dir_.Sub("file-state");
  EXPECT_EQ(reads(8008), 200u);

  // Racy: changed right before the backup, so read now and again next time.
  RewriteKeepingSizeAndMtime(src + "/f070");
  EXPECT_EQ(reads(8009), 1u);
  EXPECT_EQ(reads(8010), 1u);
}

TEST_P(FileArchiveTest, RestoreRefusesANonEmptyTarget) {
  BuildTree(dir_.Sub("src"));
  ASSERT_TRUE(Backup(dir_.Sub("src"), 5000).ok());
  fs::create_directories(dir_.Sub("busy"));
  testing::WriteTestFile(dir_.Sub("busy/keep"), AsBytes(std::string_view("mine")));
  auto r = Restore(5000, dir_.Sub("busy"));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(*ReadFile(dir_.Sub("busy/keep")), (Bytes{'m', 'i', 'n', 'e'}));
}

// Regression (issue 21): restoring a file archive onto an existing file said only "Not a
// directory".
TEST_P(FileArchiveTest, RestoreOntoAFileSaysWhatIsWrong) {
  if (GetParam() != testing::StoreKind::kFilesystem) GTEST_SKIP() << "backend-independent";
  BuildTree(dir_.Sub("src"));
  ASSERT_TRUE(Backup(dir_.Sub("src"), 5000).ok());
  testing::WriteTestFile(dir_.Sub("a-file"), AsBytes(std::string_view("mine")));
  auto r = Restore(5000, dir_.Sub("a-file"));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("is not a directory; a file archive is restored into"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(AsString(*ReadFile(dir_.Sub("a-file"))), "mine");
}

// Regression (issue 21, defect 3) for file archives: a payload chunk of the previous snapshot
// lost from the store failed every later backup of the group. A metadata-mode backup must not
// inject the lost chunk by digest (it holds no copy of it): the files in it are read again,
// which stores the chunk anew; the others are still reused.
TEST_P(FileArchiveTest, MetadataModeReadsAgainTheFilesOfALostChunk) {
  if (GetParam() != testing::StoreKind::kFilesystem) {
    GTEST_SKIP() << "on S3 the cache's markers vouch for the bucket (see ImageBackupTest)";
  }
  const std::string src = dir_.Sub("many");
  fs::create_directories(src);
  for (int f = 0; f < 400; ++f) {
    testing::WriteTestFile(
        fmt::format("{}/f{:03}", src, f),
        testing::RandomBytes(static_cast<size_t>(40000 + f * 53), static_cast<uint64_t>(f)));
  }
  LetCtimesAge();
  ASSERT_TRUE(Backup(src, 8000, ChangeDetection::kMetadata).ok());
  // Lose a payload chunk from the middle of the stream.
  auto reader = repo_->OpenSnapshot(BackupNamespace(),
                                    *SnapshotRef::Make(*BackupGroup::Parse("host/files"), 8000));
  ASSERT_TRUE(reader.ok());
  auto payload_index = DynamicIndex::Parse(*(*reader)->ReadArchive("root.ppxar.didx"), "ppxar");
  ASSERT_TRUE(payload_index.ok());
  ASSERT_GT(payload_index->entries().size(), 3u);
  const Digest lost = payload_index->digest(payload_index->entries().size() / 2);
  reader->reset();
  store_->DeleteStoredChunk(lost);

  auto second = Backup(src, 8001, ChangeDetection::kMetadata);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const ArchiveSummary& a = second->archives[0];
  EXPECT_GT(a.tree->files_read, 0u);
  EXPECT_GT(a.tree->reused_files, 0u) << "files outside the lost chunk are still reused";
  EXPECT_EQ(a.tree->files_read + a.tree->reused_files, 400u);
  EXPECT_EQ(a.chunks.restored, 1u);
  auto stored = store_->StoredChunks();
  EXPECT_TRUE(std::binary_search(stored.begin(), stored.end(), lost));
  for (int64_t time : {8000, 8001}) {
    const std::string out = dir_.Sub("r" + std::to_string(time));
    auto r = Restore(time, out);
    ASSERT_TRUE(r.ok()) << time << ": " << r.status().ToString();
    EXPECT_EQ(DescribeTree(out), DescribeTree(src)) << time;
  }
}

}  // namespace
}  // namespace cairn
