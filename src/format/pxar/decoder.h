// pxar::Decoder reads a pxar archive sequentially, in archive order: the root directory, then
// each child (directories depth-first, each followed by its end), as the Encoder wrote them.
// It reads unified (v1) archives and split (v2) archives; for v2 the payload stream is optional
// (without it, entries and sizes are listed but file contents cannot be read).
//
// Everything read is validated: header sizes per type, names (no '/', ".", "..", NUL),
// hard link targets (relative paths of valid names), one terminal item per entry that matches
// the entry's file type, exact content sizes, no data after the root's GOODBYE, payload
// references that only move forward and point at a PAYLOAD header of the stated size. Errors
// are Corruption and name the entry's path and the offset of the item at fault, e.g.
// "pxar archive: 'etc/hosts' at offset 4242: truncated PAYLOAD (12 of 120 bytes)".
//
// Ownership: borrows the sources. Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/stream.h"
#include "format/pxar/format.h"

namespace cairn::pxar {

enum class EntryKind {
  kDirectory,     // opens a directory; its children follow, then kDirectoryEnd
  kDirectoryEnd,  // the GOODBYE of the directory at `path`
  kFile,          // regular file; content via ReadContent
  kSymlink,
  kHardlink,  // link_target is the target's path; no metadata
  kDevice,    // block or character device (metadata.file_type())
  kFifo,
  kSocket,
};

struct Entry {
  EntryKind kind = EntryKind::kDirectory;
  // Path relative to the archive root, names joined by '/'; "" for the root itself.
  std::string path;
  Metadata metadata;                       // all kinds but kHardlink and kDirectoryEnd
  uint64_t file_size = 0;                  // kFile
  std::optional<uint64_t> payload_offset;  // kFile in a v2 archive: its PAYLOAD_REF offset
  std::string link_target;                 // kSymlink: target; kHardlink: target path
  uint64_t hardlink_offset = 0;            // kHardlink: distance back to the target's FILENAME
  uint64_t device_major = 0;               // kDevice
  uint64_t device_minor = 0;
  uint64_t filename_offset = 0;  // offset of the FILENAME item (0 for the root)
  uint64_t content_offset = 0;   // kFile in a v1 archive: where its content starts
  uint64_t directory_end = 0;    // kDirectory from an Accessor: where its GOODBYE item ends
};

class Decoder {
 public:
  // Reads the archive's start (FORMAT_VERSION / PRELUDE if any). `payload` is the v2 payload
  // stream or null. Corruption for a bad start; InvalidArgument for a payload stream given to a
  // v1 archive.
  static Result<std::unique_ptr<Decoder>> Open(ByteSource* archive, ByteSource* payload);

  // A decoder positioned at the FILENAME of one entry, at `offset` of an archive of
  // `format_version` whose bytes from there `source` yields: Next() returns that entry (and,
  // called again, what follows it in archive order: a directory's children, its end, the next
  // siblings...). `parent_path` is the path of the directory holding the entry. `payload`, if
  // given, yields a v2 archive's payload stream from its offset 0 (its Skip should be cheap:
  // only the referenced payloads are read). Used for random access (pxar_accessor.h).
  static std::unique_ptr<Decoder> OpenEntry(ByteSource* source, uint64_t offset, int format_version,
                                            std::string parent_path, ByteSource* payload = nullptr);

  int format_version() const { return version_; }
  const std::optional<Bytes>& prelude() const { return prelude_; }

  // The next entry into `entry`; false after the root's kDirectoryEnd (the archive is
  // complete). Unread content of the previous file is skipped.
  Result<bool> Next(Entry* entry);

  // Reads the current kFile entry's content: up to buf.size() bytes, 0 at its end.
  // InvalidArgument if the last entry was not a file or (v2) there is no payload stream.
  Result<size_t> ReadContent(std::span<uint8_t> buf);

  // Offset in the archive stream of the next byte the decoder will read.
  uint64_t position() const { return pos_; }

 private:
  Decoder(ByteSource* archive, ByteSource* payload) : archive_(archive), payload_(payload) {}

  Status Error(std::string_view what) const;  // Corruption naming the current entry
  Status ReadExact(std::span<uint8_t> buf, std::string_view what);
  Status Skip(uint64_t bytes, std::string_view what);
  Result<ItemHeader> ReadHeader();
  Result<Bytes> ReadContentOf(const ItemHeader& header);
  // Parses an entry whose ENTRY / ENTRY_V1 header was just read.
  Status ReadEntry(const ItemHeader& first, Entry* entry);
  Status ParseAttribute(const ItemHeader& header, Metadata& metadata, bool& seen_group_obj,
                        bool& seen_default);
  Status StartPayload(Entry* entry, uint64_t offset, uint64_t size);
  Status SkipRemainingContent();
  Status SkipPayload(uint64_t bytes);

  ByteSource* archive_;
  ByteSource* payload_;
  int version_ = 1;
  std::optional<Bytes> prelude_;
  uint64_t pos_ = 0;
  uint64_t item_offset_ = 0;             // where the item being parsed starts (for errors)
  std::optional<ItemHeader> lookahead_;  // a header read ahead, not yet consumed
  uint64_t lookahead_offset_ = 0;
  bool started_ = false;
  bool done_ = false;
  bool single_entry_ = false;      // made by OpenEntry: no root, data follows the parent's end
  std::vector<std::string> dirs_;  // paths of the open directories, root first
  std::string current_path_;       // the entry being parsed or last returned

  // The current file's content, between Next() returning it and the next Next().
  bool in_file_ = false;
  bool file_in_payload_ = false;
  uint64_t file_remaining_ = 0;
  uint64_t payload_file_offset_ = 0;  // the current file's PAYLOAD header offset
  bool payload_header_read_ = false;
  uint64_t payload_consumed_ = 0;            // bytes of the payload stream read or skipped
  uint64_t payload_next_min_ = kHeaderSize;  // lowest offset the next PAYLOAD_REF may use
};

}  // namespace cairn::pxar
