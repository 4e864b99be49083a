// Maintenance modes of a datastore (PBS's, pbs-api-types/src/maintenance.rs) and the operations
// they block:
//
//   mode         blocks            set by
//   none         nothing
//   read-only    write             `cairn datastore maintenance --mode read-only`
//   offline      read, write       `cairn datastore maintenance --mode offline`
//   s3-refresh   read, write       the refresh itself, while it replaces the local metadata
//   delete       read, write       `cairn datastore remove`, while it lets go of the store
//
// Lookup (configuration, status) is never blocked. The mode is kept in the datastore's local
// directory (`.maintenance`, JSON {"type": "...", "message": "..."}; absent = none), so it
// binds every process that opens the store and survives a crash: a refresh that dies while
// swapping metadata leaves s3-refresh set until a refresh completes, and a removal that fails
// while deleting data leaves delete set until a removal completes.
//
// Thread-safety: pure functions and atomic file replacement.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

enum class MaintenanceType { kNone, kReadOnly, kOffline, kS3Refresh, kDelete };
enum class Operation { kLookup, kRead, kWrite };

struct MaintenanceMode {
  MaintenanceType type = MaintenanceType::kNone;
  std::string message;  // at most 64 characters, one line
};

std::string_view MaintenanceTypeName(MaintenanceType type);
// "none" | "read-only" | "offline" | "s3-refresh" | "delete"; InvalidArgument otherwise.
Result<MaintenanceType> ParseMaintenanceType(std::string_view text);

// OK if `mode` allows `op`; Busy naming the mode (and its message) otherwise.
Status CheckOperationAllowed(const MaintenanceMode& mode, Operation op);

// True for the modes only a job sets and only that job (run again) clears: s3-refresh and
// delete. A user cannot set or change them with `datastore maintenance`.
bool IsJobMode(MaintenanceType type);

// The mode stored in datastore directory `root` (none if there is no file). Corruption naming
// the file if it does not parse.
Result<MaintenanceMode> LoadMaintenanceMode(const std::string& root);
// Stores `mode` atomically (removes the file for none). InvalidArgument for a bad message.
Status SaveMaintenanceMode(const std::string& root, const MaintenanceMode& mode);

}  // namespace cairn
