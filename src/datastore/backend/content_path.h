// Content paths: the metadata files of a datastore, named by their path relative to the
// datastore root. An object store keeps each under "<store>/.cnt/<path>" (PBS 4.x's key layout,
// docs/s3-datastores.md):
//
//   [ns/<a>/ns/<b>/].namespace                       namespace marker (the namespace directory)
//   [<ns path>/]<type>/<id>/owner | notes             group files
//   [<ns path>/]<type>/<id>/<RFC3339>/<archive>       snapshot files (index.json.blob, *.fidx,
//   [<ns path>/]<type>/<id>/<RFC3339>/.protected       *.didx, *.blob) and the protected marker
//
// ParseContentPath accepts exactly these shapes with valid names, so a key read back from a
// bucket can never create anything else locally (no "..", no stray files, no path outside the
// datastore).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

inline constexpr char kContentPrefix[] = ".cnt/";
inline constexpr char kNamespaceMarker[] = ".namespace";
inline constexpr char kProtectedMarker[] = ".protected";

enum class ContentKind { kNamespaceMarker, kGroupFile, kSnapshotFile };

struct ContentPath {
  ContentKind kind;
  std::string dir;   // directory to create, relative to the datastore root
  std::string file;  // file to write, relative to the root; empty for a namespace marker
};

// Parses a path relative to the datastore root. InvalidArgument naming it if it is not one of
// the shapes above.
Result<ContentPath> ParseContentPath(std::string_view path);

}  // namespace cairn
