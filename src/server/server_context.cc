#include "server/server_context.h"

#include "server/access_control.h"

namespace cairn::server {

ServerContext::ServerContext(std::string config_dir, std::string node, Clock clock,
                             std::unique_ptr<AccessControl> access,
                             std::unique_ptr<TaskManager> tasks)
    : stores_(std::move(config_dir)),
      node_(std::move(node)),
      clock_(std::move(clock)),
      access_(std::move(access)),
      tasks_(std::move(tasks)) {}

ServerContext::~ServerContext() = default;

}  // namespace cairn::server
