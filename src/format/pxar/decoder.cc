#include "format/pxar/decoder.h"

#include <algorithm>

#include "fmt/format.h"

namespace cairn::pxar {
namespace {

std::string JoinPath(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

// The string of a NUL-terminated item's content, or nullopt if the NUL is missing.
std::optional<std::string> NulTerminated(const Bytes& content) {
  if (content.empty() || content.back() != 0) return std::nullopt;
  return std::string(content.begin(), content.end() - 1);
}

}  // namespace

Result<std::unique_ptr<Decoder>> Decoder::Open(ByteSource* archive, ByteSource* payload) {
  std::unique_ptr<Decoder> d(new Decoder(archive, payload));
  CAIRN_ASSIGN_OR_RETURN(ItemHeader first, d->ReadHeader());
  if (first.type == kFormatVersion) {
    CAIRN_ASSIGN_OR_RETURN(Bytes content, d->ReadContentOf(first));
    if (content.size() != 8) return d->Error("FORMAT_VERSION content is not 8 bytes");
    uint64_t version = GetLE64(content.data());
    if (version != 1 && version != 2) {
      return d->Error(fmt::format("unsupported format version {}", version));
    }
    d->version_ = static_cast<int>(version);
    CAIRN_ASSIGN_OR_RETURN(first, d->ReadHeader());
    if (first.type == kPrelude) {
      CAIRN_ASSIGN_OR_RETURN(Bytes prelude, d->ReadContentOf(first));
      d->prelude_ = std::move(prelude);
      CAIRN_ASSIGN_OR_RETURN(first, d->ReadHeader());
    }
  }
  if (first.type != kEntry && first.type != kEntryV1) {
    return d->Error(
        fmt::format("archive starts with {}, not the root ENTRY", TypeName(first.type)));
  }
  if (d->version_ == 1 && payload) {
    return Status::InvalidArgument("a payload stream was given for a unified (v1) pxar archive");
  }
  if (d->version_ == 2 && payload) {
    uint8_t marker[kHeaderSize];
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*payload, marker));
    if (n != kHeaderSize || GetLE64(marker) != kPayloadStartMarker ||
        GetLE64(marker + 8) != kHeaderSize) {
      return Status::Corruption("pxar payload stream does not start with PAYLOAD_START_MARKER");
    }
    d->payload_consumed_ = kHeaderSize;
  }
  d->lookahead_ = first;
  d->lookahead_offset_ = d->item_offset_;
  return d;
}

std::unique_ptr<Decoder> Decoder::OpenEntry(ByteSource* source, uint64_t offset, int format_version,
                                            std::string parent_path, ByteSource* payload) {
  std::unique_ptr<Decoder> d(new Decoder(source, payload));
  d->version_ = format_version;
  d->started_ = true;
  d->pos_ = offset;
  d->item_offset_ = offset;
  d->dirs_.push_back(std::move(parent_path));
  d->single_entry_ = true;
  return d;
}

Status Decoder::Error(std::string_view what) const {
  return Status::Corruption(fmt::format("pxar archive: '{}' at offset {}: {}",
                                        current_path_.empty() ? "/" : current_path_, item_offset_,
                                        what));
}

Status Decoder::ReadExact(std::span<uint8_t> buf, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*archive_, buf));
  pos_ += n;
  if (n != buf.size()) {
    return Error(fmt::format("truncated {} ({} of {} bytes)", what, n, buf.size()));
  }
  return Status::OK();
}

Status Decoder::Skip(uint64_t bytes, std::string_view what) {
  CAIRN_ASSIGN_OR_RETURN(uint64_t n, archive_->Skip(bytes));
  pos_ += n;
  if (n != bytes) return Error(fmt::format("truncated {} ({} of {} bytes)", what, n, bytes));
  return Status::OK();
}

Result<ItemHeader> Decoder::ReadHeader() {
  if (lookahead_) {
    ItemHeader h = *lookahead_;
    lookahead_.reset();
    item_offset_ = lookahead_offset_;
    return h;
  }
  item_offset_ = pos_;
  uint8_t raw[kHeaderSize];
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*archive_, raw));
  pos_ += n;
  if (n == 0) return Error("archive ends before the root directory's GOODBYE");
  if (n != kHeaderSize) return Error(fmt::format("truncated item header ({} of 16 bytes)", n));
  Result<ItemHeader> header = ParseHeader(raw);
  if (!header.ok()) return Error(header.status().message());
  return header;
}

