// Fuzzes the validation of names that reach the datastore from users, clients and buckets:
// namespaces, backup groups, snapshot references, datastore names (types/backup_names.h) and
// archive file names (format/archive_name.h). Anything accepted must map to a relative path of
// plain components (no "", "." or ".." and no NUL) and read back to the same value from its
// own ToString; a server archive name made from a client name must be valid. UPIDs
// (types/upid.h, read from manifests' verify_state) must read back from their ToString.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/archive_name.h"
#include "fuzz_support.h"
#include "types/backup_names.h"
#include "types/upid.h"

namespace cairn {
namespace {

void CheckArchiveName(std::string_view name) {
  if (ValidateArchiveFileName(name).ok()) {
    FUZZ_CHECK(name.find('/') == name.npos && fuzz::IsPlainRelativePath(name) && name[0] != '.',
               "an unsafe archive file name was accepted");
    FUZZ_CHECK(ArchiveTypeOf(name).ok(), "a valid archive name has no type");
    FUZZ_CHECK(ClientArchiveName(name).ok(), "a valid archive name has no client name");
  }
  auto server = ServerArchiveName(name);
  if (server.ok()) {
    FUZZ_CHECK(ValidateArchiveFileName(*server).ok(), "ServerArchiveName made an invalid name");
  }
}

void FuzzNames(std::string_view text) {
  auto ns = BackupNamespace::Parse(text);
  if (ns.ok()) {
    FUZZ_CHECK(ns->depth() <= kMaxNamespaceDepth, "a namespace deeper than allowed");
    FUZZ_CHECK(ns->IsRoot() || fuzz::IsPlainRelativePath(ns->RelativePath()),
               "a namespace path is not plain");
    auto again = BackupNamespace::Parse(ns->ToString());
    FUZZ_CHECK(again.ok() && *again == *ns, "a namespace does not read back");
    FUZZ_CHECK(ns->IsWithin(ns->Parent()) && ns->IsWithin(BackupNamespace()),
               "a namespace is not within its parent");
    (void)ns->Child("child");
  }
  auto group = BackupGroup::Parse(text);
  if (group.ok()) {
    FUZZ_CHECK(fuzz::IsPlainRelativePath(group->ToString()), "a group path is not plain");
    auto again = BackupGroup::Parse(group->ToString());
    FUZZ_CHECK(again.ok() && *again == *group, "a group does not read back");
  }
  auto snap = SnapshotRef::Parse(text);
  if (snap.ok()) {
    FUZZ_CHECK(fuzz::IsPlainRelativePath(snap->ToString()), "a snapshot path is not plain");
    auto again = SnapshotRef::Parse(snap->ToString());
    FUZZ_CHECK(again.ok() && *again == *snap, "a snapshot does not read back");
  }
  if (ValidateDatastoreName(text).ok()) {
    FUZZ_CHECK(IsSafeId(text), "a datastore name that is not a SAFE_ID");
  }
  (void)ParseBackupType(text);
  CheckArchiveName(text);
  auto upid = Upid::Parse(text);
  if (upid.ok()) {
    auto again = Upid::Parse(upid->ToString());
    FUZZ_CHECK(again.ok() && again->node == upid->node && again->pid == upid->pid &&
                   again->pstart == upid->pstart && again->task_id == upid->task_id &&
                   again->starttime == upid->starttime && again->worker_type == upid->worker_type &&
                   again->worker_id == upid->worker_id && again->auth_id == upid->auth_id,
               "a UPID does not read back from its ToString");
  }
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzNames(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
