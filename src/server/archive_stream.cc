#include "server/archive_stream.h"

#include <archive.h>
#include <archive_entry.h>

#include <fmt/format.h>

namespace cairn::server {
namespace {

la_ssize_t WriteToSink(struct archive*, void* client, const void* buffer, size_t length) {
  auto* binding = static_cast<ArchiveStream::Binding*>(client);
  if (binding->abandoned) return -1;
  Status status = binding->sink->Write(ByteView(static_cast<const uint8_t*>(buffer), length));
  if (!status.ok()) {
    binding->error = status;
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

// Counts what a file's content writer writes and passes it to the archive.
class EntrySink final : public ByteSink {
 public:
  EntrySink(struct archive* archive, uint64_t size) : archive_(archive), left_(size) {}
  Status Write(ByteView data) override {
    if (data.size() > left_) return Status::InvalidArgument("file longer than its catalog size");
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(archive_, data.data(), data.size());
      if (n <= 0) return Status::IOError("archive write failed");
      data = data.subspan(static_cast<size_t>(n));
      left_ -= static_cast<uint64_t>(n);
    }
    return Status::OK();
  }
  uint64_t left() const { return left_; }

 private:
  struct archive* archive_;
  uint64_t left_;
};

}  // namespace

Result<std::unique_ptr<ArchiveStream>> ArchiveStream::Open(Format format, ByteSink& out) {
  std::unique_ptr<ArchiveStream> stream(new ArchiveStream());
  struct archive* a = stream->archive_;
  if (format == Format::kZip) {
    CAIRN_RETURN_IF_ERROR(stream->Check(archive_write_set_format_zip(a), "zip format"));
  } else {
    CAIRN_RETURN_IF_ERROR(stream->Check(archive_write_set_format_pax_restricted(a), "tar format"));
    CAIRN_RETURN_IF_ERROR(stream->Check(archive_write_add_filter_zstd(a), "zstd filter"));
  }
  // Pieces of 64 KiB to the sink (each is one write to the connection); the last one is not
  // padded.
  archive_write_set_bytes_per_block(a, 64 << 10);
  archive_write_set_bytes_in_last_block(a, 1);
  stream->binding_ = std::make_unique<Binding>();
  stream->binding_->sink = &out;
  CAIRN_RETURN_IF_ERROR(stream->Check(
      archive_write_open2(a, stream->binding_.get(), nullptr, WriteToSink, nullptr, nullptr),
      "open"));
  return stream;
}

ArchiveStream::ArchiveStream() : archive_(archive_write_new()) {}

ArchiveStream::~ArchiveStream() {
  // Freeing closes the archive: it finishes the open entry (tar pads it with zeros) and writes
  // the end. After a failure none of that may reach the sink, or a failed download would look
  // whole. (archive_write_fail would skip the close, but then libarchive leaks its buffers and
  // the zip writer's deflate state.)
  if (!finished_ && binding_) binding_->abandoned = true;
  archive_write_free(archive_);
}

Status ArchiveStream::Check(int result, const std::string& what) {
  if (result == ARCHIVE_OK || result == ARCHIVE_WARN) return Status::OK();
  if (binding_ && !binding_->error.ok()) return binding_->error;
  const char* message = archive_error_string(archive_);
  return Status::InvalidArgument(
      fmt::format("archive {}: {}", what, message ? message : "libarchive failed"));
}

Status ArchiveStream::AddEntry(const std::string& path, unsigned type, unsigned perm, int64_t mtime,
                               uint64_t size, const std::string& symlink) {
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname_utf8(entry, path.c_str());
  archive_entry_set_filetype(entry, type);
  archive_entry_set_perm(entry, perm);
  archive_entry_set_mtime(entry, static_cast<time_t>(mtime), 0);
  archive_entry_set_size(entry, static_cast<la_int64_t>(size));
  if (!symlink.empty()) archive_entry_set_symlink_utf8(entry, symlink.c_str());
  int result = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  return Check(result, "entry " + path);
}

Status ArchiveStream::AddDirectory(const std::string& path, int64_t mtime) {
  return AddEntry(path + "/", AE_IFDIR, 0755, mtime, 0, "");
}

Status ArchiveStream::AddSymlink(const std::string& path, const std::string& target,
                                 int64_t mtime) {
  return AddEntry(path, AE_IFLNK, 0777, mtime, 0, target);
}

Status ArchiveStream::AddFile(const std::string& path, uint64_t size, int64_t mtime,
                              const std::function<Status(ByteSink&)>& write_content) {
  CAIRN_RETURN_IF_ERROR(AddEntry(path, AE_IFREG, 0644, mtime, size, ""));
  EntrySink entry(archive_, size);
  Status written = write_content(entry);
  if (!written.ok()) return binding_->error.ok() ? written : binding_->error;
  if (entry.left() != 0) {
    return Status::InvalidArgument(
        fmt::format("{}: {} bytes short of its size", path, entry.left()));
  }
  return Check(archive_write_finish_entry(archive_), "entry " + path);
}

Status ArchiveStream::Finish() {
  if (finished_) return Status::OK();
  CAIRN_RETURN_IF_ERROR(Check(archive_write_close(archive_), "end"));
  finished_ = true;
  return Status::OK();
}

}  // namespace cairn::server
