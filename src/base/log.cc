#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cairn {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("cairn");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  auto parsed = spdlog::level::from_str(std::string(level));
  spdlog::set_level(parsed == spdlog::level::off && level != "off" ? spdlog::level::info : parsed);
}

}  // namespace cairn
