// cairn s3 endpoint create|update|list|show|remove, cairn s3 check, cairn s3 ls,
// cairn s3 benchmark

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>
#include "base/file_util.h"
#include "base/time.h"
#include "cli/context.h"
#include "config/s3_endpoints.h"
#include "s3/client.h"
#include "s3/probe.h"
#include "storage/s3_object_store.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

// Options shared by `endpoint create` and `endpoint update`; unset options keep their value.
struct EndpointArgs {
  std::string id, endpoint, access_key, secret_key, secret_key_file, region, fingerprint;
  std::optional<uint16_t> port;
  std::optional<bool> path_style;
  std::optional<double> put_rate_limit;
  std::optional<uint64_t> rate_in, burst_in, rate_out, burst_out;
  std::optional<int> max_connections;
  std::vector<std::string> quirks;
  CLI::Option* quirks_option = nullptr;  // given (possibly empty, to clear)?
};

void AddEndpointOptions(CLI::App* cmd, EndpointArgs& a, bool create) {
  cmd->add_option("ID", a.id, "Endpoint id (3-32 characters of A-Z a-z 0-9 _ -)")->required();
  auto* endpoint = cmd->add_option("--endpoint", a.endpoint,
                                   "Host name, or URL (http:// only when written); may hold "
                                   "{{bucket}}. and {{region}}");
  auto* access = cmd->add_option("--access-key", a.access_key, "Access key id");
  auto* secret = cmd->add_option("--secret-key", a.secret_key, "Secret key");
  auto* secret_file = cmd->add_option("--secret-key-file", a.secret_key_file,
                                      "Read the secret key from this file (first line)");
  secret->excludes(secret_file);
  if (create) {
    endpoint->required();
    access->required();
  }
  cmd->add_option("--region", a.region, "Region (default us-west-1; 'auto' for R2)");
  cmd->add_option("--port", a.port, "TCP port");
  cmd->add_option("--path-style", a.path_style, "Path-style addressing (default: virtual-hosted)")
      ->expected(0, 1)
      ->default_str("true");
  cmd->add_option("--fingerprint", a.fingerprint,
                  "Pinned SHA-256 fingerprint of the server's TLS certificate (AA:BB:...)");
  cmd->add_option("--put-rate-limit", a.put_rate_limit, "PUT requests per second (0 = unlimited)");
  cmd->add_option("--rate-in", a.rate_in, "Download limit, bytes per second (0 = unlimited)");
  cmd->add_option("--burst-in", a.burst_in, "Download burst, bytes");
  cmd->add_option("--rate-out", a.rate_out, "Upload limit, bytes per second (0 = unlimited)");
  cmd->add_option("--burst-out", a.burst_out, "Upload burst, bytes");
  cmd->add_option("--max-connections", a.max_connections, "Concurrent requests (default 8)");
  a.quirks_option =
      cmd->add_option(
             "--provider-quirks", a.quirks,
             "skip-if-none-match-header, delete-objects-via-delete-object (comma separated; "
             "empty to clear)")
          ->delimiter(',')
          ->expected(0, -1);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  std::string secret(AsString(data));
  secret = secret.substr(0, secret.find('\n'));
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return Status::InvalidArgument(path + ": no secret key on the first line");
  return secret;
}

Status ApplyEndpointArgs(const EndpointArgs& a, s3::EndpointConfig& config) {
  config.id = a.id;
  if (!a.endpoint.empty()) config.endpoint = a.endpoint;
  if (!a.access_key.empty()) config.credentials.access_key = a.access_key;
  if (!a.secret_key.empty()) config.credentials.secret_key = a.secret_key;
  if (!a.secret_key_file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(config.credentials.secret_key, ReadSecretFile(a.secret_key_file));
  }
  if (!a.region.empty()) config.region = a.region;
  if (a.port) config.port = *a.port == 0 ? std::nullopt : a.port;
  if (a.path_style) config.path_style = *a.path_style;
  if (!a.fingerprint.empty()) {
    CAIRN_ASSIGN_OR_RETURN(config.fingerprint, s3::NormalizeFingerprint(a.fingerprint));
  }
  if (a.put_rate_limit) config.put_rate_limit = *a.put_rate_limit;
  if (a.rate_in) config.rate_in = *a.rate_in;
  if (a.burst_in) config.burst_in = *a.burst_in;
  if (a.rate_out) config.rate_out = *a.rate_out;
  if (a.burst_out) config.burst_out = *a.burst_out;
  if (a.max_connections) config.max_connections = *a.max_connections;
  if (a.quirks_option->count() > 0) {
    config.quirks = s3::ProviderQuirks();
    for (const std::string& quirk : a.quirks) {
      if (!quirk.empty()) CAIRN_RETURN_IF_ERROR(config.quirks.Add(quirk));
    }
  }
  if (config.credentials.secret_key.empty()) {
    return Status::InvalidArgument("a secret key is required: --secret-key or --secret-key-file");
  }
  return s3::ValidateEndpointConfig(config);
}

