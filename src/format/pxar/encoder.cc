#include "format/pxar/encoder.h"

#include <algorithm>

#include "fmt/format.h"

namespace cairn::pxar {
namespace {

constexpr size_t kFlushThreshold = 256 << 10;  // archive bytes buffered before a sink write

void AppendU64(Bytes& out, uint64_t v) {
  uint8_t b[8];
  PutLE64(b, v);
  out.insert(out.end(), b, b + 8);
}

void AppendItem(Bytes& out, uint64_t type, ByteView content) {
  AppendHeader(out, type, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

// A NUL-terminated string item (FILENAME, SYMLINK).
void AppendStringItem(Bytes& out, uint64_t type, std::string_view s) {
  AppendHeader(out, type, s.size() + 1);
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

void AppendAclEntries(Bytes& out, uint64_t type, std::vector<AclEntry> entries) {
  std::sort(entries.begin(), entries.end());
  for (const AclEntry& e : entries) {
    AppendHeader(out, type, 16);
    AppendU64(out, e.id);
    AppendU64(out, e.permissions);
  }
}

Status ValidateXattr(const Xattr& x) {
  if (x.name.empty() || x.name.size() > kMaxXattrNameSize ||
      x.name.find('\0') != std::string::npos) {
    return Status::InvalidArgument(fmt::format("invalid xattr name '{}'", x.name));
  }
  if (x.value.size() > kMaxXattrValueSize) {
    return Status::InvalidArgument(fmt::format("xattr '{}' value of {} bytes (at most {})", x.name,
                                               x.value.size(), kMaxXattrValueSize));
  }
  return Status::OK();
}

}  // namespace

Status AppendMetadata(Bytes& out, const Metadata& m) {
  if (m.stat.mtime_nanos >= 1'000'000'000) {
    return Status::InvalidArgument(
        fmt::format("mtime nanoseconds {} out of range", m.stat.mtime_nanos));
  }
  for (const Xattr& x : m.xattrs) CAIRN_RETURN_IF_ERROR(ValidateXattr(x));
  if (m.fcaps && m.fcaps->size() > kMaxXattrNameSize + kMaxXattrValueSize) {
    return Status::InvalidArgument(fmt::format("fcaps of {} bytes", m.fcaps->size()));
  }
  uint8_t entry[kEntrySize] = {};
  PutLE64(entry, m.stat.mode);
  PutLE64(entry + 8, m.stat.flags);
  PutLE32(entry + 16, m.stat.uid);
  PutLE32(entry + 20, m.stat.gid);
  PutLE64(entry + 24, static_cast<uint64_t>(m.stat.mtime_secs));
  PutLE32(entry + 32, m.stat.mtime_nanos);
  AppendItem(out, kEntry, ByteView(entry, kEntrySize));
  for (const Xattr& x : m.xattrs) {
    AppendHeader(out, kXattr, x.name.size() + 1 + x.value.size());
    out.insert(out.end(), x.name.begin(), x.name.end());
    out.push_back(0);
    out.insert(out.end(), x.value.begin(), x.value.end());
  }
  AppendAclEntries(out, kAclUser, m.acl.users);
  AppendAclEntries(out, kAclGroup, m.acl.groups);
  if (m.acl.group_obj) {
    AppendHeader(out, kAclGroupObj, 8);
    AppendU64(out, *m.acl.group_obj);
  }
  if (m.acl.default_base) {
    AppendHeader(out, kAclDefault, 32);
    AppendU64(out, m.acl.default_base->user_obj);
    AppendU64(out, m.acl.default_base->group_obj);
    AppendU64(out, m.acl.default_base->other);
    AppendU64(out, m.acl.default_base->mask);
  }
  AppendAclEntries(out, kAclDefaultUser, m.acl.default_users);
  AppendAclEntries(out, kAclDefaultGroup, m.acl.default_groups);
  if (m.fcaps) AppendItem(out, kFcaps, *m.fcaps);
  if (m.quota_project_id) {
    AppendHeader(out, kQuotaProjectId, 8);
    AppendU64(out, *m.quota_project_id);
  }
  return Status::OK();
}

Result<std::unique_ptr<Encoder>> Encoder::Create(ByteSink* archive, ByteSink* payload,
                                                 const Metadata& root,
                                                 const std::optional<Bytes>& prelude) {
  if (!root.is_directory()) {
    return Status::InvalidArgument("the root of a pxar archive must be a directory");
  }
  if (prelude && !payload) {
    return Status::InvalidArgument("a prelude needs a split (v2) archive");
  }
  std::unique_ptr<Encoder> encoder(new Encoder(archive, payload));
  Bytes head;
  if (payload) {
    Bytes marker;
    AppendHeader(marker, kPayloadStartMarker, 0);
    CAIRN_RETURN_IF_ERROR(encoder->WritePayload(marker));
    AppendHeader(head, kFormatVersion, 8);
    AppendU64(head, 2);
    if (prelude) AppendItem(head, kPrelude, *prelude);
  }
  CAIRN_RETURN_IF_ERROR(AppendMetadata(head, root));
  encoder->Buffer(head);
  // The root frame's entry offset is 0 even in v2, where FORMAT_VERSION sits there: PBS's
  // encoder does the same, so the root's GOODBYE tail points back to offset 0.
  encoder->frames_.push_back(Frame{});
  return encoder;
}

Status Encoder::Fail(Status status) {
  if (failed_.ok()) failed_ = status;
  return status;
}

Status Encoder::CheckReady(std::string_view what) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::InvalidArgument(fmt::format("{} after Finish", what));
  if (file_) {
    return Status::InvalidArgument(fmt::format("{} while a file's content is incomplete", what));
  }
  return Status::OK();
}

void Encoder::Buffer(ByteView bytes) {
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  pos_ += bytes.size();
}

Status Encoder::FlushArchive() {
  if (buffer_.empty()) return Status::OK();
  Status s = archive_->Write(buffer_);
  buffer_.clear();
  if (!s.ok()) return Fail(s);
  return Status::OK();
}

Status Encoder::WritePayload(ByteView bytes) {
  Status s = payload_->Write(bytes);
  if (!s.ok()) return Fail(s);
  payload_pos_ += bytes.size();
  return Status::OK();
}

Result<uint64_t> Encoder::StartEntry(std::string_view name, const Metadata& metadata) {
  CAIRN_RETURN_IF_ERROR(ValidateName(name));
  Bytes items;
  AppendStringItem(items, kFilename, name);
  CAIRN_RETURN_IF_ERROR(AppendMetadata(items, metadata));
  uint64_t filename_offset = pos_;
  Buffer(items);
  return filename_offset;
}

void Encoder::AddChild(uint64_t hash, uint64_t filename_offset, uint64_t size) {
  frames_.back().children.push_back(GoodbyeItem{hash, filename_offset, size});
}

Result<LinkOffset> Encoder::BeginFile(std::string_view name, const Metadata& metadata,
                                      uint64_t size) {
  CAIRN_RETURN_IF_ERROR(CheckReady("BeginFile"));
  if (!metadata.is_regular()) {
    return Status::InvalidArgument(fmt::format("BeginFile '{}': not a regular file's mode", name));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t filename_offset, StartEntry(name, metadata));
  Bytes header;
  AppendHeader(header, kPayload, size);
  if (split()) {
    Bytes ref;
    AppendHeader(ref, kPayloadRef, 16);
    AppendU64(ref, payload_pos_);
    AppendU64(ref, size);
    last_payload_ref_ = payload_pos_;
    Buffer(ref);
    CAIRN_RETURN_IF_ERROR(WritePayload(header));
  } else {
    Buffer(header);
  }
  file_ = OpenFile{filename_offset, HashName(name), size, 0};
  return LinkOffset{filename_offset};
}

Status Encoder::WriteFileData(ByteView data) {
  if (!failed_.ok()) return failed_;
  if (!file_) return Status::InvalidArgument("WriteFileData without BeginFile");
  if (data.size() > file_->size - file_->written) {
    return Fail(Status::InvalidArgument(
        fmt::format("file content longer than the {} bytes announced", file_->size)));
  }
  file_->written += data.size();
  if (split()) return WritePayload(data);
  if (data.size() < kFlushThreshold) {
    Buffer(data);
    return buffer_.size() >= kFlushThreshold ? FlushArchive() : Status::OK();
  }
  CAIRN_RETURN_IF_ERROR(FlushArchive());
  Status s = archive_->Write(data);
  if (!s.ok()) return Fail(s);
  pos_ += data.size();
  return Status::OK();
}

Status Encoder::EndFile() {
  if (!failed_.ok()) return failed_;
  if (!file_) return Status::InvalidArgument("EndFile without BeginFile");
  if (file_->written != file_->size) {
    return Fail(Status::InvalidArgument(
        fmt::format("file content of {} bytes, {} announced", file_->written, file_->size)));
  }
  // Split mode counts the payload in the GOODBYE size although it is in the other stream: the
  // reference encoder does, and its archives are what readers expect (every file entry of
  // tests/testdata/pxar/backup-client-pxar-data.mpxar shows it).
  uint64_t size = pos_ - file_->filename_offset + (split() ? file_->size : 0);
  AddChild(file_->hash, file_->filename_offset, size);
  file_.reset();
  return buffer_.size() >= kFlushThreshold ? FlushArchive() : Status::OK();
}

Result<LinkOffset> Encoder::AddFile(std::string_view name, const Metadata& metadata,
                                    ByteView content) {
  CAIRN_ASSIGN_OR_RETURN(LinkOffset link, BeginFile(name, metadata, content.size()));
  CAIRN_RETURN_IF_ERROR(WriteFileData(content));
  CAIRN_RETURN_IF_ERROR(EndFile());
  return link;
}

Result<LinkOffset> Encoder::AddPayloadRef(std::string_view name, const Metadata& metadata,
                                          uint64_t size, uint64_t payload_offset) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AddPayloadRef"));
  if (!split()) return Status::InvalidArgument("AddPayloadRef needs a split (v2) archive");
  if (!metadata.is_regular()) {
    return Status::InvalidArgument(
        fmt::format("AddPayloadRef '{}': not a regular file's mode", name));
  }
  if (payload_offset < payload_pos_ ||
      (last_payload_ref_ && payload_offset <= *last_payload_ref_)) {
    return Status::InvalidArgument(
        fmt::format("payload reference for '{}' at {} goes backwards (payload position {})", name,
                    payload_offset, payload_pos_));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t filename_offset, StartEntry(name, metadata));
  Bytes ref;
  AppendHeader(ref, kPayloadRef, 16);
  AppendU64(ref, payload_offset);
  AppendU64(ref, size);
  Buffer(ref);
  last_payload_ref_ = payload_offset;
  AddChild(HashName(name), filename_offset, pos_ - filename_offset);
  return LinkOffset{filename_offset};
}

Status Encoder::AdvancePayload(uint64_t bytes) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AdvancePayload"));
  if (!split()) return Status::InvalidArgument("AdvancePayload needs a split (v2) archive");
  payload_pos_ += bytes;
  return Status::OK();
}

Status Encoder::AddSymlink(std::string_view name, const Metadata& metadata,
                           std::string_view target) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AddSymlink"));
  if (!metadata.is_symlink()) {
    return Status::InvalidArgument(fmt::format("AddSymlink '{}': not a symlink's mode", name));
  }
  if (target.empty() || target.size() > kMaxNameSize || target.find('\0') != target.npos) {
    return Status::InvalidArgument(fmt::format("symlink '{}': invalid target", name));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t filename_offset, StartEntry(name, metadata));
  Bytes item;
  AppendStringItem(item, kSymlink, target);
  Buffer(item);
  AddChild(HashName(name), filename_offset, pos_ - filename_offset);
  return Status::OK();
}

