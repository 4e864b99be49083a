// JobControl is what a long job (garbage collection, verify, prune; later refresh, sync, move)
// gets from whoever runs it: a sink for the log lines a user reads, and a cancellation flag.
// The CLI's default sends the lines to stderr through spdlog; the server's task system writes
// them to the task's log and sets the flag when the task is stopped. A job checks the flag
// between units of work (an index, a snapshot, a range of chunks) and then returns Aborted,
// leaving the store consistent: what it did stays done, nothing is half done.
//
// Copies share the sink and the flag, so a job hands its control down to the parts it runs.
// Thread-safety: thread-safe, if the sink is (the job's threads log concurrently); Cancel may
// be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/status.h"

namespace cairn {

enum class JobLogLevel { kInfo, kWarning, kError };

using JobLogSink = std::function<void(JobLogLevel level, std::string_view line)>;

class JobControl {
 public:
  // Logs through spdlog; cancelled only by Cancel on a copy.
  JobControl();
  explicit JobControl(JobLogSink sink);

  void Log(JobLogLevel level, std::string_view line) const { sink_(level, line); }
  template <typename... Args>
  void Info(fmt::format_string<Args...> format, Args&&... args) const {
    Log(JobLogLevel::kInfo, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> format, Args&&... args) const {
    Log(JobLogLevel::kWarning, fmt::format(format, std::forward<Args>(args)...));
  }

  // Asks the job (and every copy of this control) to stop.
  void Cancel() const { cancelled_->store(true); }
  bool cancelled() const { return cancelled_->load(); }
  // Aborted "<what> cancelled" once Cancel was called, OK before.
  Status CheckCancelled(std::string_view what) const;

 private:
  JobLogSink sink_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

}  // namespace cairn