Result<Bytes> Decoder::ReadContentOf(const ItemHeader& header) {
  // Every bounded type is checked by ParseHeader; unbounded ones (PRELUDE, GOODBYE) are read
  // in full only when their size is plausible for metadata.
  if (header.content_size() > (uint64_t{64} << 20)) {
    return Error(fmt::format("{} item of {} bytes is implausibly large", TypeName(header.type),
                             header.content_size()));
  }
  Bytes content(header.content_size());
  CAIRN_RETURN_IF_ERROR(ReadExact(content, TypeName(header.type)));
  return content;
}

Status Decoder::ParseAttribute(const ItemHeader& header, Metadata& m, bool& seen_group_obj,
                               bool& seen_default) {
  CAIRN_ASSIGN_OR_RETURN(Bytes c, ReadContentOf(header));
  auto need = [&](size_t size) -> Status {
    if (c.size() != size) {
      return Error(fmt::format("{} content of {} bytes, expected {}", TypeName(header.type),
                               c.size(), size));
    }
    return Status::OK();
  };
  auto entry = [&]() { return AclEntry{GetLE64(c.data()), GetLE64(c.data() + 8)}; };
  switch (header.type) {
    case kXattr: {
      auto nul = std::find(c.begin(), c.end(), 0);
      if (nul == c.end() || nul == c.begin()) return Error("XATTR without a name");
      m.xattrs.push_back(Xattr{std::string(c.begin(), nul), Bytes(nul + 1, c.end())});
      return Status::OK();
    }
    case kAclUser:
      CAIRN_RETURN_IF_ERROR(need(16));
      m.acl.users.push_back(entry());
      return Status::OK();
    case kAclGroup:
      CAIRN_RETURN_IF_ERROR(need(16));
      m.acl.groups.push_back(entry());
      return Status::OK();
    case kAclDefaultUser:
      CAIRN_RETURN_IF_ERROR(need(16));
      m.acl.default_users.push_back(entry());
      return Status::OK();
    case kAclDefaultGroup:
      CAIRN_RETURN_IF_ERROR(need(16));
      m.acl.default_groups.push_back(entry());
      return Status::OK();
    case kAclGroupObj:
      CAIRN_RETURN_IF_ERROR(need(8));
      if (seen_group_obj) return Error("second ACL_GROUP_OBJ");
      seen_group_obj = true;
      m.acl.group_obj = GetLE64(c.data());
      return Status::OK();
    case kAclDefault:
      CAIRN_RETURN_IF_ERROR(need(32));
      if (seen_default) return Error("second ACL_DEFAULT");
      seen_default = true;
      m.acl.default_base = AclDefault{GetLE64(c.data()), GetLE64(c.data() + 8),
                                      GetLE64(c.data() + 16), GetLE64(c.data() + 24)};
      return Status::OK();
    case kFcaps:
      if (m.fcaps) return Error("second FCAPS");
      m.fcaps = std::move(c);
      return Status::OK();
    case kQuotaProjectId:
      CAIRN_RETURN_IF_ERROR(need(8));
      if (m.quota_project_id) return Error("second QUOTA_PROJID");
      m.quota_project_id = GetLE64(c.data());
      return Status::OK();
    default: return Error(fmt::format("unexpected {}", TypeName(header.type)));
  }
}

