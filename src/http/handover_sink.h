// HandoverSink is the ByteSink a response body producer (ServerResponse::produce) writes to:
// each piece is handed to the connection's asynchronous writer and Write returns once the
// connection has written it, so a slow client slows the producer and memory stays bounded by
// one piece. Write fails once the connection is lost or the server stops.
//
// Thread-safety: Write on the producer's thread; the writer's completion callback may run on
// any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "base/stream.h"

namespace cairn::http {

class HandoverSink final : public ByteSink {
 public:
  // Hands `piece` to the connection (which keeps it while it writes); `done(ok)` is to be
  // called once it is written, or with false if it cannot be.
  using WritePiece =
      std::function<void(std::shared_ptr<const Bytes> piece, std::function<void(bool ok)> done)>;

  // `stopping` (borrowed) ends every wait when it turns true.
  HandoverSink(WritePiece write, const std::atomic<bool>& stopping);

  // Unavailable once a piece failed or the server stops.
  Status Write(ByteView data) override;

  static constexpr size_t kPieceSize = 256 << 10;

 private:
  struct Wait;
  WritePiece write_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

}  // namespace cairn::http
