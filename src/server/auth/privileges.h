// Privileges and roles, exactly as PBS's pbs-api-types acl.rs (spec 4.3). A privilege is one
// bit, assigned in declaration order from bit 0; a role is a fixed set of privileges. ACL
// entries (acl.h) grant roles; permission checks (user_info.h) test privilege bits.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cairn::server {

namespace priv {
inline constexpr uint64_t kSysAudit = 1ull << 0;
inline constexpr uint64_t kSysModify = 1ull << 1;
inline constexpr uint64_t kSysPowerManagement = 1ull << 2;
inline constexpr uint64_t kDatastoreAudit = 1ull << 3;
inline constexpr uint64_t kDatastoreAllocate = 1ull << 4;
inline constexpr uint64_t kDatastoreModify = 1ull << 5;
inline constexpr uint64_t kDatastoreRead = 1ull << 6;
inline constexpr uint64_t kDatastoreVerify = 1ull << 7;
inline constexpr uint64_t kDatastoreBackup = 1ull << 8;
inline constexpr uint64_t kDatastorePrune = 1ull << 9;
inline constexpr uint64_t kPermissionsModify = 1ull << 10;
inline constexpr uint64_t kRemoteAudit = 1ull << 11;
inline constexpr uint64_t kRemoteModify = 1ull << 12;
inline constexpr uint64_t kRemoteRead = 1ull << 13;
inline constexpr uint64_t kRemoteDatastoreBackup = 1ull << 14;
inline constexpr uint64_t kRemoteDatastoreModify = 1ull << 15;
inline constexpr uint64_t kRemoteDatastorePrune = 1ull << 16;
inline constexpr uint64_t kSysConsole = 1ull << 17;
inline constexpr uint64_t kTapeAudit = 1ull << 18;
inline constexpr uint64_t kTapeModify = 1ull << 19;
inline constexpr uint64_t kTapeWrite = 1ull << 20;
inline constexpr uint64_t kTapeRead = 1ull << 21;
inline constexpr uint64_t kRealmAllocate = 1ull << 22;
}  // namespace priv

// Every defined privilege bit.
inline constexpr uint64_t kAllPrivileges = (1ull << 23) - 1;
// Any of these on a namespace makes it visible (PBS NS_PRIVS_OK).
inline constexpr uint64_t kNamespacePrivsOk =
    priv::kDatastoreModify | priv::kDatastoreRead | priv::kDatastoreBackup | priv::kDatastoreAudit;

inline constexpr char kRoleNoAccess[] = "NoAccess";

struct PrivilegeInfo {
  std::string_view name;  // "Datastore.Audit"
  uint64_t bit;
};

struct RoleInfo {
  std::string_view name;  // "DatastoreAdmin"
  uint64_t privileges;    // Admin: all 64 bits, as PBS's u64::MAX
  std::string_view description;
};

// In bit order.
std::span<const PrivilegeInfo> AllPrivilegeInfos();
// In PBS's declaration order: Admin, Audit, NoAccess, Datastore*, Remote*, Tape*.
std::span<const RoleInfo> AllRoles();

// Privileges of a role; nullopt for an unknown role name (names are case-sensitive).
std::optional<uint64_t> RolePrivileges(std::string_view role);
// The bit of a privilege name; nullopt if unknown.
std::optional<uint64_t> PrivilegeBit(std::string_view name);

// Names of the defined privileges in `privs`, in bit order, joined by `separator`
// ("Datastore.Audit|Datastore.Backup"). Undefined bits are ignored.
std::string PrivilegeNames(uint64_t privs, std::string_view separator);

}  // namespace cairn::server
