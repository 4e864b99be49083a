// pxar::Encoder writes a pxar archive as a stream, entry by entry in directory order
// (as the pxar crate's src/encoder/mod.rs does). Two layouts:
//
//   unified (version 1, `.pxar`): one stream; file contents inline as PAYLOAD items.
//   split (version 2, `.mpxar` + `.ppxar`): metadata stream with PAYLOAD_REF items pointing
//     into a payload stream that holds the contents; unchanged files of a previous backup can
//     be referenced without being written again (AddPayloadRef + AdvancePayload).
//
// The encoder produces exactly the bytes PBS's encoder produces for the same calls (including
// its quirks: the root GOODBYE tail points at offset 0 in v2, and a freshly written file's
// GOODBYE size counts its payload in split mode). It never seeks: GOODBYE tables are built from
// offsets it remembers, one frame per open directory.
//
// Usage: Create (writes the root's metadata), then for each child in the order the caller
// chooses (PBS and Cairn sort names bytewise): AddFile / BeginFile+WriteFileData+EndFile,
// AddSymlink, AddDevice, AddSpecial, AddHardlink, or OpenDirectory ... CloseDirectory; then
// Finish, which closes the root. Calls out of order are InvalidArgument. After any error the
// encoder is unusable and every later call returns that error.
//
// Ownership: borrows the sinks, which must outlive the encoder. Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "format/pxar/format.h"
#include "format/pxar/goodbye.h"

namespace cairn::pxar {

// Where a regular file's FILENAME starts: what a later hard link to it refers to.
struct LinkOffset {
  uint64_t value = 0;
};

class Encoder {
 public:
  // Starts an archive whose root directory has `root` metadata (InvalidArgument unless it is a
  // directory). `payload` null: unified v1; otherwise split v2 with the payload stream there,
  // and `prelude` (v2 only) written right after FORMAT_VERSION if given.
  static Result<std::unique_ptr<Encoder>> Create(ByteSink* archive, ByteSink* payload,
                                                 const Metadata& root,
                                                 const std::optional<Bytes>& prelude = {});

  bool split() const { return payload_ != nullptr; }
  // Bytes written to the archive (metadata) stream so far.
  uint64_t position() const { return pos_; }
  // Bytes in the payload stream so far, including AdvancePayload()s (split only).
  uint64_t payload_position() const { return payload_pos_; }

  // A regular file of `size` bytes: BeginFile, then WriteFileData until exactly `size` bytes
  // have been given, then EndFile (InvalidArgument if the byte count differs).
  Result<LinkOffset> BeginFile(std::string_view name, const Metadata& metadata, uint64_t size);
  Status WriteFileData(ByteView data);
  Status EndFile();
  // BeginFile + WriteFileData(content) + EndFile.
  Result<LinkOffset> AddFile(std::string_view name, const Metadata& metadata, ByteView content);

  // Split only: a regular file whose `size` bytes already sit in the payload stream in a PAYLOAD
  // item whose header starts at `payload_offset` (>= payload_position(), strictly increasing).
  Result<LinkOffset> AddPayloadRef(std::string_view name, const Metadata& metadata, uint64_t size,
                                   uint64_t payload_offset);
  // Split only: `bytes` were appended to the payload stream by the caller (reused chunks).
  Status AdvancePayload(uint64_t bytes);

  Status AddSymlink(std::string_view name, const Metadata& metadata, std::string_view target);
  // Block or character device (by metadata's file type).
  Status AddDevice(std::string_view name, const Metadata& metadata, uint64_t major, uint64_t minor);
  // FIFO or socket (by metadata's file type): metadata only.
  Status AddSpecial(std::string_view name, const Metadata& metadata);
  // A hard link to a regular file added earlier at `target`, whose path relative to the archive
  // root is `target_path` (e.g. "usr/bin/bzip2").
  Status AddHardlink(std::string_view name, std::string_view target_path, LinkOffset target);

  Status OpenDirectory(std::string_view name, const Metadata& metadata);
  Status CloseDirectory();

  // Closes the root directory (InvalidArgument if a directory is still open) and, in split
  // mode, ends the payload stream. Flushes everything to the sinks.
  Status Finish();

 private:
  struct Frame {
    uint64_t entry_offset = 0;
    uint64_t filename_offset = 0;
    uint64_t name_hash = 0;
    std::vector<GoodbyeItem> children;
  };

  Encoder(ByteSink* archive, ByteSink* payload) : archive_(archive), payload_(payload) {}

  Status CheckReady(std::string_view what);  // not failed, not finished, no file open
  Status Fail(Status status);
  // Appends FILENAME and the entry's metadata items; returns the FILENAME offset.
  Result<uint64_t> StartEntry(std::string_view name, const Metadata& metadata);
  void AddChild(uint64_t hash, uint64_t filename_offset, uint64_t size);
  void Buffer(ByteView bytes);
  Status FlushArchive();
  Status WritePayload(ByteView bytes);

  ByteSink* archive_;
  ByteSink* payload_;
  Bytes buffer_;  // archive bytes not yet handed to the sink
  uint64_t pos_ = 0;
  uint64_t payload_pos_ = 0;
  std::vector<Frame> frames_;
  Status failed_;
  bool finished_ = false;

  // The regular file being written, between BeginFile and EndFile.
  struct OpenFile {
    uint64_t filename_offset = 0;
    uint64_t hash = 0;
    uint64_t size = 0;
    uint64_t written = 0;
  };
  std::optional<OpenFile> file_;
  std::optional<uint64_t> last_payload_ref_;  // the last PAYLOAD_REF offset, split only
};

// Appends the ENTRY and attribute items for `metadata` in the reference order (ENTRY, XATTR*,
// ACL_USER*, ACL_GROUP*, ACL_GROUP_OBJ?, ACL_DEFAULT?, ACL_DEFAULT_USER*, ACL_DEFAULT_GROUP*,
// FCAPS?, QUOTA_PROJID?). InvalidArgument for an xattr name that is empty, longer than 255
// bytes or contains NUL, a value over 64 KiB, or nanoseconds >= 10^9.
Status AppendMetadata(Bytes& out, const Metadata& metadata);

}  // namespace cairn::pxar
