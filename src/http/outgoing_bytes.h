// OutgoingBytes is the body of an HTTP/2 request or answer: owned (a string moved in) or
// borrowed (a view of the caller's bytes, which must stay valid until the stream carrying them
// has closed or its connection has ended; H2Client::Send's callers hold them until the answer).
// Borrowing spares a copy of every chunk a client uploads. Internal to the http layer and its
// clients. Thread-safety: none (a value).
#pragma once

#include <string>
#include <utility>

#include "base/bytes.h"

namespace cairn::http {

class OutgoingBytes {
 public:
  OutgoingBytes() = default;
  OutgoingBytes(std::string owned) : owned_(std::move(owned)), view_(AsBytes(owned_)) {}  // NOLINT
  static OutgoingBytes Borrow(ByteView bytes) {
    OutgoingBytes out;
    out.view_ = bytes;
    return out;
  }
  OutgoingBytes(OutgoingBytes&& other) noexcept { *this = std::move(other); }
  OutgoingBytes& operator=(OutgoingBytes&& other) noexcept {
    if (this == &other) return *this;
    const bool owned = !other.owned_.empty();
    owned_ = std::move(other.owned_);
    view_ = owned ? AsBytes(owned_) : other.view_;
    other.owned_.clear();
    other.view_ = {};
    return *this;
  }

  ByteView view() const { return view_; }

 private:
  std::string owned_;
  ByteView view_;  // of owned_, or borrowed
};

}  // namespace cairn::http
