// Creating and opening datastores: the one place that chooses a backend.

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/log.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/datastore.h"

namespace cairn {
namespace {

// Written first when a datastore directory is prepared and removed last when the datastore is
// complete: a directory holding it is what a create or attach killed midway left (found by the
// crash campaign: such a leftover refused every later attempt with "already contains a
// datastore"), so the next create or attach clears it and starts again, and nothing opens it.
constexpr char kCreatingMarker[] = ".cairn-creating";

// Undoes PrepareLocalDirectory and anything a failed attach wrote, leaving `path` as empty as
// it was found.
void RemovePreparedDirectory(const std::string& path) {
  auto entries = ListDir(path);
  if (!entries.ok()) return;
  for (const auto& e : *entries) {
    if (e.name == "lost+found" || e.name == kCreatingMarker) continue;
    Status st = RemoveTree(JoinPath(path, e.name));
    if (!st.ok()) spdlog::warn("cleanup of {}: {}", path, st.ToString());
  }
  (void)RemoveFile(JoinPath(path, kCreatingMarker));  // last: the rest is gone
}

// Whether `path` holds what an interrupted creation left (the marker, or its temp file if
// killed while writing it).
bool HoldsUnfinishedCreation(const std::vector<DirEntry>& entries) {
  for (const auto& e : entries) {
    if (e.name.starts_with(kCreatingMarker)) return true;
  }
  return false;
}

// AlreadyExists unless `entries` (of `path`) hold nothing but lost+found.
Status CheckEmpty(const std::string& path, const std::vector<DirEntry>& entries) {
  for (const auto& e : entries) {
    if (e.name == ".chunks") {
      return Status::AlreadyExists(fmt::format("{} already contains a datastore", path));
    }
    if (e.name != "lost+found") {
      return Status::AlreadyExists(
          fmt::format("{} is not empty (found '{}'); use an empty directory", path, e.name));
    }
  }
  return Status::OK();
}

// Makes `path` a datastore directory (`.chunks/0000..ffff`, `.lock`) marked as being created.
// AlreadyExists if it holds anything but lost+found (or the leftover of an interrupted
// creation, which is cleared).
Status PrepareLocalDirectory(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("datastore path is empty");
  CAIRN_RETURN_IF_ERROR(MakeDirs(path, 0755));
  CAIRN_ASSIGN_OR_RETURN(auto entries, ListDir(path));
  if (HoldsUnfinishedCreation(entries)) {
    spdlog::info("{} holds a datastore whose creation was interrupted; starting again", path);
    RemovePreparedDirectory(path);
    return PrepareLocalDirectory(path);
  }
  CAIRN_RETURN_IF_ERROR(CheckEmpty(path, entries));
  CAIRN_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(path, kCreatingMarker), {}, 0644));
  ChunkStore chunks(path);
  CAIRN_RETURN_IF_ERROR(chunks.Create());
  return WriteFileAtomic(JoinPath(path, ".lock"), {}, 0644);
}

// Marks the datastore at `path` complete.
Status FinishPreparedDirectory(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(RemoveFile(JoinPath(path, kCreatingMarker)));
  return FsyncDir(path);
}

Status CheckLocalDatastore(const std::string& path) {
  Status st = ChunkStore(path).Verify();
  if (st.ok()) {
    CAIRN_ASSIGN_OR_RETURN(bool unfinished, PathExists(JoinPath(path, kCreatingMarker)));
    if (!unfinished) return st;
    st = Status::NotFound("its creation was interrupted; create it again");
  }
  return Status(st.code(), fmt::format("{} is not a datastore ({})", path, st.message()));
}

// The host named by the in-use marker at `key`: nullopt if there is no marker, "an unknown
// host" if it does not parse.
Result<std::optional<std::string>> ReadInUseHost(ObjectStore& objects, const std::string& key) {
  auto marker = objects.Get(key);
  if (!marker.ok()) {
    if (marker.status().IsNotFound()) return std::optional<std::string>();
    return marker.status();
  }
  auto json = nlohmann::json::parse(AsString(*marker), nullptr, false);
  if (json.is_object() && json.contains("hostname") && json["hostname"].is_string()) {
    return std::optional<std::string>(json["hostname"].get<std::string>());
  }
  return std::optional<std::string>("an unknown host");
}

