#include "server/tasks/task_filter.h"

#include <algorithm>
#include <cctype>

#include "base/hex.h"

namespace cairn::server {
namespace {

// PBS's PROXMOX_SAFE_ID_REGEX: [A-Za-z0-9_][A-Za-z0-9._-]*
bool IsSafeId(std::string_view id) {
  if (id.empty()) return false;
  auto ok = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!ok(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return ok(c) || c == '.' || c == '-'; });
}

std::vector<std::string_view> SplitColons(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t colon; (colon = text.find(':')) != std::string_view::npos;) {
    parts.push_back(text.substr(0, colon));
    text.remove_prefix(colon + 1);
  }
  parts.push_back(text);
  return parts;
}

}  // namespace

std::string UnescapeWorkerId(std::string_view escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '-') {
      out += '/';
    } else if (c == '\\' && i + 3 < escaped.size() && escaped[i + 1] == 'x' &&
               HexDigitValue(escaped[i + 2]) >= 0 && HexDigitValue(escaped[i + 3]) >= 0) {
      out += static_cast<char>(HexDigitValue(escaped[i + 2]) * 16 + HexDigitValue(escaped[i + 3]));
      i += 3;
    } else {
      out += c;
    }
  }
  return out;
}

bool TaskBelongsToStore(const Upid& upid, std::string_view store) {
  if (upid.worker_id.empty()) return false;
  const std::string id = UnescapeWorkerId(upid.worker_id);
  const std::string_view type = upid.worker_type;
  if (type.starts_with("verif")) {
    const std::vector<std::string_view> parts = SplitColons(id);
    if (parts.size() >= 2 && IsSafeId(parts[0])) return parts[0] == store;
    return id == store;
  }
  if (type == "syncjob") {
    const std::vector<std::string_view> parts = SplitColons(id);
    return parts.size() >= 4 && parts[2] == store;
  }
  if (type == "prune" || type == "prunejob" || type == "backup" || type == "garbage_collection") {
    return id == store ||
           (id.size() > store.size() && id.starts_with(store) && id[store.size()] == ':');
  }
  return false;
}

bool MatchesTaskFilter(const TaskListEntry& entry, const TaskListFilter& filter) {
  const Upid& upid = entry.upid;
  if (filter.until && upid.starttime > *filter.until) return false;
  if (filter.since && upid.starttime < *filter.since) return false;
  if (!filter.userfilter.empty() && upid.auth_id.find(filter.userfilter) == std::string::npos) {
    return false;
  }
  if (!filter.store.empty() && !TaskBelongsToStore(upid, filter.store)) return false;
  if (!filter.typefilter.empty() && upid.worker_type.find(filter.typefilter) == std::string::npos) {
    return false;
  }
  if (entry.state) {
    if (filter.running) return false;
    if (filter.errors && entry.state->type == TaskStateType::kOk) return false;
    if (!filter.statusfilter.empty() &&
        std::find(filter.statusfilter.begin(), filter.statusfilter.end(), entry.state->type) ==
            filter.statusfilter.end()) {
      return false;
    }
  } else if (!filter.statusfilter.empty()) {
    return false;
  }
  return true;
}

}  // namespace cairn::server