Status Encoder::AddDevice(std::string_view name, const Metadata& metadata, uint64_t major,
                          uint64_t minor) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AddDevice"));
  if (!metadata.is_device()) {
    return Status::InvalidArgument(fmt::format("AddDevice '{}': not a device's mode", name));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t filename_offset, StartEntry(name, metadata));
  Bytes item;
  AppendHeader(item, kDevice, 16);
  AppendU64(item, major);
  AppendU64(item, minor);
  Buffer(item);
  AddChild(HashName(name), filename_offset, pos_ - filename_offset);
  return Status::OK();
}

Status Encoder::AddSpecial(std::string_view name, const Metadata& metadata) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AddSpecial"));
  if (!metadata.is_fifo_or_socket()) {
    return Status::InvalidArgument(
        fmt::format("AddSpecial '{}': not a FIFO's or socket's mode", name));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t filename_offset, StartEntry(name, metadata));
  AddChild(HashName(name), filename_offset, pos_ - filename_offset);
  return Status::OK();
}

Status Encoder::AddHardlink(std::string_view name, std::string_view target_path,
                            LinkOffset target) {
  CAIRN_RETURN_IF_ERROR(CheckReady("AddHardlink"));
  CAIRN_RETURN_IF_ERROR(ValidateName(name));
  if (Status s = ValidateRelativePath(target_path); !s.ok()) {
    return Status::InvalidArgument(fmt::format("hard link '{}': {}", name, s.message()));
  }
  uint64_t filename_offset = pos_;
  if (target.value >= filename_offset) {
    return Status::InvalidArgument(
        fmt::format("hard link '{}' to '{}': the target must come earlier", name, target_path));
  }
  Bytes items;
  AppendStringItem(items, kFilename, name);
  AppendHeader(items, kHardlink, 8 + target_path.size() + 1);
  AppendU64(items, filename_offset - target.value);
  items.insert(items.end(), target_path.begin(), target_path.end());
  items.push_back(0);
  Buffer(items);
  AddChild(HashName(name), filename_offset, pos_ - filename_offset);
  return Status::OK();
}

