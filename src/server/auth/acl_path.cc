#include "server/auth/acl_path.h"

#include "base/quote.h"

namespace cairn::server {
namespace {

bool OneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options) {
    if (s == o) return true;
  }
  return false;
}

// PBS check_acl_path: is this a path ACLs may be set on?
bool ValidShape(const std::vector<std::string>& c) {
  const size_t n = c.size();
  if (n == 0) return true;
  const std::string& top = c[0];
  if (top == "access") {
    if (n == 1) return true;
    if (OneOf(c[1], {"acl", "users", "domains"})) return n == 2;
    return c[1] == "openid" && n <= 3;
  }
  if (top == "datastore") return n <= 2 + kMaxNamespaceDepth;
  if (top == "remote") return n <= 3 + kMaxNamespaceDepth;
  if (top == "system") {
    if (n == 1) return true;
    if (OneOf(c[1], {"certificates", "disks", "log", "notifications", "status", "tasks", "time"})) {
      return n == 2;
    }
    if (OneOf(c[1], {"services", "s3-endpoint", "encryption-keys"})) return n <= 3;
    if (c[1] == "network") {
      if (n == 2) return true;
      if (c[2] == "dns") return n == 3;
      return c[2] == "interfaces" && n <= 4;
    }
    return false;
  }
  if (top == "tape") {
    if (n == 1) return true;
    return OneOf(c[1], {"device", "pool", "job"}) && n <= 3;
  }
  return false;
}

}  // namespace

std::vector<std::string> SplitAclPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JoinAclPath(std::span<const std::string> components) {
  if (components.empty()) return "/";
  std::string out;
  for (const std::string& c : components) out.append("/").append(c);
  return out;
}

Status ValidateAclPath(std::string_view path) {
  const auto invalid = [&](const char* why) {
    return Status::InvalidArgument(std::string("invalid acl path ") + QuoteForMessage(path) + ": " +
                                   why);
  };
  if (path.empty() || path.size() > kMaxAclPathLength) return invalid("length not 1..128");
  if (path.front() != '/') return invalid("does not start with '/'");
  if (path == "/") return Status::OK();
  const std::vector<std::string> components = SplitAclPath(path);
  // Every component must be a SAFE_ID and there must be no empty component ("//", trailing "/").
  if (JoinAclPath(components) != path) return invalid("empty component");
  for (const std::string& c : components) {
    if (!IsSafeId(c)) return invalid("component is not a safe id");
  }
  if (!ValidShape(components)) return invalid("no such object");
  return Status::OK();
}

std::vector<std::string> NamespaceAclPath(std::string_view store, const BackupNamespace& ns) {
  std::vector<std::string> out = {"datastore", std::string(store)};
  for (const std::string& c : ns.components()) out.push_back(c);
  return out;
}

}  // namespace cairn::server
