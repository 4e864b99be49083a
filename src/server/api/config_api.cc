// Configuration routes: datastores (config/datastore: create and delete run as tasks, update
// sets the maintenance mode and tuning), S3 endpoints (config/s3, never answering a secret key),
// the S3 connectivity check, and status/datastore-usage.
#include <sys/statvfs.h>

#include <fmt/format.h>

#include "base/file_util.h"
#include "config/datastore_admin.h"
#include "config/s3_endpoints.h"
#include "s3/client.h"
#include "s3/probe.h"
#include "server/access_control.h"
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/auth/crypto_util.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

using nlohmann::json;

// Serialises changes of the config files made by this server's API (the CLI on the same
// machine is the admin's own business, as with PBS's tools).
Mutex config_mu;

json EntryJson(const std::string& name, const config::DatastoreEntry& entry) {
  json item = {{"name", name}, {"path", entry.path}};
  if (entry.backend == "s3") {
    item["backend"] = fmt::format("type=s3,client={},bucket={}", entry.s3_endpoint, entry.bucket);
    if (entry.max_cache_size > 0) item["max-cache-size"] = entry.max_cache_size;
  }
  if (!entry.tuning.empty()) item["tuning"] = config::FormatDatastoreTuning(entry.tuning);
  return item;
}

std::string FileDigest(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? Sha256Hex(*data) : Sha256Hex({});
}

// PBS's backend property string: "type=filesystem" or "type=s3,client=ID,bucket=NAME".
Status ParseBackend(std::string_view text, config::CreateDatastoreRequest& request) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("backend: expected key=value, got '" + std::string(item) +
                                     "'");
    }
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "type") {
      request.backend = std::string(value);
    } else if (key == "client") {
      request.s3_endpoint = std::string(value);
    } else if (key == "bucket") {
      request.bucket = std::string(value);
    } else {
      return Status::InvalidArgument("backend: unknown key '" + std::string(key) + "'");
    }
  }
  return Status::OK();
}

Result<ApiReply> ListDatastoreConfig(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  json out = json::array();
  for (const auto& [name, entry] : config.datastores()) {
    if ((call.Privileges(DatastoreAclPath(name)) & priv::kDatastoreAudit) == 0) continue;
    out.push_back(EntryJson(name, entry));
  }
  ApiReply reply(std::move(out));
  reply.attributes["digest"] = FileDigest(JoinPath(config.dir(), "datastore.json"));
  return reply;
}

Result<ApiReply> GetDatastoreConfig(ApiCall& call) {
  std::string name = call.params().String("name");
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreEntry entry, config.Get(name));
  json item = EntryJson(name, entry);
  auto opened = call.context().stores().Open(name, Operation::kLookup);
  if (opened.ok()) {
    auto mode = opened->store->GetMaintenanceMode();
    if (mode.ok() && mode->type != MaintenanceType::kNone) {
      item["maintenance-mode"] = "type=" + std::string(MaintenanceTypeName(mode->type)) +
                                 (mode->message.empty() ? "" : ",message=" + mode->message);
    }
  }
  ApiReply reply(std::move(item));
  reply.attributes["digest"] = FileDigest(JoinPath(config.dir(), "datastore.json"));
  return reply;
}

Result<ApiReply> CreateDatastoreRoute(ApiCall& call) {
  const Params& params = call.params();
  config::CreateDatastoreRequest request;
  request.name = params.String("name");
  request.path = params.String("path");
  CAIRN_RETURN_IF_ERROR(
      ParseBackend(params.OptString("backend").value_or("type=filesystem"), request));
  request.max_cache_size = static_cast<uint64_t>(params.Integer("max-cache-size", 0));
  CAIRN_ASSIGN_OR_RETURN(request.tuning,
                         config::ParseDatastoreTuning(params.OptString("tuning").value_or("")));
  request.reuse = params.Boolean("reuse-datastore", false);
  request.overwrite_in_use = params.Boolean("overwrite-in-use", false);
  request.hostname = call.context().node();
  CAIRN_RETURN_IF_ERROR(config::ValidateCreateDatastoreRequest(request));
  std::string config_dir = call.context().config_dir();
  CAIRN_ASSIGN_OR_RETURN(Upid upid,
                         call.context().tasks().Spawn(
                             "create-datastore", request.name, call.auth_id().ToString(),
                             [config_dir, request](const JobControl& job) -> Status {
                               MutexLock lock(config_mu);
                               CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config,
                                                      config::DatastoreConfig::Load(config_dir));
                               CAIRN_ASSIGN_OR_RETURN(config::CreateDatastoreOutcome outcome,
                                                      config::CreateDatastore(config, request));
                               job.Info("{}", outcome.summary);
                               return Status::OK();
                             }));
  return ApiReply(upid.ToString());
}

