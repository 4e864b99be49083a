#include "client/exclude.h"

#include <fnmatch.h>

namespace cairn {

Status ExcludeList::Add(std::string_view pattern, const std::string& base) {
  Pattern p;
  p.base = base;
  if (pattern.starts_with('!')) {
    p.negated = true;
    pattern.remove_prefix(1);
  }
  if (pattern.ends_with('/')) {
    p.directory_only = true;
    while (pattern.ends_with('/')) pattern.remove_suffix(1);
  }
  if (pattern.starts_with('/')) {
    p.anchored = true;
    while (pattern.starts_with('/')) pattern.remove_prefix(1);
  }
  if (pattern.empty()) return Status::InvalidArgument("empty exclude pattern");
  if (pattern.find('/') != std::string_view::npos) p.anchored = true;
  p.glob = std::string(pattern);
  patterns_.push_back(std::move(p));
  return Status::OK();
}

Status ExcludeList::AddFile(std::string_view content, const std::string& base) {
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    if (line.empty() || line.starts_with('#')) continue;
    CAIRN_RETURN_IF_ERROR(Add(line, base));
  }
  return Status::OK();
}

bool ExcludeList::Excluded(const std::string& path, bool is_directory) const {
  bool excluded = false;
  for (const Pattern& p : patterns_) {
    if (p.directory_only && !is_directory) continue;
    std::string_view rel = path;
    if (!p.base.empty()) {
      if (!rel.starts_with(p.base) || rel.size() <= p.base.size() || rel[p.base.size()] != '/') {
        continue;
      }
      rel.remove_prefix(p.base.size() + 1);
    }
    std::string subject;
    if (p.anchored) {
      subject = std::string(rel);
    } else {
      size_t slash = rel.rfind('/');
      subject = std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    }
    if (::fnmatch(p.glob.c_str(), subject.c_str(), FNM_PATHNAME) == 0) {
      excluded = !p.negated;
    }
  }
  return excluded;
}

}  // namespace cairn