Status Decoder::ReadEntry(const ItemHeader& first, Entry* e) {
  if (first.type == kEntry) {
    uint8_t raw[kEntrySize];
    if (first.content_size() != kEntrySize) return Error("ENTRY content is not 40 bytes");
    CAIRN_RETURN_IF_ERROR(ReadExact(raw, "ENTRY"));
    if (GetLE32(raw + 36) != 0) return Error("ENTRY padding is not zero");
    e->metadata.stat = Stat{GetLE64(raw),
                            GetLE64(raw + 8),
                            GetLE32(raw + 16),
                            GetLE32(raw + 20),
                            static_cast<int64_t>(GetLE64(raw + 24)),
                            GetLE32(raw + 32)};
    if (e->metadata.stat.mtime_nanos >= 1'000'000'000) return Error("ENTRY nanoseconds >= 10^9");
  } else if (first.type == kEntryV1) {
    uint8_t raw[kEntryV1Size];
    if (first.content_size() != kEntryV1Size) return Error("ENTRY_V1 content is not 32 bytes");
    CAIRN_RETURN_IF_ERROR(ReadExact(raw, "ENTRY_V1"));
    uint64_t mtime_ns = GetLE64(raw + 24);
    e->metadata.stat = Stat{GetLE64(raw),
                            GetLE64(raw + 8),
                            GetLE32(raw + 16),
                            GetLE32(raw + 20),
                            static_cast<int64_t>(mtime_ns / 1'000'000'000),
                            static_cast<uint32_t>(mtime_ns % 1'000'000'000)};
  } else {
    return Error(fmt::format("expected ENTRY, found {}", TypeName(first.type)));
  }
  const Metadata& m = e->metadata;
  bool seen_group_obj = false, seen_default = false;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(ItemHeader h, ReadHeader());
    switch (h.type) {
      case kSymlink: {
        if (!m.is_symlink()) return Error("SYMLINK item in an entry that is not a symlink");
        CAIRN_ASSIGN_OR_RETURN(Bytes c, ReadContentOf(h));
        std::optional<std::string> target = NulTerminated(c);
        if (!target || target->empty() || target->find('\0') != std::string::npos) {
          return Error("malformed SYMLINK target");
        }
        e->kind = EntryKind::kSymlink;
        e->link_target = std::move(*target);
        return Status::OK();
      }
      case kDevice: {
        if (!m.is_device()) return Error("DEVICE item in an entry that is not a device");
        CAIRN_ASSIGN_OR_RETURN(Bytes c, ReadContentOf(h));
        if (c.size() != 16) return Error("DEVICE content is not 16 bytes");
        e->kind = EntryKind::kDevice;
        e->device_major = GetLE64(c.data());
        e->device_minor = GetLE64(c.data() + 8);
        return Status::OK();
      }
      case kPayload:
        if (!m.is_regular()) return Error("PAYLOAD item in an entry that is not a regular file");
        if (version_ == 2) return Error("inline PAYLOAD in a split (v2) metadata archive");
        e->kind = EntryKind::kFile;
        e->file_size = h.content_size();
        e->content_offset = pos_;
        in_file_ = true;
        file_in_payload_ = false;
        file_remaining_ = h.content_size();
        return Status::OK();
      case kPayloadRef: {
        if (!m.is_regular()) return Error("PAYLOAD_REF in an entry that is not a regular file");
        if (version_ != 2) return Error("PAYLOAD_REF in a unified (v1) archive");
        CAIRN_ASSIGN_OR_RETURN(Bytes c, ReadContentOf(h));
        if (c.size() != 16) return Error("PAYLOAD_REF content is not 16 bytes");
        return StartPayload(e, GetLE64(c.data()), GetLE64(c.data() + 8));
      }
      case kFilename:
      case kGoodbye:
        lookahead_ = h;
        lookahead_offset_ = item_offset_;
        if (m.is_fifo_or_socket()) {
          e->kind = m.file_type() == kTypeFifo ? EntryKind::kFifo : EntryKind::kSocket;
          return Status::OK();
        }
        if (!m.is_directory()) {
          return Error(fmt::format("entry of mode {:o} has no content item", m.stat.mode));
        }
        e->kind = EntryKind::kDirectory;
        dirs_.push_back(e->path);
        return Status::OK();
      default: CAIRN_RETURN_IF_ERROR(ParseAttribute(h, e->metadata, seen_group_obj, seen_default));
    }
  }
}

Status Decoder::StartPayload(Entry* e, uint64_t offset, uint64_t size) {
  // References must move forward without overlapping, so one pass over the payload stream
  // serves them all (pxar's own sequential decoder requires the same).
  if (offset < payload_next_min_) {
    return Error(
        fmt::format("PAYLOAD_REF offset {} overlaps or precedes the previous payload "
                    "(next allowed offset {})",
                    offset, payload_next_min_));
  }
  if (size > UINT64_MAX - offset - kHeaderSize) return Error("PAYLOAD_REF size overflows");
  payload_next_min_ = offset + kHeaderSize + size;
  e->kind = EntryKind::kFile;
  e->file_size = size;
  e->payload_offset = offset;
  in_file_ = true;
  file_in_payload_ = true;
  file_remaining_ = size;
  payload_file_offset_ = offset;
  payload_header_read_ = false;
  return Status::OK();
}

Status Decoder::SkipRemainingContent() {
  if (!in_file_) return Status::OK();
  in_file_ = false;
  // A payload-stream file is skipped lazily by the next payload read.
  return file_in_payload_ ? Status::OK() : Skip(file_remaining_, "PAYLOAD");
}

Status Decoder::SkipPayload(uint64_t bytes) {
  CAIRN_ASSIGN_OR_RETURN(uint64_t n, payload_->Skip(bytes));
  payload_consumed_ += n;
  if (n != bytes) return Error("payload stream ends before a referenced PAYLOAD");
  return Status::OK();
}

Result<size_t> Decoder::ReadContent(std::span<uint8_t> buf) {
  if (!in_file_) return Status::InvalidArgument("ReadContent: the current entry is not a file");
  if (file_remaining_ == 0 || buf.empty()) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), file_remaining_));
  if (!file_in_payload_) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*archive_, buf.first(want)));
    pos_ += n;
    file_remaining_ -= n;
    if (n != want)
      return Error(fmt::format("truncated PAYLOAD ({} bytes missing)", file_remaining_));
    return n;
  }
  if (!payload_) {
    return Status::InvalidArgument(fmt::format(
        "'{}': file content is in the payload stream, which was not given", current_path_));
  }
  if (!payload_header_read_) {
    CAIRN_RETURN_IF_ERROR(SkipPayload(payload_file_offset_ - payload_consumed_));
    uint8_t raw[kHeaderSize];
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*payload_, raw));
    payload_consumed_ += n;
    if (n != kHeaderSize) return Error("payload stream ends inside a PAYLOAD header");
    if (GetLE64(raw) != kPayload || GetLE64(raw + 8) != file_remaining_ + kHeaderSize) {
      return Error(fmt::format("payload stream at {} holds {} of {} bytes, not PAYLOAD of {}",
                               payload_file_offset_, TypeName(GetLE64(raw)), GetLE64(raw + 8),
                               file_remaining_ + kHeaderSize));
    }
    payload_header_read_ = true;
  }
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*payload_, buf.first(want)));
  payload_consumed_ += n;
  file_remaining_ -= n;
  if (n != want) {
    return Error(
        fmt::format("payload stream truncated ({} bytes of the file missing)", file_remaining_));
  }
  return n;
}