Result<ApiReply> DeleteDatastoreRoute(ApiCall& call) {
  std::string name = call.params().String("name");
  bool destroy = call.params().Boolean("destroy-data", false);
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  CAIRN_RETURN_IF_ERROR(config.Get(name).status());
  std::string config_dir = call.context().config_dir();
  StoreRegistry* stores = &call.context().stores();
  CAIRN_ASSIGN_OR_RETURN(
      Upid upid, call.context().tasks().Spawn(
                     "delete-datastore", name, call.auth_id().ToString(),
                     [config_dir, name, destroy, stores](const JobControl& job) -> Status {
                       MutexLock lock(config_mu);
                       stores->Forget(name);
                       CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config,
                                              config::DatastoreConfig::Load(config_dir));
                       CAIRN_RETURN_IF_ERROR(config::RemoveDatastore(
                           config, name, destroy, std::chrono::seconds(60), job));
                       job.Info("removed datastore '{}'{}", name, destroy ? " and its data" : "");
                       return Status::OK();
                     },
                     /*unique=*/true));
  return ApiReply(upid.ToString());
}

// Property string "type=read-only,message=..." (or just "offline") to a mode.
Result<MaintenanceMode> ParseMaintenance(std::string_view text) {
  MaintenanceMode mode;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    std::string_view key = eq == std::string_view::npos ? "type" : item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? item : item.substr(eq + 1);
    if (key == "type") {
      auto type = ParseMaintenanceType(value);
      if (!type.ok()) return type.status().WithContext("maintenance-mode");
      mode.type = *type;
    } else if (key == "message") {
      mode.message = std::string(value);
    } else {
      return Status::InvalidArgument("maintenance-mode: unknown key '" + std::string(key) + "'");
    }
  }
  return mode;
}

Result<ApiReply> UpdateDatastoreConfig(ApiCall& call) {
  std::string name = call.params().String("name");
  MutexLock lock(config_mu);
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreEntry entry, config.Get(name));
  if (auto digest = call.params().OptString("digest")) {
    if (*digest != FileDigest(JoinPath(config.dir(), "datastore.json"))) {
      return Status::InvalidArgument(
          "detected modified configuration - file changed by other user? Try again.");
    }
  }
  MaintenanceMode mode;  // none, unless given
  bool change_mode = false;
  std::optional<config::DatastoreTuning> tuning;
  if (auto text = call.params().OptString("maintenance-mode")) {
    CAIRN_ASSIGN_OR_RETURN(mode, ParseMaintenance(*text));
    change_mode = true;
  }
  if (auto text = call.params().OptString("tuning")) {
    CAIRN_ASSIGN_OR_RETURN(tuning, config::ParseDatastoreTuning(*text));
  }
  for (const std::string& field : call.params().StringArray("delete")) {
    if (field == "maintenance-mode") {
      change_mode = true;
    } else if (field == "tuning") {
      tuning = config::DatastoreTuning{};
    } else {
      return Status::InvalidArgument("delete: cannot delete property '" + field + "'");
    }
  }
  if (tuning && *tuning != entry.tuning) {
    CAIRN_RETURN_IF_ERROR(config.SetTuning(name, *tuning));
  }
  if (change_mode) {
    CAIRN_ASSIGN_OR_RETURN(OpenStore opened,
                           call.context().stores().Open(name, Operation::kLookup));
    CAIRN_RETURN_IF_ERROR(opened.store->SetMaintenanceMode(mode));
  }
  return ApiReply(json());
}

// --- S3 endpoints ---

std::string S3AclPath(std::string_view id) {
  return "/system/s3-endpoint/" + std::string(id);
}

