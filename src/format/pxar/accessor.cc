#include "format/pxar/accessor.h"

#include <algorithm>

#include "fmt/format.h"

namespace cairn::pxar {

Status Accessor::Fail(const std::string& where, std::string_view what) const {
  return Status::Corruption(
      fmt::format("pxar archive: '{}': {}", where.empty() ? "/" : where, what));
}

Result<std::unique_ptr<Accessor>> Accessor::Open(RandomAccessSource* archive,
                                                 RandomAccessSource* payload) {
  std::unique_ptr<Accessor> a(new Accessor(archive, payload));
  const uint64_t size = archive->size();
  if (size < kHeaderSize + kGoodbyeItemSize) return a->Fail("", "archive too short");
  RangeSource source(*archive, 0, size);
  CAIRN_ASSIGN_OR_RETURN(auto decoder, Decoder::Open(&source, nullptr));
  a->version_ = decoder->format_version();
  CAIRN_ASSIGN_OR_RETURN(bool any, decoder->Next(&a->root_));
  if (!any || a->root_.kind != EntryKind::kDirectory) return a->Fail("", "no root directory");
  a->root_.directory_end = size;
  // The root's table must be readable from the end (checks the tail).
  CAIRN_RETURN_IF_ERROR(a->ReadDirectory("", size).status());
  return a;
}

Result<Accessor::Directory> Accessor::ReadDirectory(const std::string& path, uint64_t end) {
  if (end > archive_->size() || end < kGoodbyeItemSize + kHeaderSize) {
    return Fail(path, fmt::format("directory end {} outside the archive", end));
  }
  uint8_t tail[kGoodbyeItemSize];
  CAIRN_RETURN_IF_ERROR(archive_->ReadAt(end - kGoodbyeItemSize, tail));
  GoodbyeItem t{GetLE64(tail), GetLE64(tail + 8), GetLE64(tail + 16)};
  if (t.hash != kGoodbyeTailMarker) return Fail(path, "directory does not end with a GOODBYE tail");
  if (t.size > end || t.size < kHeaderSize + kGoodbyeItemSize ||
      (t.size - kHeaderSize) % kGoodbyeItemSize != 0 || t.size > (uint64_t{64} << 20)) {
    return Fail(path, fmt::format("GOODBYE tail with size {}", t.size));
  }
  Directory dir;
  dir.path = path;
  dir.goodbye_offset = end - t.size;
  Bytes raw(t.size);
  CAIRN_RETURN_IF_ERROR(archive_->ReadAt(dir.goodbye_offset, raw));
  if (GetLE64(raw.data()) != kGoodbye || GetLE64(raw.data() + 8) != t.size) {
    return Fail(path, "GOODBYE tail does not point at its GOODBYE header");
  }
  CAIRN_ASSIGN_OR_RETURN(dir.table, ParseGoodbye(ByteView(raw).subspan(kHeaderSize)));
  dir.table.pop_back();
  for (const GoodbyeItem& item : dir.table) {
    if (item.offset == 0 || item.offset > dir.goodbye_offset) {
      return Fail(path,
                  fmt::format("GOODBYE record points outside the directory ({})", item.offset));
    }
  }
  return dir;
}

Result<Accessor::Directory> Accessor::DirectoryOf(const Entry& dir) {
  if (dir.kind != EntryKind::kDirectory) {
    return Status::InvalidArgument(fmt::format("'{}' is not a directory", dir.path));
  }
  return ReadDirectory(dir.path, dir.directory_end);
}

Result<std::string> Accessor::NameAt(uint64_t filename_offset) {
  uint8_t raw[kHeaderSize];
  CAIRN_RETURN_IF_ERROR(archive_->ReadAt(filename_offset, raw));
  CAIRN_ASSIGN_OR_RETURN(ItemHeader h, ParseHeader(raw));
  if (h.type != kFilename || h.content_size() == 0) {
    return Status::Corruption(
        fmt::format("pxar archive: GOODBYE record points at {} (offset {}), not a FILENAME",
                    TypeName(h.type), filename_offset));
  }
  std::string name(h.content_size(), '\0');
  CAIRN_RETURN_IF_ERROR(
      archive_->ReadAt(filename_offset + kHeaderSize,
                       std::span<uint8_t>(reinterpret_cast<uint8_t*>(name.data()), name.size())));
  if (name.back() != '\0') return Status::Corruption("pxar archive: FILENAME without its NUL");
  name.pop_back();
  return name;
}

Result<Entry> Accessor::EntryAt(const Directory& dir, uint64_t filename_offset) {
  RangeSource source(*archive_, filename_offset, archive_->size() - filename_offset);
  auto decoder = Decoder::OpenEntry(&source, filename_offset, version_, dir.path);
  Entry e;
  CAIRN_ASSIGN_OR_RETURN(bool any, decoder->Next(&e));
  if (!any || e.kind == EntryKind::kDirectoryEnd) {
    return Fail(dir.path, fmt::format("no entry at offset {}", filename_offset));
  }
  if (e.kind == EntryKind::kDirectory) {
    // Its end: the record that points here says how long the child is.
    for (const GoodbyeItem& item : dir.table) {
      if (dir.goodbye_offset - item.offset == filename_offset) {
        e.directory_end = filename_offset + item.size;
      }
    }
    if (e.directory_end > dir.goodbye_offset || e.directory_end <= filename_offset) {
      return Fail(e.path, "directory size in the parent's GOODBYE table is out of range");
    }
  }
  return e;
}

Result<std::vector<Entry>> Accessor::List(const Entry& dir_entry) {
  CAIRN_ASSIGN_OR_RETURN(Directory dir, DirectoryOf(dir_entry));
  std::vector<uint64_t> offsets;
  for (const GoodbyeItem& item : dir.table) offsets.push_back(dir.goodbye_offset - item.offset);
  std::sort(offsets.begin(), offsets.end());
  std::vector<Entry> out;
  for (uint64_t offset : offsets) {
    CAIRN_ASSIGN_OR_RETURN(Entry e, EntryAt(dir, offset));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Entry> Accessor::Lookup(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  Entry current = root_;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string name(path.substr(start, end - start));
    start = end + 1;
    if (name.empty() || name == ".") continue;
    if (current.kind != EntryKind::kDirectory) {
      return Status::InvalidArgument(
          fmt::format("'{}' is not a directory (looking up '{}')", current.path, path));
    }
    CAIRN_ASSIGN_OR_RETURN(Directory dir, DirectoryOf(current));
    bool found = false;
    for (size_t i : GoodbyeLookup(dir.table, HashName(name))) {
      uint64_t offset = dir.goodbye_offset - dir.table[i].offset;
      CAIRN_ASSIGN_OR_RETURN(std::string candidate, NameAt(offset));
      if (candidate != name) continue;  // a hash collision
      CAIRN_ASSIGN_OR_RETURN(current, EntryAt(dir, offset));
      found = true;
      break;
    }
    if (!found) return Status::NotFound(fmt::format("'{}' is not in the archive", path));
  }
  return current;
}

Result<Entry> Accessor::ResolveHardlink(const Entry& link) {
  if (link.kind != EntryKind::kHardlink) return link;
  if (link.hardlink_offset == 0 || link.hardlink_offset > link.filename_offset) {
    return Fail(link.path, "hard link offset out of range");
  }
  uint64_t target = link.filename_offset - link.hardlink_offset;
  std::string parent;
  if (size_t slash = link.link_target.rfind('/'); slash != std::string::npos) {
    parent = link.link_target.substr(0, slash);
  }
  RangeSource source(*archive_, target, archive_->size() - target);
  auto decoder = Decoder::OpenEntry(&source, target, version_, parent);
  Entry e;
  CAIRN_ASSIGN_OR_RETURN(bool any, decoder->Next(&e));
  if (!any || e.kind != EntryKind::kFile) {
    return Fail(link.path, "hard link does not point to an earlier regular file");
  }
  return e;
}

Result<std::unique_ptr<ByteSource>> Accessor::OpenContent(const Entry& file) {
  if (file.kind != EntryKind::kFile) {
    return Status::InvalidArgument(fmt::format("'{}' is not a regular file", file.path));
  }
  if (!file.payload_offset) {
    if (file.content_offset > archive_->size() ||
        file.file_size > archive_->size() - file.content_offset) {
      return Fail(file.path, "file content runs past the end of the archive");
    }
    return std::unique_ptr<ByteSource>(
        new RangeSource(*archive_, file.content_offset, file.file_size));
  }
  if (!payload_) {
    return Status::InvalidArgument(
        fmt::format("'{}': the content is in the payload stream, which was not given", file.path));
  }
  const uint64_t offset = *file.payload_offset;
  if (offset > payload_->size() || payload_->size() - offset < kHeaderSize ||
      file.file_size > payload_->size() - offset - kHeaderSize) {
    return Fail(file.path, "payload reference runs past the end of the payload stream");
  }
  uint8_t raw[kHeaderSize];
  CAIRN_RETURN_IF_ERROR(payload_->ReadAt(offset, raw));
  if (GetLE64(raw) != kPayload || GetLE64(raw + 8) != file.file_size + kHeaderSize) {
    return Fail(file.path, fmt::format("payload reference {} does not point at a PAYLOAD of {} "
                                       "bytes",
                                       offset, file.file_size));
  }
  return std::unique_ptr<ByteSource>(
      new RangeSource(*payload_, offset + kHeaderSize, file.file_size));
}

}  // namespace cairn::pxar
