// Logging goes to stderr through spdlog; stdout is reserved for command output (text or JSON).
// Call InitLogging once at program start; before that spdlog's default logger is used.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace cairn {

// Sets the global log level by name ("error", "warn", "info", "debug"); unknown names mean info.
void InitLogging(std::string_view level);

}  // namespace cairn
