// pxar::Accessor reads a pxar archive by random access, through the GOODBYE tables: the root from
// the archive's last 24 bytes, a directory's children from its table, a path by hashing each
// component (as the pxar crate's own accessor does). Only the items needed are read, so listing a
// directory or extracting one file of a large archive touches a few chunks, not the whole stream.
//
// Every read is bounds-checked against the archive; a table or offset that points outside it,
// backwards where it must point forwards, or at something that is not the expected item is
// Corruption naming the directory or path. Entries come from the sequential Decoder
// (OpenEntry), so they are validated the same way.
//
// Ownership: borrows the sources. Thread-safety: one thread (as the sources).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "format/pxar/decoder.h"
#include "format/pxar/goodbye.h"

namespace cairn::pxar {

class Accessor {
 public:
  // `payload` is the payload stream of a split (v2) archive, or null (v1, or v2 without
  // contents). Corruption if the archive does not end with a root GOODBYE tail.
  static Result<std::unique_ptr<Accessor>> Open(RandomAccessSource* archive,
                                                RandomAccessSource* payload);

  int format_version() const { return version_; }
  const Entry& root() const { return root_; }

  // The children of directory `dir` (an entry of kind kDirectory from this accessor), in archive
  // order. Hard links are returned as such (see ResolveHardlink).
  Result<std::vector<Entry>> List(const Entry& dir);

  // The entry at `path` ("a/b/c", relative to the root; "" or "/" is the root). NotFound naming
  // the path if a component is missing; InvalidArgument if it descends through a non-directory.
  Result<Entry> Lookup(std::string_view path);

  // The regular file a kHardlink entry points to (Corruption unless it is one, earlier).
  Result<Entry> ResolveHardlink(const Entry& link);

  // A source of a kFile entry's content. InvalidArgument for other kinds or when a split
  // archive's payload stream was not given; Corruption if the payload reference does not land
  // on a PAYLOAD header of the file's size. The source borrows this accessor's sources.
  Result<std::unique_ptr<ByteSource>> OpenContent(const Entry& file);

 private:
  struct Directory {
    std::string path;
    uint64_t goodbye_offset = 0;
    std::vector<GoodbyeItem> table;  // without the tail
  };

  Accessor(RandomAccessSource* archive, RandomAccessSource* payload)
      : archive_(archive), payload_(payload) {}

  // The table of the directory whose bytes end at `end`.
  Result<Directory> ReadDirectory(const std::string& path, uint64_t end);
  Result<Directory> DirectoryOf(const Entry& dir);
  // Decodes the entry whose FILENAME starts at `filename_offset` in directory `dir`.
  Result<Entry> EntryAt(const Directory& dir, uint64_t filename_offset);
  Result<std::string> NameAt(uint64_t filename_offset);
  Status Fail(const std::string& where, std::string_view what) const;

  RandomAccessSource* archive_;
  RandomAccessSource* payload_;
  int version_ = 1;
  Entry root_;
};

}  // namespace cairn::pxar