Status Encoder::OpenDirectory(std::string_view name, const Metadata& metadata) {
  CAIRN_RETURN_IF_ERROR(CheckReady("OpenDirectory"));
  if (!metadata.is_directory()) {
    return Status::InvalidArgument(fmt::format("OpenDirectory '{}': not a directory's mode", name));
  }
  CAIRN_RETURN_IF_ERROR(ValidateName(name));
  Frame frame;
  frame.filename_offset = pos_;
  frame.name_hash = HashName(name);
  Bytes filename;
  AppendStringItem(filename, kFilename, name);
  Buffer(filename);
  frame.entry_offset = pos_;
  Bytes meta;
  CAIRN_RETURN_IF_ERROR(AppendMetadata(meta, metadata));
  Buffer(meta);
  frames_.push_back(std::move(frame));
  return Status::OK();
}

Status Encoder::CloseDirectory() {
  CAIRN_RETURN_IF_ERROR(CheckReady("CloseDirectory"));
  if (frames_.size() < 2) {
    return Status::InvalidArgument("CloseDirectory without an open directory (use Finish)");
  }
  Frame frame = std::move(frames_.back());
  frames_.pop_back();
  Bytes goodbye;
  AppendGoodbye(goodbye, std::move(frame.children), pos_, frame.entry_offset);
  Buffer(goodbye);
  AddChild(frame.name_hash, frame.filename_offset, pos_ - frame.filename_offset);
  return buffer_.size() >= kFlushThreshold ? FlushArchive() : Status::OK();
}

Status Encoder::Finish() {
  CAIRN_RETURN_IF_ERROR(CheckReady("Finish"));
  if (frames_.size() != 1) {
    return Status::InvalidArgument(
        fmt::format("Finish with {} directories still open", frames_.size() - 1));
  }
  Bytes goodbye;
  AppendGoodbye(goodbye, std::move(frames_.back().children), pos_, 0);
  frames_.clear();
  Buffer(goodbye);
  CAIRN_RETURN_IF_ERROR(FlushArchive());
  if (split()) {
    Bytes marker;
    AppendHeader(marker, kPayloadTailMarker, 0);
    CAIRN_RETURN_IF_ERROR(WritePayload(marker));
  }
  finished_ = true;
  return Status::OK();
}

}  // namespace cairn::pxar
