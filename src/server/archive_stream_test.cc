#include "server/archive_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>

#include <map>

namespace cairn::server {
namespace {

// What libarchive reads back from `data`: path -> content ("<dir>" for directories, "-> t"
// for symlinks).
std::map<std::string, std::string> ReadBack(const Bytes& data) {
  std::map<std::string, std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_all(a);
  archive_read_support_filter_all(a);
  EXPECT_EQ(archive_read_open_memory(a, data.data(), data.size()), ARCHIVE_OK)
      << archive_error_string(a);
  struct archive_entry* entry;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    std::string path = archive_entry_pathname(entry);
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      out[path] = "<dir>";
    } else if (archive_entry_filetype(entry) == AE_IFLNK) {
      out[path] = std::string("-> ") + archive_entry_symlink(entry);
    } else {
      std::string content;
      char buffer[4096];
      la_ssize_t n;
      while ((n = archive_read_data(a, buffer, sizeof(buffer))) > 0) content.append(buffer, n);
      out[path] = content;
    }
  }
  archive_read_free(a);
  return out;
}

// Does `data` end as a finished archive does? A zip with its end of central directory, a
// zstd stream whose frame is complete. (libarchive's reader takes a cut-off tar for a whole
// one; tar and unzip do not.)
bool Complete(ArchiveStream::Format format, const Bytes& data) {
  if (format == ArchiveStream::Format::kZip) {
    static constexpr uint8_t kEnd[] = {'P', 'K', 5, 6};
    return std::search(data.begin(), data.end(), std::begin(kEnd), std::end(kEnd)) != data.end();
  }
  size_t frame = ZSTD_findFrameCompressedSize(data.data(), data.size());
  return !ZSTD_isError(frame) && frame == data.size();
}

Status WriteSample(ArchiveStream& stream) {
  CAIRN_RETURN_IF_ERROR(stream.AddDirectory("docs", 1'790'000'000));
  std::string big(300'000, 'x');
  CAIRN_RETURN_IF_ERROR(stream.AddFile("docs/big.txt", big.size(), 1'790'000'000,
                                       [&](ByteSink& out) { return out.Write(AsBytes(big)); }));
  CAIRN_RETURN_IF_ERROR(
      stream.AddFile("docs/empty", 0, 1'790'000'000, [](ByteSink&) { return Status::OK(); }));
  CAIRN_RETURN_IF_ERROR(stream.AddSymlink("docs/link", "big.txt", 1'790'000'000));
  return stream.Finish();
}

TEST(ArchiveStreamTest, ZipAndTarZstdReadBackWhole) {
  for (auto format : {ArchiveStream::Format::kZip, ArchiveStream::Format::kTarZstd}) {
    BytesSink sink;
    auto stream = ArchiveStream::Open(format, sink);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    ASSERT_TRUE(WriteSample(**stream).ok());
    EXPECT_TRUE(Complete(format, sink.bytes()));
    auto entries = ReadBack(sink.bytes());
    EXPECT_EQ(entries["docs/"], "<dir>");
    EXPECT_EQ(entries["docs/big.txt"], std::string(300'000, 'x'));
    EXPECT_EQ(entries["docs/empty"], "");
    EXPECT_EQ(entries["docs/link"], "-> big.txt");
    if (format == ArchiveStream::Format::kTarZstd) {
      // zstd's magic number: the tar is compressed.
      ASSERT_GE(sink.bytes().size(), 4u);
      EXPECT_EQ(sink.bytes()[0], 0x28);
      EXPECT_EQ(sink.bytes()[1], 0xb5);
    }
  }
}

TEST(ArchiveStreamTest, AFileThatIsNotItsAnnouncedSizeIsAnError) {
  BytesSink sink;
  auto stream = ArchiveStream::Open(ArchiveStream::Format::kZip, sink);
  ASSERT_TRUE(stream.ok());
  Status short_file = (*stream)->AddFile(
      "short", 10, 0, [](ByteSink& out) { return out.Write(AsBytes(std::string_view("12345"))); });
  EXPECT_EQ(short_file.code(), Code::kInvalidArgument);
  EXPECT_NE(short_file.message().find("5 bytes short"), std::string::npos) << short_file.ToString();
  Status long_file = (*stream)->AddFile(
      "long", 2, 0, [](ByteSink& out) { return out.Write(AsBytes(std::string_view("12345"))); });
  EXPECT_FALSE(long_file.ok());
}

// Story: when a file's content failed half way (a missing chunk), destroying the stream let
// libarchive close the archive: the entry padded with zeros and the archive's end written, so
// the broken download read back as a whole archive with a damaged file in it.
TEST(ArchiveStreamTest, AStreamThatFailsHalfWayLeavesNoWholeArchive) {
  for (auto format : {ArchiveStream::Format::kZip, ArchiveStream::Format::kTarZstd}) {
    BytesSink sink;
    {
      auto stream = ArchiveStream::Open(format, sink);
      ASSERT_TRUE(stream.ok());
      std::string half(100'000, 'y');
      Status failed = (*stream)->AddFile("big", 200'000, 0, [&](ByteSink& out) {
        CAIRN_RETURN_IF_ERROR(out.Write(AsBytes(half)));
        return Status::Corruption("chunk 1234 is missing");
      });
      EXPECT_EQ(failed.code(), Code::kCorruption);
    }  // destroyed without Finish
    EXPECT_FALSE(Complete(format, sink.bytes())) << "format " << int(format);
  }
}

// A client that goes away: the sink fails, and so does the stream, with the sink's error.
TEST(ArchiveStreamTest, TheSinksErrorEndsTheStream) {
  class FailingSink final : public ByteSink {
   public:
    Status Write(ByteView) override { return Status::Unavailable("the client went away"); }
  } sink;
  auto stream = ArchiveStream::Open(ArchiveStream::Format::kTarZstd, sink);
  ASSERT_TRUE(stream.ok());
  Status status = WriteSample(**stream);
  EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
}

}  // namespace
}  // namespace cairn::server
