#include "server/auth/acl.h"

#include <set>

#include "base/file_util.h"
#include "base/quote.h"
#include "server/auth/config_file.h"
#include "server/auth/crypto_util.h"
#include "server/auth/privileges.h"

namespace cairn::server {
namespace {

constexpr mode_t kAclConfigMode = 0640;

std::vector<std::string_view> SplitList(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    std::string_view item = text.substr(start, end == text.npos ? text.npos : end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    out.push_back(item);
    if (end == text.npos) return out;
    start = end + 1;
  }
}

Status CheckRole(std::string_view role) {
  if (RolePrivileges(role)) return Status::OK();
  return Status::InvalidArgument("unknown role " + QuoteForMessage(role));
}

std::string Join(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out.push_back(',');
    out += item;
  }
  return out;
}

}  // namespace

void AclTree::InsertRole(RoleMap* roles, const std::string& role, bool propagate) {
  if (role == kRoleNoAccess) {
    roles->clear();
  } else {
    roles->erase(kRoleNoAccess);
  }
  (*roles)[role] = propagate;
}

AclTree::Node* AclTree::FindNode(std::string_view path) {
  Node* node = &root_;
  for (const std::string& c : SplitAclPath(path)) {
    auto it = node->children.find(c);
    if (it == node->children.end()) return nullptr;
    node = &it->second;
  }
  return node;
}

AclTree::Node* AclTree::GetOrInsertNode(std::string_view path) {
  Node* node = &root_;
  for (const std::string& c : SplitAclPath(path)) node = &node->children[c];
  return node;
}

Status AclTree::ParseLine(std::string_view line) {
  const std::vector<std::string_view> items = SplitList(line, ':');
  if (items.size() != 5) return Status::InvalidArgument("wrong number of items");
  if (items[0] != "acl") return Status::InvalidArgument("line does not start with 'acl'");
  if (items[1] != "0" && items[1] != "1") {
    return Status::InvalidArgument("expected '0' or '1' for propagate flag");
  }
  const bool propagate = items[1] == "1";
  CAIRN_RETURN_IF_ERROR(ValidateAclPath(items[2]));
  const std::vector<std::string_view> roles = SplitList(items[4], ',');
  for (std::string_view role : roles) CAIRN_RETURN_IF_ERROR(CheckRole(role));
  for (std::string_view ugid : SplitList(items[3], ',')) {
    for (std::string_view role : roles) {
      if (ugid.starts_with('@')) {
        CAIRN_RETURN_IF_ERROR(AddGroupRole(items[2], ugid.substr(1), role, propagate));
      } else {
        CAIRN_ASSIGN_OR_RETURN(Authid authid, Authid::Parse(ugid));
        CAIRN_RETURN_IF_ERROR(AddUserRole(items[2], authid, role, propagate));
      }
    }
  }
  return Status::OK();
}

Result<AclTree> AclTree::Parse(std::string_view text) {
  AclTree tree;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == text.npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    Status st = tree.ParseLine(line);
    if (!st.ok()) return st.WithContext("line " + std::to_string(line_no));
  }
  tree.digest_ = Sha256Hex(AsBytes(text));
  return tree;
}

Result<AclTree> AclTree::Load(const std::string& config_dir) {
  const std::string path = JoinPath(config_dir, kAclConfigFile);
  CAIRN_ASSIGN_OR_RETURN(ConfigText file, ReadConfigText(path));
  auto tree = Parse(file.text);
  if (!tree.ok()) return tree.status().WithContext("parse " + path);
  return tree;
}

void AclTree::WriteNode(const Node& node, const std::string& path, std::string* out) {
  // role -> ugids, per propagate flag; then ugid list -> roles, as PBS's write_node_config.
  std::map<std::string, std::set<std::string>> role_ugids[2];
  for (const auto& [authid, roles] : node.users) {
    if (authid.IsSuperuser()) continue;  // root@pam is always Admin
    for (const auto& [role, propagate] : roles)
      role_ugids[propagate][role].insert(authid.ToString());
  }
  for (const auto& [group, roles] : node.groups) {
    for (const auto& [role, propagate] : roles) role_ugids[propagate][role].insert("@" + group);
  }
  for (int propagate = 0; propagate < 2; ++propagate) {
    std::map<std::string, std::set<std::string>> ugids_roles;
    for (const auto& [role, ugids] : role_ugids[propagate]) ugids_roles[Join(ugids)].insert(role);
    for (const auto& [ugids, roles] : ugids_roles) {
      const std::string role_list = roles.count(kRoleNoAccess) ? kRoleNoAccess : Join(roles);
      *out += "acl:" + std::to_string(propagate) + ":" + (path.empty() ? "/" : path) + ":" + ugids +
              ":" + role_list + "\n";
    }
  }
  for (const auto& [name, child] : node.children) WriteNode(child, path + "/" + name, out);
}

std::string AclTree::Serialize() const {
  std::string out;
  WriteNode(root_, "", &out);
  return out;
}

Status AclTree::Save(const std::string& config_dir) const {
  return WriteConfig(JoinPath(config_dir, kAclConfigFile), Serialize(), kAclConfigMode);
}

AclTree::RoleMap AclTree::ExtractRoles(const Node& node, const Authid& authid, bool leaf) {
  RoleMap out;
  auto it = node.users.find(authid);
  if (it == node.users.end()) return out;
  for (const auto& [role, propagate] : it->second) {
    if (!propagate && !leaf) continue;
    if (role == kRoleNoAccess) return RoleMap{{role, false}};
    out.emplace(role, propagate);
  }
  // Group roles would apply here if `out` is empty and authid is a user; PBS never applies
  // them (no user is a member of any group).
  return out;
}

