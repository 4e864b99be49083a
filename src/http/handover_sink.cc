#include "http/handover_sink.h"

#include <chrono>

#include "base/mutex.h"

namespace cairn::http {

// One piece's completion; shared with the writer's callback, which may outlive a Write that
// gave up because the server stops.
struct HandoverSink::Wait {
  Mutex mu;
  CondVar done_cv{&mu};
  bool done CAIRN_GUARDED_BY(mu) = false;
  bool ok CAIRN_GUARDED_BY(mu) = false;
};

HandoverSink::HandoverSink(WritePiece write, const std::atomic<bool>& stopping)
    : write_(std::move(write)), stopping_(stopping) {}

Status HandoverSink::Write(ByteView data) {
  while (!data.empty()) {
    if (failed_ || stopping_.load()) {
      failed_ = true;
      return Status::Unavailable("the connection is gone or the server stops");
    }
    ByteView piece = data.first(std::min(data.size(), kPieceSize));
    auto wait = std::make_shared<Wait>();
    write_(std::make_shared<const Bytes>(piece.begin(), piece.end()), [wait](bool ok) {
      MutexLock lock(wait->mu);
      wait->done = true;
      wait->ok = ok;
      wait->done_cv.SignalAll();
    });
    MutexLock lock(wait->mu);
    // A stopping server stops its I/O threads, so the callback may never come.
    while (!wait->done && !stopping_.load()) {
      wait->done_cv.WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    if (!wait->done || !wait->ok) {
      failed_ = true;
      return Status::Unavailable("the connection is gone or the server stops");
    }
    data = data.subspan(piece.size());
  }
  return Status::OK();
}

}  // namespace cairn::http
