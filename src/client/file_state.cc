#include "client/file_state.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.h"
#include "base/file_util.h"
#include "base/hex.h"

namespace cairn {
namespace {

constexpr std::string_view kMagic = "CAIRNFS1";
constexpr size_t kHeaderSize = 8 + 32 + 8;
constexpr size_t kEntrySize = 16 + 8 + 8 + 4;
constexpr size_t kTrailerSize = 32;

FileStateKey KeyOf(std::string_view path) {
  Digest d = Sha256Of(AsBytes(path));
  FileStateKey key;
  std::copy_n(d.begin(), key.size(), key.begin());
  return key;
}

}  // namespace

Result<std::optional<FileStateTable>> FileStateTable::Load(const std::string& path,
                                                           const Digest& archive_csum) {
  Result<Bytes> read = ReadFile(path);
  if (!read.ok()) {
    if (read.status().IsNotFound()) return std::optional<FileStateTable>();
    return read.status();
  }
  const Bytes& data = *read;
  auto corrupt = [&path](std::string_view why) {
    return Status::Corruption(fmt::format("file state {}: {}", path, why));
  };
  if (data.size() < kHeaderSize + kTrailerSize ||
      std::memcmp(data.data(), kMagic.data(), kMagic.size()) != 0) {
    return corrupt("not a Cairn file state");
  }
  const size_t body = data.size() - kTrailerSize;
  const Digest sum = Sha256Of(ByteView(data).first(body));
  if (!std::equal(sum.begin(), sum.end(), data.begin() + static_cast<ptrdiff_t>(body))) {
    return corrupt("checksum mismatch");
  }
  if (!std::equal(archive_csum.begin(), archive_csum.end(), data.begin() + 8)) {
    return std::optional<FileStateTable>();  // describes another archive
  }
  const uint64_t count = GetLE64(data.data() + 40);
  if (count != (body - kHeaderSize) / kEntrySize || (body - kHeaderSize) % kEntrySize != 0) {
    return corrupt("entry count does not match the size");
  }
  FileStateTable table;
  table.entries_.resize(count);
  const uint8_t* p = data.data() + kHeaderSize;
  for (Entry& e : table.entries_) {
    std::copy_n(p, e.key.size(), e.key.begin());
    e.identity.inode = GetLE64(p + 16);
    e.identity.ctime_sec = static_cast<int64_t>(GetLE64(p + 24));
    e.identity.ctime_nsec = GetLE32(p + 32);
    p += kEntrySize;
  }
  auto by_key = [](const Entry& a, const Entry& b) { return a.key < b.key; };
  if (!std::is_sorted(table.entries_.begin(), table.entries_.end(), by_key)) {
    return corrupt("entries out of order");
  }
  return std::optional<FileStateTable>(std::move(table));
}

std::optional<FileIdentity> FileStateTable::Find(std::string_view path) const {
  const FileStateKey key = KeyOf(path);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, const FileStateKey& k) { return e.key < k; });
  if (it == entries_.end() || it->key != key) return std::nullopt;
  return it->identity;
}

namespace {

constexpr int64_t kNanos = 1'000'000'000;
constexpr int64_t kFineRacyWindowNanos = 100'000'000;  // 100 ms
constexpr int64_t kCoarseRacyWindowSeconds = 2;

// Only the ctime fields are set.
FileIdentity CtimeBefore(const struct timespec& t, int64_t nanos) {
  int64_t sec = t.tv_sec - nanos / kNanos;
  int64_t nsec = t.tv_nsec - nanos % kNanos;
  if (nsec < 0) {
    nsec += kNanos;
    --sec;
  }
  return FileIdentity{0, sec, static_cast<uint32_t>(nsec)};
}

bool CtimeAtOrAfter(const FileIdentity& a, const FileIdentity& b) {
  return a.ctime_sec != b.ctime_sec ? a.ctime_sec > b.ctime_sec : a.ctime_nsec >= b.ctime_nsec;
}

}  // namespace

FileStateRecorder::FileStateRecorder(const struct timespec& backup_start)
    : racy_from_fine_(CtimeBefore(backup_start, kFineRacyWindowNanos)),
      racy_from_coarse_(CtimeBefore(backup_start, kCoarseRacyWindowSeconds * kNanos)) {}

void FileStateRecorder::Add(std::string_view path, const FileIdentity& identity) {
  const FileIdentity& racy_from = identity.ctime_nsec == 0 ? racy_from_coarse_ : racy_from_fine_;
  if (CtimeAtOrAfter(identity, racy_from)) {
    ++racy_files_;
    return;
  }
  table_.entries_.push_back({KeyOf(path), identity});
}

Status FileStateRecorder::Save(const std::string& path, const Digest& archive_csum) {
  auto& entries = table_.entries_;
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  Bytes out(kHeaderSize + entries.size() * kEntrySize + kTrailerSize);
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  std::copy(archive_csum.begin(), archive_csum.end(), out.begin() + 8);
  PutLE64(out.data() + 40, entries.size());
  uint8_t* p = out.data() + kHeaderSize;
  for (const auto& e : entries) {
    std::copy(e.key.begin(), e.key.end(), p);
    PutLE64(p + 16, e.identity.inode);
    PutLE64(p + 24, static_cast<uint64_t>(e.identity.ctime_sec));
    PutLE32(p + 32, e.identity.ctime_nsec);
    p += kEntrySize;
  }
  const size_t body = out.size() - kTrailerSize;
  Digest sum = Sha256Of(ByteView(out).first(body));
  std::copy(sum.begin(), sum.end(), out.begin() + static_cast<ptrdiff_t>(body));
  const std::string dir = path.substr(0, path.rfind('/'));
  CAIRN_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return WriteFileAtomic(path, out, 0600);
}

std::string FileStatePath(const std::string& dir, std::string_view ns, std::string_view group,
                          std::string_view stem) {
  Sha256 h;
  for (std::string_view part : {ns, group, stem}) {
    h.Update(AsBytes(part));
    h.Update(AsBytes(std::string_view("\0", 1)));
  }
  return fmt::format("{}/{}.fstate", dir, DigestToHex(h.Finish()).substr(0, 32));
}

}  // namespace cairn
