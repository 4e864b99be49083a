// AclTree is `acl.cfg`, PBS's access control list (spec 4.3), one grant set per line:
//
//   acl:<propagate 0|1>:<path>:<authid or @group>[,...]:<Role>[,...]
//   acl:1:/datastore/store1:alice@pbs,backup@pbs!nightly:DatastoreBackup
//
// Paths are validated by acl_path.h. The tree has a node per path component; each node maps an auth
// id (or a group) to its roles and their propagate flags. Setting NoAccess on a node replaces the
// auth id's other roles there, and any other role replaces a NoAccess.
//
// Evaluation (Roles) walks from "/" to the path: all roles at the final node, only
// propagating ones at ancestors; a node where the auth id has any role replaces what was
// collected above it; a NoAccess yields just {NoAccess} (no privileges). Group entries are
// kept and written back but never applied, as in PBS. root@pam's own entries are not written
// (it is always Admin).
//
// Serialize groups the entries of a node as PBS does (auth ids sharing the same role set on
// one line), so Parse(Serialize(t)) grants exactly what t grants. The file is mode 0640,
// changed under `acl.cfg.lock` (ModifyAclConfig).
//
// Thread-safety: a const AclTree may be read concurrently; mutation needs external
// synchronisation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/auth/acl_path.h"
#include "server/auth/auth_id.h"

namespace cairn::server {

inline constexpr char kAclConfigFile[] = "acl.cfg";
// One grant, as listed by GET /access/acl.
struct AclEntry {
  std::string path;  // "/datastore/store1"
  std::string ugid;  // auth id, or group name (without '@')
  bool is_group = false;
  bool propagate = true;
  std::string role;
  bool operator==(const AclEntry&) const = default;
};

class AclTree {
 public:
  AclTree() = default;

  // Parses acl.cfg text. InvalidArgument "line N: ..." on a wrong field count, a propagate
  // flag other than 0/1, an invalid path, auth id, group name or an unknown role.
  static Result<AclTree> Parse(std::string_view text);
  // Loads `<config_dir>/acl.cfg`; a missing file is an empty tree.
  static Result<AclTree> Load(const std::string& config_dir);
  std::string Serialize() const;
  // Writes `<config_dir>/acl.cfg` atomically, mode 0640.
  // REQUIRES: the caller holds LockConfig() of that file.
  Status Save(const std::string& config_dir) const;
  // Hex SHA-256 of the text this tree was parsed from.
  const std::string& digest() const { return digest_; }

  // The roles of `authid` at `path` (components), role -> propagate flag.
  std::map<std::string, bool> Roles(const Authid& authid, std::span<const std::string> path) const;
  // True if `authid` has any of `privs` by a role propagated onto `path`, or by any role on
  // `path` or below it.
  bool AnyPrivsBelow(const Authid& authid, std::span<const std::string> path, uint64_t privs) const;

  // Grants `role` at `path`. InvalidArgument for an invalid path or unknown role.
  Status AddUserRole(std::string_view path, const Authid& authid, std::string_view role,
                     bool propagate);
  Status AddGroupRole(std::string_view path, std::string_view group, std::string_view role,
                      bool propagate);
  // Revokes `role` at `path` whatever its propagate flag; nothing happens if it is not there.
  void RemoveUserRole(std::string_view path, const Authid& authid, std::string_view role);
  void RemoveGroupRole(std::string_view path, std::string_view group, std::string_view role);
  // Removes every grant to `authid` (when a user or token is deleted).
  void RemoveAuthid(const Authid& authid);

  // Every grant (root@pam's excepted), a node before its children (by name), users before
  // groups.
  std::vector<AclEntry> Entries() const;
  // The path of every node of the tree but the root ("/datastore", "/datastore/s1", ...).
  std::vector<std::string> NodePaths() const;

 private:
  using RoleMap = std::map<std::string, bool>;  // role -> propagate
  struct Node {
    std::map<Authid, RoleMap> users;
    std::map<std::string, RoleMap> groups;
    std::map<std::string, Node> children;
  };
  static void InsertRole(RoleMap* roles, const std::string& role, bool propagate);
  static RoleMap ExtractRoles(const Node& node, const Authid& authid, bool leaf);
  static bool NodeAnyPrivs(const Node& node, const Authid& authid, uint64_t privs,
                           bool only_propagated);
  static bool SubtreeAnyPrivs(const Node& node, const Authid& authid, uint64_t privs);
  static void WriteNode(const Node& node, const std::string& path, std::string* out);
  Node* FindNode(std::string_view path);
  Node* GetOrInsertNode(std::string_view path);
  Status ParseLine(std::string_view line);

  Node root_;
  std::string digest_;
};

// Read-modify-write of `<config_dir>/acl.cfg` under its lock: loads it, fails with
// InvalidArgument if `expected_digest` is set and differs (config_file.h CheckDigest), runs
// `change`, and saves the tree if `change` returned OK.
Status ModifyAclConfig(const std::string& config_dir, std::string_view expected_digest,
                       const std::function<Status(AclTree&)>& change);

}  // namespace cairn::server