json EndpointJson(const s3::EndpointConfig& endpoint) {
  json item = config::EndpointSettingsToJson(endpoint);
  item["id"] = endpoint.id;
  return item;
}

Result<ApiReply> ListS3(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  json out = json::array();
  for (const auto& [id, endpoint] : store.endpoints()) {
    if ((call.Privileges(S3AclPath(id)) & priv::kSysAudit) == 0) continue;
    out.push_back(EndpointJson(endpoint));
  }
  ApiReply reply(std::move(out));
  reply.attributes["digest"] = FileDigest(JoinPath(call.context().config_dir(), "s3.json"));
  return reply;
}

Result<ApiReply> GetS3(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint, store.Get(call.params().String("id")));
  return ApiReply(EndpointJson(endpoint));
}

// The endpoint settings given as parameters, over `base` (for updates).
Result<s3::EndpointConfig> EndpointFromParams(const Params& params, json base) {
  for (const auto& [key, value] : params.json().items()) {
    if (key == "id" || key == "secret-key" || key == "digest" || key == "delete") continue;
    base[key] = value;
  }
  for (const std::string& field : params.StringArray("delete")) base.erase(field);
  for (auto& [key, value] : base.items()) {
    // Counts are unsigned in the settings file.
    if (value.is_number_integer() && value.get<int64_t>() >= 0) value = value.get<uint64_t>();
  }
  auto endpoint = config::EndpointSettingsFromJson(params.String("id"), base);
  // (S3EndpointStore::Add and Replace validate the whole config, the secret included.)
  if (!endpoint.ok()) return Status::InvalidArgument(endpoint.status().message());
  return endpoint;
}

Result<ApiReply> CreateS3(ApiCall& call) {
  MutexLock lock(config_mu);
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint,
                         EndpointFromParams(call.params(), json::object()));
  endpoint.credentials.secret_key = call.params().String("secret-key");
  CAIRN_RETURN_IF_ERROR(store.Add(endpoint));
  return ApiReply(json());
}

Result<ApiReply> UpdateS3(ApiCall& call) {
  MutexLock lock(config_mu);
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig old, store.Get(call.params().String("id")));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint,
                         EndpointFromParams(call.params(), config::EndpointSettingsToJson(old)));
  endpoint.credentials.secret_key =
      call.params().OptString("secret-key").value_or(old.credentials.secret_key);
  CAIRN_RETURN_IF_ERROR(store.Replace(endpoint));
  return ApiReply(json());
}

Result<ApiReply> DeleteS3(ApiCall& call) {
  MutexLock lock(config_mu);
  std::string id = call.params().String("id");
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig datastores, call.context().stores().LoadConfig());
  for (const auto& [name, entry] : datastores.datastores()) {
    if (entry.backend == "s3" && entry.s3_endpoint == id) {
      return Status::InvalidArgument("in-use by datastore " + name);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_RETURN_IF_ERROR(store.Remove(id));
  return ApiReply(json());
}

Result<ApiReply> ListBuckets(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint, store.Get(call.params().String("id")));
  CAIRN_ASSIGN_OR_RETURN(auto client, s3::S3Client::Create(endpoint, ""));
  CAIRN_ASSIGN_OR_RETURN(auto buckets, client->ListBuckets());
  json out = json::array();
  for (const s3::BucketInfo& bucket : buckets) {
    out.push_back({{"name", bucket.name}, {"creation-date", bucket.created}});
  }
  return ApiReply(std::move(out));
}

Result<ApiReply> CheckS3(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                         config::S3EndpointStore::Load(call.context().config_dir()));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint, store.Get(call.params().String("id")));
  CAIRN_ASSIGN_OR_RETURN(s3::ProbeReport report,
                         s3::ProbeEndpoint(endpoint, call.params().String("bucket")));
  json checks = json::array();
  for (const s3::ProbeCheck& check : report.checks) {
    checks.push_back({{"check", check.name}, {"ok", check.ok}, {"detail", check.detail}});
  }
  if (!report.ok()) {
    std::string failed;
    for (const s3::ProbeCheck& check : report.checks) {
      if (!check.ok)
        failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ", check.name, check.detail);
    }
    return Status::InvalidArgument("S3 endpoint check failed: " + failed);
  }
  return ApiReply(
      json{{"ok", true}, {"checks", checks}, {"clock-skew-seconds", report.clock_skew_seconds}});
}

