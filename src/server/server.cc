#include "server/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/file_util.h"
#include "base/time.h"
#include "config/datastore_config.h"
#include "http/tls_certificate.h"
#include "server/access_control.h"
#include "server/api/routes.h"
#include "server/metrics.h"
#include "server/server_context.h"
#include "server/web_assets.h"

namespace cairn::server {
namespace {

class RunningServer : public Server {
 public:
  uint16_t port() const override { return http_->port(); }
  const std::string& fingerprint() const override { return fingerprint_; }
  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    http_->Stop();
    context_->tasks().Shutdown();
  }
  ~RunningServer() override { Stop(); }

  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<ApiDispatcher> dispatcher_;
  std::unique_ptr<WebAssets> web_;
  std::unique_ptr<http::HttpServer> http_;
  std::string fingerprint_;
  bool stopped_ = false;
};

// The files Cairn keeps in its config directory (with their .lock and temporary siblings).
bool IsCairnConfigFile(const std::string& name) {
  static constexpr const char* kFiles[] = {
      "datastore.json", "s3.json",   "s3-secrets.json", "user.cfg",    "shadow.json",
      "token.shadow",   "acl.cfg",   "authkey.key",     "authkey.pub", "csrf.key",
      "proxy.pem",      "proxy.key", "fingerprints"};
  for (const char* file : kFiles) {
    if (name == file || name.starts_with(std::string(file) + ".") ||
        name.starts_with("." + std::string(file))) {
      return true;
    }
  }
  return false;
}

// The config directory holds private keys: only its owner may enter it. A directory that holds
// nothing but Cairn's files is made so; anything else (say --config-dir /etc by mistake) is
// refused rather than changed.
Status ProtectConfigDir(const std::string& dir) {
  CAIRN_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat " + dir, errno);
  if ((st.st_mode & 077) == 0) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(auto entries, ListDir(dir));
  for (const DirEntry& entry : entries) {
    if (!IsCairnConfigFile(entry.name)) {
      return Status::PermissionDenied(fmt::format(
          "config directory {} is accessible to other users and holds '{}', which is not "
          "Cairn's: chmod 700 it yourself or choose another --config-dir",
          dir, entry.name));
    }
  }
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("chmod 0700 " + dir, errno);
  return Status::OK();
}

std::string ShortHostName() {
  std::vector<std::string> names = http::LocalHostNames();
  return names.empty() ? "localhost" : names.front();
}

}  // namespace

std::string DefaultStateDir() {
  if (const char* dir = std::getenv("CAIRN_STATE_DIR"); dir && *dir) return dir;
  if (geteuid() == 0) return "/var/lib/cairn";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return JoinPath(xdg, "cairn");
  }
  const char* home = std::getenv("HOME");
  return JoinPath(home ? home : "/tmp", ".local/state/cairn");
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (options.config_dir.empty()) options.config_dir = config::DatastoreConfig::DefaultDir();
  if (options.state_dir.empty()) options.state_dir = DefaultStateDir();
  if (options.node.empty()) options.node = ShortHostName();
  if (!options.clock) options.clock = [] { return NowEpoch(); };
  CAIRN_RETURN_IF_ERROR(ProtectConfigDir(options.config_dir));
  CAIRN_RETURN_IF_ERROR(MakeDirs(options.state_dir, 0755));

  auto certificate = http::CertificateFiles::InDir(options.config_dir);
  std::vector<std::string> names = http::LocalHostNames();
  CAIRN_RETURN_IF_ERROR(http::EnsureSelfSignedCertificate(certificate, names));
  CAIRN_ASSIGN_OR_RETURN(std::string fingerprint,
                         http::CertificateFileFingerprint(certificate.cert_path));

  CAIRN_ASSIGN_OR_RETURN(auto access, AccessControl::Open(options.config_dir));
  CAIRN_ASSIGN_OR_RETURN(
      auto tasks,
      TaskManager::Open({.task_dir = JoinPath(options.state_dir, "tasks"), .node = options.node}));
  auto server = std::make_unique<RunningServer>();
  server->fingerprint_ = fingerprint;
  server->context_ = std::make_unique<ServerContext>(
      options.config_dir, options.node, options.clock, std::move(access), std::move(tasks));
  Router router;
  AddAllRoutes(router);
  server->dispatcher_ =
      std::make_unique<ApiDispatcher>(*server->context_, std::move(router), options.dispatcher);
  ApiDispatcher* dispatcher = server->dispatcher_.get();
  ServerContext* context = server->context_.get();
  if (options.web_root.empty()) options.web_root = DefaultWebRoot();
  Result<WebAssets> web = options.web_root.empty()
                              ? Result<WebAssets>(Status::NotFound("no built web UI was found"))
                              : WebAssets::Load(options.web_root);
  if (web.ok()) {
    spdlog::info("web UI: serving {}", options.web_root);
  } else {
    spdlog::warn("web UI: {}", web.status().ToString());
  }
  server->web_ = std::make_unique<WebAssets>(web.ok() ? std::move(*web)
                                                      : WebAssets::Missing(web.status().message()));
  const WebAssets* web_assets = server->web_.get();
  http::ServerOptions http_options;
  http_options.listen = options.listen;
  http_options.certificate = certificate;
  http_options.handler_threads = options.handler_threads;
  http_options.handler = [dispatcher, context, web_assets](const http::ServerRequest& request) {
    if (request.path == "/metrics") return ServeMetrics(*context, *dispatcher, request);
    if (!request.path.starts_with("/api2/")) {
      if (auto file = web_assets->Serve(request)) return std::move(*file);
    }
    return dispatcher->Handle(request);
  };
  CAIRN_ASSIGN_OR_RETURN(server->http_, http::HttpServer::Start(std::move(http_options)));
  spdlog::info("cairn server listening on {} (port {}), certificate fingerprint {}", options.listen,
               server->http_->port(), fingerprint);
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace cairn::server
