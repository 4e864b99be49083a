#include "server/rest/router.h"

#include <cassert>

#include "server/auth/encoding.h"

namespace cairn::server {
namespace {

std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string_view::npos) slash = pattern.size();
    if (slash > start) out.emplace_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool IsPlaceholder(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(Route route) {
  std::vector<std::string> pattern = SplitPattern(route.path);
  for (const std::string& segment : pattern) {
    if (!IsPlaceholder(segment)) continue;
    [[maybe_unused]] std::string name = segment.substr(1, segment.size() - 2);
    assert(std::any_of(route.params.begin(), route.params.end(),
                       [&](const ParamSpec& p) { return p.name == name; }));
  }
  for (size_t i = 0; i < routes_.size(); ++i) {
    assert(!(routes_[i].method == route.method && patterns_[i] == pattern));
  }
  routes_.push_back(std::move(route));
  patterns_.push_back(std::move(pattern));
}

std::optional<Router::Match> Router::Find(std::string_view method,
                                          const std::vector<std::string>& segments) const {
  std::optional<Match> found;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = patterns_[i];
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool matches = true;
    for (size_t s = 0; s < pattern.size() && matches; ++s) {
      if (IsPlaceholder(pattern[s])) {
        params[pattern[s].substr(1, pattern[s].size() - 2)] = segments[s];
      } else {
        matches = pattern[s] == segments[s];
      }
    }
    if (!matches) continue;
    if (routes_[i].method == method) return Match{&routes_[i], std::move(params)};
    if (!found) found = Match{};
  }
  return found;
}

Result<std::vector<std::string>> NormalizePath(std::string_view path) {
  std::vector<std::string> out;
  for (const std::string& raw : SplitPattern(path)) {
    if (raw.front() == '.') {
      return Status::InvalidArgument("path segments must not start with '.'");
    }
    CAIRN_ASSIGN_OR_RETURN(std::string segment, PercentDecode(raw));
    if (segment.empty() || segment.front() == '.' ||
        segment.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
      return Status::InvalidArgument("malformed path segment");
    }
    out.push_back(std::move(segment));
  }
  return out;
}

}  // namespace cairn::server
