// The pcat1 catalog (`catalog.pcat1.didx` of a snapshot, PBS's pbs-datastore/src/catalog.rs): the
// list of files of every file archive in a snapshot, so it can be browsed without reading any
// archive. PBS writes it for legacy (v1) file archives; Cairn does the same, byte-compatible.
//
// Layout: magic, then one block per directory in post-order (children before parents), the root
// block, and the root block's offset (u64 LE). A block is varint(length) varint(count) entries;
// an entry is type byte, varint(name length), name, and for 'd' the backward distance to the
// child's block, for 'f' varint(size) and signed-varint(mtime seconds). The root lists one 'd'
// per archive, named by its server file name ("root.pxar.didx").
//
// CatalogWriter streams blocks out as directories close, so it keeps only the entries of the open
// directories. CatalogReader reads by random access, one block per directory visited, and
// validates every block (Corruption naming the offset).
//
// Thread-safety: one thread per writer or reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "format/file_formats.h"

namespace cairn {

enum class CatalogType : uint8_t {
  kDirectory = 'd',
  kFile = 'f',
  kSymlink = 'l',
  kHardlink = 'h',
  kBlockDevice = 'b',
  kCharDevice = 'c',
  kFifo = 'p',
  kSocket = 's',
};

struct CatalogEntry {
  CatalogType type = CatalogType::kFile;
  std::string name;
  uint64_t size = 0;          // kFile
  int64_t mtime = 0;          // kFile, seconds
  uint64_t block_offset = 0;  // kDirectory: absolute offset of its block
};

// Varint codecs (exposed for tests). Decoders return the value and advance *pos; Corruption on
// truncation or overlong input.
void AppendCatalogU64(std::string& out, uint64_t v);
void AppendCatalogI64(std::string& out, int64_t v);
Result<uint64_t> ReadCatalogU64(std::string_view in, size_t* pos);
Result<int64_t> ReadCatalogI64(std::string_view in, size_t* pos);

class CatalogWriter {
 public:
  // Writes the magic to `out` (borrowed).
  static Result<std::unique_ptr<CatalogWriter>> Create(ByteSink* out);

  // Opens directory `name` inside the current directory (at the top level: an archive, named by
  // its server file name). Its entry is added to the parent when it is closed.
  void StartDirectory(std::string_view name);
  Status EndDirectory();  // InvalidArgument without an open directory

  void AddFile(std::string_view name, uint64_t size, int64_t mtime);
  // Any type but kDirectory and kFile.
  void AddEntry(CatalogType type, std::string_view name);

  // Writes the root block and its offset. InvalidArgument if a directory is still open.
  Status Finish();

 private:
  explicit CatalogWriter(ByteSink* out) : out_(out) {}
  struct Frame {
    std::string name;
    std::vector<CatalogEntry> entries;
  };
  Status WriteBlock(const Frame& frame, uint64_t* block_start);

  ByteSink* out_;
  uint64_t pos_ = 0;
  std::vector<Frame> frames_ = {Frame{}};  // [0] is the root
};

class CatalogReader {
 public:
  // Checks the magic and the root offset. Corruption otherwise.
  static Result<std::unique_ptr<CatalogReader>> Open(RandomAccessSource* source);

  // The root block's offset, for List.
  uint64_t root() const { return root_; }
  // The entries of the block at `block_offset` (a root() or a kDirectory entry's block_offset).
  Result<std::vector<CatalogEntry>> List(uint64_t block_offset);
  // The entry at `path` ("root.pxar.didx/etc/hosts"). NotFound naming the path.
  Result<CatalogEntry> Lookup(std::string_view path);

 private:
  explicit CatalogReader(RandomAccessSource* source) : source_(source) {}
  RandomAccessSource* source_;
  uint64_t root_ = 0;
};

}  // namespace cairn