Result<bool> Decoder::Next(Entry* entry) {
  if (done_) return false;
  CAIRN_RETURN_IF_ERROR(SkipRemainingContent());
  *entry = Entry{};
  if (!started_) {
    started_ = true;
    current_path_.clear();
    CAIRN_ASSIGN_OR_RETURN(ItemHeader first, ReadHeader());
    CAIRN_RETURN_IF_ERROR(ReadEntry(first, entry));
    if (entry->kind != EntryKind::kDirectory) return Error("the root entry is not a directory");
    return true;
  }
  CAIRN_ASSIGN_OR_RETURN(ItemHeader h, ReadHeader());
  if (h.type == kGoodbye) {
    current_path_ = dirs_.back();
    CAIRN_ASSIGN_OR_RETURN(Bytes table, ReadContentOf(h));
    if (table.empty() || table.size() % kGoodbyeItemSize != 0) {
      return Error(fmt::format("GOODBYE table of {} bytes", table.size()));
    }
    entry->kind = EntryKind::kDirectoryEnd;
    entry->path = dirs_.back();
    dirs_.pop_back();
    if (dirs_.empty()) {
      done_ = true;
      if (single_entry_) return true;  // the rest of the archive follows the parent
      uint8_t extra;
      CAIRN_ASSIGN_OR_RETURN(size_t n, ReadFull(*archive_, std::span<uint8_t>(&extra, 1)));
      if (n != 0) return Error("data after the root directory's GOODBYE");
    }
    return true;
  }
  if (h.type != kFilename) {
    return Error(fmt::format("expected FILENAME or GOODBYE in directory '{}', found {}",
                             dirs_.back(), TypeName(h.type)));
  }
  uint64_t filename_offset = item_offset_;
  CAIRN_ASSIGN_OR_RETURN(Bytes raw_name, ReadContentOf(h));
  std::optional<std::string> name = NulTerminated(raw_name);
  if (!name) return Error("FILENAME without its NUL");
  if (Status s = ValidateName(*name); !s.ok()) return Error(s.message());
  entry->path = JoinPath(dirs_.back(), *name);
  entry->filename_offset = filename_offset;
  current_path_ = entry->path;
  CAIRN_ASSIGN_OR_RETURN(ItemHeader next, ReadHeader());
  if (next.type == kHardlink) {
    CAIRN_ASSIGN_OR_RETURN(Bytes c, ReadContentOf(next));
    if (c.size() <= 8) return Error("HARDLINK content too short");
    Bytes path_bytes(c.begin() + 8, c.end());
    std::optional<std::string> target = NulTerminated(path_bytes);
    if (!target) return Error("HARDLINK target without its NUL");
    if (Status s = ValidateRelativePath(*target); !s.ok()) {
      return Error(fmt::format("hard link target '{}': {}", *target, s.message()));
    }
    uint64_t back = GetLE64(c.data());
    if (back == 0 || back > filename_offset) {
      return Error(fmt::format("hard link offset {} does not point to an earlier entry", back));
    }
    entry->kind = EntryKind::kHardlink;
    entry->hardlink_offset = back;
    entry->link_target = std::move(*target);
    return true;
  }
  CAIRN_RETURN_IF_ERROR(ReadEntry(next, entry));
  return true;
}

}  // namespace cairn::pxar
