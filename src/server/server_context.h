// ServerContext is what every API handler and task of one server shares: the configuration
// directory, the open datastores, the task manager, the access control (users, tokens,
// tickets, ACLs), the node name and the clock. The Server owns it; handlers borrow it.
//
// Thread-safety: thread-safe (each service is).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/access_control.h"
#include "server/store_registry.h"
#include "server/tasks/task_manager.h"

namespace cairn::server {

class ServerContext {
 public:
  using Clock = std::function<int64_t()>;  // Unix seconds

  ServerContext(std::string config_dir, std::string node, Clock clock,
                std::unique_ptr<AccessControl> access, std::unique_ptr<TaskManager> tasks);
  ~ServerContext();

  const std::string& config_dir() const { return stores_.config_dir(); }
  const std::string& node() const { return node_; }
  int64_t Now() const { return clock_(); }
  StoreRegistry& stores() { return stores_; }
  TaskManager& tasks() { return *tasks_; }
  AccessControl& access() { return *access_; }

 private:
  StoreRegistry stores_;
  std::string node_;
  Clock clock_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<TaskManager> tasks_;
};

}  // namespace cairn::server
