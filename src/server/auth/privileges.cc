#include "server/auth/privileges.h"

#include <array>
#include <cstdint>

namespace cairn::server {
namespace {

using namespace priv;  // NOLINT(build/namespaces): the tables below read better

constexpr std::array<PrivilegeInfo, 23> kPrivileges = {{
    {"Sys.Audit", kSysAudit},
    {"Sys.Modify", kSysModify},
    {"Sys.PowerManagement", kSysPowerManagement},
    {"Datastore.Audit", kDatastoreAudit},
    {"Datastore.Allocate", kDatastoreAllocate},
    {"Datastore.Modify", kDatastoreModify},
    {"Datastore.Read", kDatastoreRead},
    {"Datastore.Verify", kDatastoreVerify},
    {"Datastore.Backup", kDatastoreBackup},
    {"Datastore.Prune", kDatastorePrune},
    {"Permissions.Modify", kPermissionsModify},
    {"Remote.Audit", kRemoteAudit},
    {"Remote.Modify", kRemoteModify},
    {"Remote.Read", kRemoteRead},
    {"Remote.DatastoreBackup", kRemoteDatastoreBackup},
    {"Remote.DatastoreModify", kRemoteDatastoreModify},
    {"Remote.DatastorePrune", kRemoteDatastorePrune},
    {"Sys.Console", kSysConsole},
    {"Tape.Audit", kTapeAudit},
    {"Tape.Modify", kTapeModify},
    {"Tape.Write", kTapeWrite},
    {"Tape.Read", kTapeRead},
    {"Realm.Allocate", kRealmAllocate},
}};

constexpr std::array<RoleInfo, 18> kRoles = {{
    {"Admin", UINT64_MAX, "Administrator"},
    {"Audit", kSysAudit | kDatastoreAudit, "Auditor"},
    {"NoAccess", 0, "Disable Access"},
    {"DatastoreAdmin",
     kDatastoreAudit | kDatastoreModify | kDatastoreRead | kDatastoreVerify | kDatastoreBackup |
         kDatastorePrune,
     "Datastore Administrator"},
    {"DatastoreReader", kDatastoreAudit | kDatastoreVerify | kDatastoreRead,
     "Datastore Reader (inspect datastore content and do restores)"},
    {"DatastoreBackup", kDatastoreBackup, "Datastore Backup (backup and restore owned backups)"},
    {"DatastorePowerUser", kDatastorePrune | kDatastoreBackup,
     "Datastore PowerUser (backup, restore and prune owned backup)"},
    {"DatastoreAudit", kDatastoreAudit, "Datastore Auditor"},
    {"RemoteAudit", kRemoteAudit, "Remote Auditor"},
    {"RemoteAdmin", kRemoteAudit | kRemoteModify | kRemoteRead, "Remote Administrator"},
    {"RemoteSyncOperator", kRemoteAudit | kRemoteRead, "Synchronization Operator"},
    {"RemoteSyncPushOperator", kRemoteAudit | kRemoteDatastoreBackup,
     "Synchronisation Operator (push direction)"},
    {"RemoteDatastorePowerUser", kRemoteAudit | kRemoteDatastoreBackup | kRemoteDatastorePrune,
     "Remote Datastore Prune"},
    {"RemoteDatastoreAdmin",
     kRemoteAudit | kRemoteDatastoreBackup | kRemoteDatastoreModify | kRemoteDatastorePrune,
     "Remote Datastore Admin"},
    {"TapeAudit", kTapeAudit, "Tape Auditor"},
    {"TapeAdmin", kTapeAudit | kTapeModify | kTapeRead | kTapeWrite, "Tape Administrator"},
    {"TapeOperator", kTapeAudit | kTapeRead | kTapeWrite, "Tape Operator"},
    {"TapeReader", kTapeAudit | kTapeRead, "Tape Reader"},
}};

}  // namespace

std::span<const PrivilegeInfo> AllPrivilegeInfos() {
  return kPrivileges;
}
std::span<const RoleInfo> AllRoles() {
  return kRoles;
}

std::optional<uint64_t> RolePrivileges(std::string_view role) {
  for (const RoleInfo& r : kRoles) {
    if (r.name == role) return r.privileges;
  }
  return std::nullopt;
}

std::optional<uint64_t> PrivilegeBit(std::string_view name) {
  for (const PrivilegeInfo& p : kPrivileges) {
    if (p.name == name) return p.bit;
  }
  return std::nullopt;
}

std::string PrivilegeNames(uint64_t privs, std::string_view separator) {
  std::string out;
  for (const PrivilegeInfo& p : kPrivileges) {
    if ((privs & p.bit) == 0) continue;
    if (!out.empty()) out.append(separator);
    out.append(p.name);
  }
  return out;
}

}  // namespace cairn::server