Result<ApiReply> DatastoreUsage(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  json out = json::array();
  for (const auto& [name, entry] : config.datastores()) {
    std::string acl = DatastoreAclPath(name);
    bool full = (call.Privileges(acl) & (priv::kDatastoreAudit | priv::kDatastoreBackup)) != 0;
    if (!full) {
      if (call.context().access().AnyPrivilegesBelow(call.auth_id(), acl, kNamespacePrivsOk,
                                                     call.context().Now())) {
        out.push_back({{"store", name}});
      }
      continue;
    }
    json item = {
        {"store", name}, {"mount-status", "nonremovable"}, {"backend-type", entry.backend}};
    auto opened = call.context().stores().Open(name, Operation::kLookup);
    struct statvfs vfs;
    if (!opened.ok()) {
      item["error"] = opened.status().message();
    } else if (::statvfs(opened->store->path().c_str(), &vfs) == 0) {
      item["total"] = vfs.f_blocks * vfs.f_frsize;
      item["used"] = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
      item["avail"] = vfs.f_bavail * vfs.f_frsize;
    }
    out.push_back(std::move(item));
  }
  return ApiReply(std::move(out));
}

std::vector<ParamSpec> S3SettingParams(bool create) {
  ParamSpec secret = ParamSpec::String("secret-key", "Secret key (never shown again).", 256);
  std::vector<ParamSpec> out{
      ParamSpec::String("id", "Endpoint id.", 32).Required(),
      create ? ParamSpec::String("endpoint", "Host or URL.", 256).Required()
             : ParamSpec::String("endpoint", "Host or URL.", 256),
      ParamSpec::String("region", "Region.", 64),
      create ? ParamSpec::String("access-key", "Access key id.", 256).Required()
             : ParamSpec::String("access-key", "Access key id.", 256),
      create ? secret.Required() : secret,
      ParamSpec::Integer("port", "TCP port.", 1, 65535),
      ParamSpec::Boolean("path-style", "Path-style addressing."),
      ParamSpec::String("fingerprint", "Pinned TLS certificate fingerprint.", 128),
      ParamSpec::Integer("put-rate-limit", "PUT requests per second (0 = unlimited).", 0),
      ParamSpec::Integer("rate-in", "Download bytes per second (0 = unlimited).", 0),
      ParamSpec::Integer("burst-in", "Download burst, bytes.", 0),
      ParamSpec::Integer("rate-out", "Upload bytes per second (0 = unlimited).", 0),
      ParamSpec::Integer("burst-out", "Upload burst, bytes.", 0),
      ParamSpec::Integer("max-connections", "Concurrent requests.", 1, 1024),
      ParamSpec::StringArray("provider-quirks", "Provider quirks to work around."),
  };
  if (!create) {
    out.push_back(ParamSpec::String("digest", "Digest of the config read before.", 64));
    out.push_back(ParamSpec::StringArray("delete", "Settings to reset to their defaults."));
  }
  return out;
}

ParamSpec NameParam() {
  return ParamSpec::String("name", "Datastore name.", 32).Required();
}

ParamSpec TuningParam() {
  return ParamSpec::String("tuning",
                           "gc-atime-cutoff=MINUTES,gc-atime-safety-check=BOOL,"
                           "gc-cache-capacity=DIGESTS (any of them)",
                           256);
}

}  // namespace

