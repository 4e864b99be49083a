#include "server/protocol/session_service.h"

#include <chrono>

namespace cairn::server {

SessionService::SessionService()
    : sink_([log = log_](JobLogLevel level, std::string_view line) {
        MutexLock lock(log->mu);
        if (log->task) {
          log->task->Log(level, line);
        } else {
          log->early.emplace_back(level, std::string(line));
        }
      }) {}

void SessionService::SetSession(Handler handler, Outcome outcome) {
  MutexLock lock(mu_);
  handler_ = std::move(handler);
  outcome_ = std::move(outcome);
}

Status SessionService::RunUntilClosed(const JobControl& task) {
  {
    MutexLock lock(log_->mu);
    for (const auto& [level, line] : log_->early) task.Log(level, line);
    log_->early.clear();
    log_->task = task;
  }
  Handler handler;
  Outcome outcome;
  Status why;
  {
    MutexLock lock(mu_);
    bool close_requested = false;
    while (!closed_) {
      if (task.cancelled() && close_ && !close_requested) {
        close_requested = true;
        close_();
      }
      changed_.WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    why = *closed_;
    handler = std::move(handler_);
    handler_ = nullptr;
    outcome = std::move(outcome_);
    outcome_ = nullptr;
  }
  Status result = outcome ? outcome(why) : why;
  // The session goes here, on the task's thread, logging to the task.
  handler = nullptr;
  outcome = nullptr;
  return result;
}

void SessionService::Opened(std::function<void()> close) {
  MutexLock lock(mu_);
  close_ = std::move(close);
  changed_.SignalAll();
}

void SessionService::Handle(http::ServerRequest request, http::H2Responder responder) {
  Handler handler;
  {
    MutexLock lock(mu_);
    handler = handler_;
  }
  if (!handler) {
    http::ServerResponse gone;
    gone.status = 503;
    gone.body = "session closed\n";
    return responder.Send(std::move(gone));
  }
  http::ServerResponse response = handler(request);
  // Dropped before answering: once the last answer is out the connection may report Closed,
  // and RunUntilClosed must then hold the last reference to the session.
  handler = nullptr;
  responder.Send(std::move(response));
}

void SessionService::Closed(const Status& why) {
  MutexLock lock(mu_);
  closed_ = why;
  changed_.SignalAll();
}

}  // namespace cairn::server
