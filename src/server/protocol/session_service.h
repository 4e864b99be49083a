// SessionService runs one upgraded protocol session (backup or reader) as a server task: it is
// the H2Service the HTTP server drives, it passes each request to the session's handler, and
// the task's work function waits in RunUntilClosed until the connection has ended, ending the
// connection itself when the task is aborted. Its log sink buffers the session's lines until
// the task has started, so the session can be set up (and fail with a plain HTTP error) before
// the task exists.
//
// Thread-safety: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/job_control.h"
#include "base/mutex.h"
#include "http/server.h"

namespace cairn::server {

class SessionService : public http::H2Service {
 public:
  using Handler = std::function<http::ServerResponse(const http::ServerRequest&)>;
  // The task's result, given how the connection ended.
  using Outcome = std::function<Status(const Status& closed)>;

  SessionService();

  // The session's log: lines go to the task's log once RunUntilClosed runs, and are kept until
  // then.
  JobControl log() const { return JobControl(sink_); }
  // Sets the handler and the outcome (which own the session). Call before the 101 is sent.
  void SetSession(Handler handler, Outcome outcome);

  // The task's work: attaches `task` to the log, then blocks until the connection has ended
  // (aborting the task ends it), asks the outcome for the result, drops handler and outcome
  // (destroying the session on this thread) and returns the result.
  Status RunUntilClosed(const JobControl& task);

  void Opened(std::function<void()> close) override;
  void Handle(http::ServerRequest request, http::H2Responder responder) override;
  void Closed(const Status& why) override;

 private:
  struct Log {
    Mutex mu;
    std::optional<JobControl> task CAIRN_GUARDED_BY(mu);
    std::vector<std::pair<JobLogLevel, std::string>> early CAIRN_GUARDED_BY(mu);
  };
  std::shared_ptr<Log> log_ = std::make_shared<Log>();
  JobLogSink sink_;
  Mutex mu_;
  CondVar changed_{&mu_};
  Handler handler_ CAIRN_GUARDED_BY(mu_);
  Outcome outcome_ CAIRN_GUARDED_BY(mu_);
  std::function<void()> close_ CAIRN_GUARDED_BY(mu_);
  std::optional<Status> closed_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn::server
