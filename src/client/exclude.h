// Exclude patterns for file archives, gitignore-style like PBS's `--exclude` and `.pxarexclude`:
//   - a pattern without '/' (other than a trailing one) matches a name at any depth: "*.tmp";
//   - a pattern with '/' is anchored at the directory it belongs to (the archive root for
//     --exclude, the file's directory for .pxarexclude): "/var/cache", "build/out";
//   - a trailing '/' matches directories only: "cache/";
//   - a leading '!' re-includes what an earlier pattern excluded; the last match decides;
//   - wildcards as fnmatch(3): '*' and '?' do not cross '/', [...] classes; lines starting with
//     '#' and empty lines in a .pxarexclude are ignored.
// An excluded directory is not descended into.
//
// Thread-safety: a const ExcludeList may be used concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn {

class ExcludeList {
 public:
  // Adds one pattern; `base` is the directory it belongs to, relative to the archive root ("" for
  // the root). InvalidArgument for an empty pattern.
  Status Add(std::string_view pattern, const std::string& base = "");
  // Adds each line of a .pxarexclude file found in directory `base`.
  Status AddFile(std::string_view content, const std::string& base);

  // True if `path` (relative to the archive root, no leading '/') is excluded.
  bool Excluded(const std::string& path, bool is_directory) const;

  size_t size() const { return patterns_.size(); }

 private:
  struct Pattern {
    std::string glob;  // without '!', leading and trailing '/'
    std::string base;
    bool negated = false;
    bool directory_only = false;
    bool anchored = false;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace cairn
