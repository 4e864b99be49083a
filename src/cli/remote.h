// The CLI's commands against a server (`--repository [[auth-id@]host[:port]:]store`): each runs
// the REST calls PBS's client makes for the same command and prints what the local command
// prints, so scripts work against a local store and a server alike (docs/cli.md).
//
// Thread-safety: single-threaded, like the CLI.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cli/context.h"
#include "client/remote/api_client.h"
#include "types/backup_names.h"

namespace cairn::cli {

// ns, backup-type, backup-id (+ backup-time) of a group or snapshot, as API parameters.
nlohmann::json GroupParams(const BackupNamespace& ns, const BackupGroup& group);
nlohmann::json SnapshotParams(const BackupNamespace& ns, const SnapshotRef& snap);
// The path below /api2/json of the repository's datastore, e.g. "/admin/datastore/s1".
std::string StorePath(const client::ApiClient& api);

// Prints a started task's log to stderr as it grows and waits until it ends; OK if it ended
// OK (or with warnings), else an error with the task's message.
Status FollowTask(client::ApiClient& api, const std::string& upid);

Status RemoteListSnapshots(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                           const std::string& group);
// The snapshot and group commands; `snapshot` and `group` as typed ("vm/100/2026-…Z",
// "vm/100"); `set` notes replace the old ones.
Status RemoteSnapshotFiles(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                           const std::string& snapshot);
Status RemoteForget(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                    const std::string& snapshot);
Status RemoteNotes(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                   const std::string& snapshot, const std::optional<std::string>& set);
Status RemoteProtect(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                     const std::string& snapshot, bool value);
Status RemoteGroupNotes(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                        const std::string& group, const std::optional<std::string>& set);
Status RemoteGroupRemove(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                         const std::string& group);
Status RemoteNamespaceCreate(const Context& ctx, client::ApiClient& api, const std::string& ns);
Status RemoteNamespaceRemove(const Context& ctx, client::ApiClient& api, const std::string& ns,
                             bool delete_groups);
Status RemoteListGroups(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns);
Status RemoteNamespaces(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns);

// cairn task list|log|status|stop and cairn status (against a server).
void AddTaskCommands(CLI::App& app, Context& ctx);

}  // namespace cairn::cli
