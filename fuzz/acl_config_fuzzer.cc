// Fuzzes the parser of `acl.cfg` (server/auth/acl.h, AclTree::Parse). Anything accepted must
// serialize to text that parses back to the same grants (root@pam's own are not written: it
// is always Admin), serialize the same way again, and only ever hold valid ACL paths. Role
// evaluation must agree between the two trees for every auth id and node path.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "fuzz_check.h"
#include "server/auth/acl.h"

namespace cairn::server {
namespace {

void FuzzAclConfig(std::string_view text) {
  auto tree = AclTree::Parse(text);
  if (!tree.ok()) return;
  const std::string once = tree->Serialize();
  auto again = AclTree::Parse(once);
  FUZZ_CHECK(again.ok(), "a serialized acl.cfg does not parse");
  FUZZ_CHECK(again->Serialize() == once, "serialization is not stable");
  const std::vector<AclEntry> entries = tree->Entries();
  FUZZ_CHECK(again->Entries() == entries, "grants changed in a round trip");
  std::set<std::string> authids;
  for (const AclEntry& e : entries) {
    FUZZ_CHECK(ValidateAclPath(e.path).ok(), "an invalid path was accepted");
    if (!e.is_group) authids.insert(e.ugid);
  }
  std::vector<std::string> paths = tree->NodePaths();
  paths.push_back("/");
  for (const std::string& id : authids) {
    auto authid = Authid::Parse(id);
    FUZZ_CHECK(authid.ok(), "an invalid auth id was accepted");
    for (const std::string& path : paths) {
      const std::vector<std::string> components = SplitAclPath(path);
      FUZZ_CHECK(tree->Roles(*authid, components) == again->Roles(*authid, components),
                 "role evaluation changed in a round trip");
    }
  }
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::server::FuzzAclConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