std::map<std::string, bool> AclTree::Roles(const Authid& authid,
                                           std::span<const std::string> path) const {
  const Node* node = &root_;
  RoleMap roles = ExtractRoles(*node, authid, path.empty());
  for (size_t i = 0; i < path.size(); ++i) {
    auto it = node->children.find(path[i]);
    if (it == node->children.end()) break;
    node = &it->second;
    RoleMap here = ExtractRoles(*node, authid, i + 1 == path.size());
    if (!here.empty()) roles = std::move(here);
  }
  return roles;
}

bool AclTree::NodeAnyPrivs(const Node& node, const Authid& authid, uint64_t privs,
                           bool only_propagated) {
  for (const auto& [role, propagate] : ExtractRoles(node, authid, !only_propagated)) {
    if ((RolePrivileges(role).value_or(0) & privs) != 0) return true;
  }
  return false;
}

bool AclTree::SubtreeAnyPrivs(const Node& node, const Authid& authid, uint64_t privs) {
  if (NodeAnyPrivs(node, authid, privs, false)) return true;
  for (const auto& [name, child] : node.children) {
    if (SubtreeAnyPrivs(child, authid, privs)) return true;
  }
  return false;
}

bool AclTree::AnyPrivsBelow(const Authid& authid, std::span<const std::string> path,
                            uint64_t privs) const {
  const Node* node = &root_;
  for (const std::string& c : path) {
    if (NodeAnyPrivs(*node, authid, privs, true)) return true;
    auto it = node->children.find(c);
    if (it == node->children.end()) return false;
    node = &it->second;
  }
  if (NodeAnyPrivs(*node, authid, privs, true)) return true;
  for (const auto& [name, child] : node->children) {
    if (SubtreeAnyPrivs(child, authid, privs)) return true;
  }
  return false;
}

Status AclTree::AddUserRole(std::string_view path, const Authid& authid, std::string_view role,
                            bool propagate) {
  CAIRN_RETURN_IF_ERROR(ValidateAclPath(path));
  CAIRN_RETURN_IF_ERROR(CheckRole(role));
  InsertRole(&GetOrInsertNode(path)->users[authid], std::string(role), propagate);
  return Status::OK();
}

Status AclTree::AddGroupRole(std::string_view path, std::string_view group, std::string_view role,
                             bool propagate) {
  CAIRN_RETURN_IF_ERROR(ValidateAclPath(path));
  CAIRN_RETURN_IF_ERROR(CheckRole(role));
  Status name = ValidateUserName(group);
  if (!name.ok()) return Status::InvalidArgument("invalid group name " + QuoteForMessage(group));
  InsertRole(&GetOrInsertNode(path)->groups[std::string(group)], std::string(role), propagate);
  return Status::OK();
}

void AclTree::RemoveUserRole(std::string_view path, const Authid& authid, std::string_view role) {
  Node* node = FindNode(path);
  if (node == nullptr) return;
  auto it = node->users.find(authid);
  if (it == node->users.end()) return;
  it->second.erase(std::string(role));
  if (it->second.empty()) node->users.erase(it);
}

void AclTree::RemoveGroupRole(std::string_view path, std::string_view group,
                              std::string_view role) {
  Node* node = FindNode(path);
  if (node == nullptr) return;
  auto it = node->groups.find(std::string(group));
  if (it == node->groups.end()) return;
  it->second.erase(std::string(role));
  if (it->second.empty()) node->groups.erase(it);
}

void AclTree::RemoveAuthid(const Authid& authid) {
  std::vector<Node*> stack = {&root_};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    node->users.erase(authid);
    for (auto& [name, child] : node->children) stack.push_back(&child);
  }
}

std::vector<AclEntry> AclTree::Entries() const {
  std::vector<AclEntry> out;
  std::vector<std::pair<const Node*, std::string>> stack = {{&root_, "/"}};
  while (!stack.empty()) {
    auto [node, path] = stack.back();
    stack.pop_back();
    for (const auto& [authid, roles] : node->users) {
      if (authid.IsSuperuser()) continue;
      for (const auto& [role, propagate] : roles) {
        out.push_back({path, authid.ToString(), false, propagate, role});
      }
    }
    for (const auto& [group, roles] : node->groups) {
      for (const auto& [role, propagate] : roles)
        out.push_back({path, group, true, propagate, role});
    }
    for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) {
      stack.emplace_back(&it->second, (path == "/" ? "" : path) + "/" + it->first);
    }
  }
  return out;
}

std::vector<std::string> AclTree::NodePaths() const {
  std::vector<std::string> out;
  std::vector<std::pair<const Node*, std::string>> stack = {{&root_, ""}};
  while (!stack.empty()) {
    auto [node, path] = stack.back();
    stack.pop_back();
    if (!path.empty()) out.push_back(path);
    for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) {
      stack.emplace_back(&it->second, path + "/" + it->first);
    }
  }
  return out;
}

Status ModifyAclConfig(const std::string& config_dir, std::string_view expected_digest,
                       const std::function<Status(AclTree&)>& change) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(JoinPath(config_dir, kAclConfigFile)));
  CAIRN_ASSIGN_OR_RETURN(AclTree tree, AclTree::Load(config_dir));
  CAIRN_RETURN_IF_ERROR(CheckDigest(expected_digest, tree.digest()));
  CAIRN_RETURN_IF_ERROR(change(tree));
  return tree.Save(config_dir);
}

}  // namespace cairn::server
