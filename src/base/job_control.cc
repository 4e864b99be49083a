#include "base/job_control.h"

#include "base/log.h"

namespace cairn {
namespace {

void LogToSpdlog(JobLogLevel level, std::string_view line) {
  switch (level) {
    case JobLogLevel::kInfo: spdlog::info("{}", line); break;
    case JobLogLevel::kWarning: spdlog::warn("{}", line); break;
    case JobLogLevel::kError: spdlog::error("{}", line); break;
  }
}

}  // namespace

JobControl::JobControl() : JobControl(LogToSpdlog) {}

JobControl::JobControl(JobLogSink sink)
    : sink_(std::move(sink)), cancelled_(std::make_shared<std::atomic<bool>>(false)) {}

Status JobControl::CheckCancelled(std::string_view what) const {
  if (!cancelled()) return Status::OK();
  return Status::Aborted(fmt::format("{} cancelled", what));
}

}  // namespace cairn