Result<bool> PrefixHoldsData(ObjectStore& objects, const std::string& prefix,
                             const std::string& in_use_key) {
  bool found = false;
  CAIRN_RETURN_IF_ERROR(objects.List({prefix}, [&](const StoredObject& object) {
    found = object.key != in_use_key;
    return !found;
  }));
  return found;
}

}  // namespace

Result<DatastoreDirectoryState> Datastore::ExamineDirectory(const std::string& path) {
  auto entries = ListDir(path);
  if (!entries.ok()) {
    if (entries.status().IsNotFound()) return DatastoreDirectoryState::kAvailable;
    return entries.status();
  }
  if (HoldsUnfinishedCreation(*entries)) return DatastoreDirectoryState::kUnfinished;
  CAIRN_RETURN_IF_ERROR(CheckEmpty(path, *entries));
  return DatastoreDirectoryState::kAvailable;
}

Result<std::unique_ptr<Datastore>> Datastore::CreateFilesystem(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(PrepareLocalDirectory(path));
  CAIRN_RETURN_IF_ERROR(FinishPreparedDirectory(path));
  return OpenFilesystem(path);
}

Result<std::unique_ptr<Datastore>> Datastore::OpenFilesystem(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(CheckLocalDatastore(path));
  return std::unique_ptr<Datastore>(new Datastore(path, NewFilesystemBackend(path)));
}

Result<std::unique_ptr<Datastore>> Datastore::CreateOnObjectStore(
    const std::string& path, ObjectStoreDatastoreOptions options) {
  CAIRN_RETURN_IF_ERROR(ValidateDatastoreName(options.backend.store_name));
  ObjectStore& objects = *options.backend.objects;
  const std::string prefix = options.backend.store_name + "/";
  const std::string in_use_key = prefix + kInUseMarker;
  CAIRN_RETURN_IF_ERROR(objects.CheckAccess());
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> user, ReadInUseHost(objects, in_use_key));
  if (user && *user != options.hostname) {
    if (!options.overwrite_in_use) {
      return Status::AlreadyExists(
          fmt::format("{} prefix '{}' is in use by host '{}'; if that host no longer uses it, pass "
                      "--overwrite-in-use",
                      objects.Describe(), prefix, *user));
    }
    spdlog::warn("taking over datastore prefix '{}' marked as in use by host '{}'", prefix, *user);
  }
  CAIRN_ASSIGN_OR_RETURN(bool has_data, PrefixHoldsData(objects, prefix, in_use_key));
  const bool has_marker = user.has_value();
  if (has_data && !options.reuse) {
    return Status::AlreadyExists(
        fmt::format("{} already holds a datastore under '{}'; pass --reuse to attach to it",
                    objects.Describe(), prefix));
  }
  if (!has_data && !has_marker && options.reuse) {
    return Status::NotFound(
        fmt::format("{} holds no datastore under '{}' to reuse", objects.Describe(), prefix));
  }
  CAIRN_RETURN_IF_ERROR(PrepareLocalDirectory(path));
  auto attach = [&]() -> Result<std::unique_ptr<Datastore>> {
    nlohmann::json marker = {{"hostname", options.hostname}};
    CAIRN_RETURN_IF_ERROR(
        objects.Put(in_use_key, AsBytes(marker.dump()), PutMode::kReplace).status());
    // Opened directly: it is not complete (and does not open) before it holds its metadata.
    auto store = std::unique_ptr<Datastore>(
        new Datastore(path, NewObjectStoreBackend(path, options.backend)));
    if (options.reuse) CAIRN_RETURN_IF_ERROR(store->RefreshFromBackend({}).status());
    CAIRN_RETURN_IF_ERROR(FinishPreparedDirectory(path));
    return store;
  };
  auto store = attach();
  if (!store.ok()) RemovePreparedDirectory(path);
  return store;
}

Result<std::unique_ptr<Datastore>> Datastore::OpenOnObjectStore(const std::string& path,
                                                                ObjectStoreBackendOptions options) {
  CAIRN_RETURN_IF_ERROR(ValidateDatastoreName(options.store_name));
  CAIRN_RETURN_IF_ERROR(CheckLocalDatastore(path));
  return std::unique_ptr<Datastore>(
      new Datastore(path, NewObjectStoreBackend(path, std::move(options))));
}

}  // namespace cairn
