// ApiCall is one authenticated (or, for World routes, anonymous) call of a REST route as its
// handler sees it: the request, the checked parameters, who is calling, and the server's
// services. Its access helpers implement PBS's checks on top of the ACLs: privileges on a path,
// the namespace check with "partial = owned groups only", and the owner rule.
//
// Ownership: lives for one call; borrows everything it points to.
// Thread-safety: used by one handler thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "http/server.h"
#include "server/auth/auth_id.h"
#include "server/auth/user_info.h"
#include "server/rest/formatter.h"
#include "server/rest/params.h"
#include "types/backup_names.h"

namespace cairn::server {

class ServerContext;

class ApiCall {
 public:
  ApiCall(ServerContext& context, const http::ServerRequest& request, Params params,
          std::optional<Authid> auth_id, OutputFormat format)
      : context_(context),
        request_(request),
        params_(std::move(params)),
        auth_id_(std::move(auth_id)),
        format_(format) {}

  ServerContext& context() const { return context_; }
  const http::ServerRequest& request() const { return request_; }
  const Params& params() const { return params_; }
  OutputFormat format() const { return format_; }
  bool authenticated() const { return auth_id_.has_value(); }
  // REQUIRES: authenticated().
  const Authid& auth_id() const { return *auth_id_; }

  // The caller's privilege bits on ACL path `acl_path` ("/datastore/store1/ns"); 0 when
  // anonymous.
  uint64_t Privileges(std::string_view acl_path) const;
  // PermissionDenied "permission check failed - missing <privs> on <path>" unless the caller
  // holds any of `any_of` there.
  Status Require(std::string_view acl_path, uint64_t any_of) const;
  // Access to the groups of namespace `ns` of `store`: kFull with any of `full`,
  // kPartialOwnedOnly with any of `partial`, else PermissionDenied.
  Result<NamespaceAccess> CheckNamespace(std::string_view store, const BackupNamespace& ns,
                                         uint64_t full, uint64_t partial) const;
  // Whether the caller owns a group owned by `owner` (the owner, or a token of that user).
  bool Owns(std::string_view owner) const;
  // PBS's owner rule: `auth` owns what `owner` owns if they are the same, or `owner` is one of
  // `auth`'s tokens. False for an `owner` that is not an auth id.
  static bool IsOwner(std::string_view owner, const Authid& auth);
  // With kPartialOwnedOnly access, PermissionDenied unless the caller owns `owner`'s group.
  Status RequireOwner(NamespaceAccess access, std::string_view owner) const;

 private:
  ServerContext& context_;
  const http::ServerRequest& request_;
  Params params_;
  std::optional<Authid> auth_id_;
  OutputFormat format_;
};

// The ACL path of a datastore or one of its namespaces: /datastore/<store>[/<ns components>].
std::string DatastoreAclPath(std::string_view store, const BackupNamespace& ns = {});

}  // namespace cairn::server