void WarnIfPlainHttp(const s3::EndpointConfig& config) {
  if (config.endpoint.starts_with("http://")) {
    spdlog::warn(
        fmt::format("S3 endpoint '{}' uses plain http://: credentials are signed, but data "
                    "travels unencrypted",
                    config.id));
  }
}

// The endpoint as commands report it: its settings plus its id.
json EndpointJson(const s3::EndpointConfig& config) {
  json out = config::EndpointSettingsToJson(config);
  out["id"] = config.id;
  return out;
}

std::string EndpointText(const s3::EndpointConfig& config) {
  std::vector<std::vector<std::string>> rows;
  json settings = config::EndpointSettingsToJson(config);
  for (const auto& [key, value] : settings.items()) {
    rows.push_back({key, value.is_string() ? value.get<std::string>() : value.dump()});
  }
  rows.push_back({"secret-key", "(set, not shown)"});
  return FormatTable({"SETTING", "VALUE"}, rows);
}

Result<config::S3EndpointStore> LoadEndpoints(const Context& ctx) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
  return config::S3EndpointStore::Load(config.dir());
}

Result<std::unique_ptr<s3::S3Client>> OpenClient(const Context& ctx, const std::string& id,
                                                 const std::string& bucket) {
  CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig config, store.Get(id));
  return s3::S3Client::Create(config, bucket);
}

void AddEndpointCommands(CLI::App* s3, Context& ctx) {
  auto* endpoint = s3->add_subcommand("endpoint", "Manage S3 endpoints");
  endpoint->require_subcommand(1);

  for (bool create : {true, false}) {
    auto args = std::make_shared<EndpointArgs>();
    auto* cmd = endpoint->add_subcommand(
        create ? "create" : "update",
        create ? "Add an S3 endpoint" : "Change an S3 endpoint's settings");
    AddEndpointOptions(cmd, *args, create);
    cmd->callback([&ctx, args, create] {
      ctx.action = [&ctx, args, create]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
        s3::EndpointConfig config;
        if (!create) {
          CAIRN_ASSIGN_OR_RETURN(config, store.Get(args->id));
        }
        CAIRN_RETURN_IF_ERROR(ApplyEndpointArgs(*args, config));
        CAIRN_RETURN_IF_ERROR(create ? store.Add(config) : store.Replace(config));
        WarnIfPlainHttp(config);
        ctx.Emit(EndpointJson(config),
                 fmt::format("{} S3 endpoint '{}'", create ? "created" : "updated", config.id));
        return Status::OK();
      };
    });
  }

  auto* list = endpoint->add_subcommand("list", "List S3 endpoints");
  list->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
      json out = json::array();
      std::vector<std::vector<std::string>> rows;
      for (const auto& [id, config] : store.endpoints()) {
        out.push_back(EndpointJson(config));
        rows.push_back({id, config.endpoint, config.region, config.path_style ? "path" : "vhost",
                        config.credentials.access_key});
      }
      ctx.Emit(out, rows.empty()
                        ? "no S3 endpoints configured"
                        : FormatTable({"ID", "ENDPOINT", "REGION", "STYLE", "ACCESS KEY"}, rows));
      return Status::OK();
    };
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = endpoint->add_subcommand("show", "Show an S3 endpoint (never its secret)");
  show->add_option("ID", *show_id, "Endpoint id")->required();
  show->callback([&ctx, show_id] {
    ctx.action = [&ctx, show_id]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
      CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig config, store.Get(*show_id));
      ctx.Emit(EndpointJson(config), EndpointText(config));
      return Status::OK();
    };
  });

  auto remove_id = std::make_shared<std::string>();
  auto* remove = endpoint->add_subcommand("remove", "Remove an S3 endpoint");
  remove->add_option("ID", *remove_id, "Endpoint id")->required();
  remove->callback([&ctx, remove_id] {
    ctx.action = [&ctx, remove_id]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
      CAIRN_RETURN_IF_ERROR(store.Remove(*remove_id));
      ctx.Emit({{"removed", *remove_id}}, fmt::format("removed S3 endpoint '{}'", *remove_id));
      return Status::OK();
    };
  });
}