void AddConfigRoutes(Router& router) {
  router.Add({.method = "GET",
              .path = "/config/datastore",
              .description = "List datastore configurations (attribute digest).",
              .access = Access::Handler("lists stores with Datastore.Audit on /datastore/{name}"),
              .handler = ListDatastoreConfig});
  router.Add(
      {.method = "POST",
       .path = "/config/datastore",
       .description = "Create a datastore (task create-datastore).",
       .params =
           {NameParam(), ParamSpec::String("path", "Absolute path.", 4096).Required(),
            ParamSpec::String("backend",
                              "type=filesystem (default) or "
                              "type=s3,client=<endpoint id>,bucket=<bucket>",
                              256),
            ParamSpec::Integer("max-cache-size", "S3: local cache bound, bytes.", 0), TuningParam(),
            ParamSpec::Boolean("reuse-datastore", "S3: attach to the datastore in the bucket."),
            ParamSpec::Boolean("overwrite-in-use", "S3: take over a prefix in use elsewhere.")},
       .access = Access::Privileges("/datastore", priv::kDatastoreAllocate),
       .handler = CreateDatastoreRoute});
  router.Add({.method = "GET",
              .path = "/config/datastore/{name}",
              .description = "A datastore's configuration (attribute digest).",
              .params = {NameParam()},
              .access = Access::Privileges("/datastore/{name}", priv::kDatastoreAudit),
              .handler = GetDatastoreConfig});
  router.Add({.method = "PUT",
              .path = "/config/datastore/{name}",
              .description = "Update a datastore: its maintenance mode and tuning.",
              .params = {NameParam(),
                         ParamSpec::String("maintenance-mode",
                                           "type=read-only|offline[,message=TEXT]", 128),
                         TuningParam(),
                         ParamSpec::StringArray("delete",
                                                "Properties to clear "
                                                "(maintenance-mode, tuning)."),
                         ParamSpec::String("digest", "Digest of the config read before.", 64)},
              .access = Access::Privileges("/datastore/{name}", priv::kDatastoreModify),
              .handler = UpdateDatastoreConfig});
  router.Add(
      {.method = "DELETE",
       .path = "/config/datastore/{name}",
       .description = "Remove a datastore (task delete-datastore).",
       .params = {NameParam(), ParamSpec::Boolean("destroy-data", "Also delete all its data."),
                  ParamSpec::Boolean("keep-job-configs", "Accepted for PBS clients.")},
       .access = Access::Privileges("/datastore/{name}", priv::kDatastoreAllocate),
       .handler = DeleteDatastoreRoute});
  router.Add({.method = "GET",
              .path = "/config/s3",
              .description = "List S3 endpoints, without secrets (attribute digest).",
              .access = Access::Handler("lists endpoints with Sys.Audit on "
                                        "/system/s3-endpoint/{id}"),
              .handler = ListS3});
  router.Add({.method = "POST",
              .path = "/config/s3",
              .description = "Add an S3 endpoint.",
              .params = S3SettingParams(true),
              .access = Access::Privileges("/system/s3-endpoint", priv::kSysModify),
              .handler = CreateS3});
  ParamSpec id = ParamSpec::String("id", "Endpoint id.", 32).Required();
  router.Add({.method = "GET",
              .path = "/config/s3/{id}",
              .description = "An S3 endpoint, without its secret.",
              .params = {id},
              .access = Access::Privileges("/system/s3-endpoint/{id}", priv::kSysAudit),
              .handler = GetS3});
  router.Add({.method = "PUT",
              .path = "/config/s3/{id}",
              .description = "Update an S3 endpoint.",
              .params = S3SettingParams(false),
              .access = Access::Privileges("/system/s3-endpoint/{id}", priv::kSysModify),
              .handler = UpdateS3});
  router.Add({.method = "DELETE",
              .path = "/config/s3/{id}",
              .description = "Remove an S3 endpoint no datastore uses.",
              .params = {id},
              .access = Access::Privileges("/system/s3-endpoint/{id}", priv::kSysModify),
              .handler = DeleteS3});
  router.Add({.method = "GET",
              .path = "/config/s3/{id}/list-buckets",
              .description = "The buckets the endpoint's credentials own.",
              .params = {id},
              .access = Access::Privileges("/", priv::kSysAudit),
              .handler = ListBuckets});
  router.Add({.method = "PUT",
              .path = "/admin/s3/{id}/check",
              .description = "Probe an endpoint and bucket: access, addressing, clock, quirks.",
              .params = {id, ParamSpec::String("bucket", "Bucket.", 63).Required(),
                         ParamSpec::String("store-prefix", "Accepted for PBS clients.", 64)},
              .access = Access::Privileges("/system/s3-endpoint/{id}", priv::kSysModify),
              .handler = CheckS3});
  router.Add({.method = "GET",
              .path = "/status/datastore-usage",
              .description = "Usage of every datastore the caller may see.",
              .access = Access::Handler("full entries with Datastore.Audit or Backup on the "
                                        "store; only the name with a namespace privilege below it"),
              .handler = DatastoreUsage});
}

}  // namespace cairn::server