void AddCheckCommand(CLI::App* s3, Context& ctx) {
  struct Args {
    std::string id, bucket;
  };
  auto args = std::make_shared<Args>();
  auto* check = s3->add_subcommand(
      "check", "Probe an endpoint and bucket: access, addressing, clock, provider quirks");
  check->add_option("ID", args->id, "Endpoint id")->required();
  check->add_option("BUCKET", args->bucket, "Bucket")->required();
  check->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store, LoadEndpoints(ctx));
      CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig config, store.Get(args->id));
      CAIRN_ASSIGN_OR_RETURN(s3::ProbeReport report, s3::ProbeEndpoint(config, args->bucket));
      json checks = json::array();
      std::vector<std::vector<std::string>> rows;
      for (const s3::ProbeCheck& c : report.checks) {
        checks.push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
        rows.push_back({c.name, c.ok ? "ok" : "FAILED", c.detail});
      }
      json out = {{"ok", report.ok()},
                  {"checks", checks},
                  {"needs-path-style", report.needs_path_style},
                  {"needed-provider-quirks", report.needed_quirks.Names()},
                  {"clock-skew-seconds", report.clock_skew_seconds},
                  {"s3", ToObjectStoreStats(report.requests).ToJson()}};
      std::string text = FormatTable({"CHECK", "RESULT", "DETAIL"}, rows);
      if (!report.ok()) {
        std::string fix = report.needs_path_style ? " --path-style" : "";
        std::vector<std::string> quirks = report.needed_quirks.Names();
        if (!quirks.empty())
          fix += " --provider-quirks " + fmt::format("{}", fmt::join(quirks, ","));
        if (!fix.empty())
          text += fmt::format("\nfix: cairn s3 endpoint update {}{}", config.id, fix);
      }
      text += "\nS3 requests: " + ToObjectStoreStats(report.requests).ToText();
      ctx.Emit(out, text);
      if (!report.ok()) {
        return Status::InvalidArgument(
            fmt::format("S3 endpoint '{}' is not usable as configured for bucket '{}'", config.id,
                        args->bucket));
      }
      return Status::OK();
    };
  });
}

void AddListCommand(CLI::App* s3, Context& ctx) {
  struct Args {
    std::string id, bucket, prefix;
    bool recursive = false;
  };
  auto args = std::make_shared<Args>();
  auto* ls = s3->add_subcommand("ls", "List objects in a bucket (for debugging)");
  ls->add_option("ID", args->id, "Endpoint id")->required();
  ls->add_option("BUCKET", args->bucket, "Bucket")->required();
  ls->add_option("PREFIX", args->prefix, "Key prefix");
  ls->add_flag("--recursive,-r", args->recursive, "List every key, not folder by folder");
  ls->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto client, OpenClient(ctx, args->id, args->bucket));
      s3::ListOptions options;
      options.prefix = args->prefix;
      if (!args->recursive) options.delimiter = "/";
      s3::ObjectLister lister = client->List(options);
      s3::ListPage page;
      json out = json::array();
      std::vector<std::vector<std::string>> rows;
      while (true) {
        CAIRN_ASSIGN_OR_RETURN(bool more, lister.Next(&page));
        if (!more) break;
        for (const std::string& folder : page.common_prefixes) {
          out.push_back({{"prefix", folder}});
          rows.push_back({"", "DIR", folder});
        }
        for (const s3::ObjectInfo& object : page.objects) {
          Result<std::string> time = FormatRfc3339Utc(object.last_modified);
          std::string modified = time.ok() ? *time : "?";
          out.push_back({{"key", object.key},
                         {"size", object.size},
                         {"last-modified", modified},
                         {"etag", object.etag}});
          rows.push_back({modified, std::to_string(object.size), object.key});
        }
      }
      ctx.Emit(out, rows.empty() ? "no objects" : FormatTable({"MODIFIED", "SIZE", "KEY"}, rows));
      return Status::OK();
    };
  });
}

}  // namespace

void AddS3BenchmarkCommand(CLI::App* s3, Context& ctx);

void AddS3Commands(CLI::App& app, Context& ctx) {
  auto* s3 = app.add_subcommand("s3", "S3 endpoints: configure, check, inspect");
  s3->require_subcommand(1);
  AddEndpointCommands(s3, ctx);
  AddCheckCommand(s3, ctx);
  AddListCommand(s3, ctx);
  AddS3BenchmarkCommand(s3, ctx);
}

}  // namespace cairn::cli
