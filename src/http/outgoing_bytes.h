// OutgoingBytes is the body of an HTTP/2 request or answer: owned (a string or bytes moved in)
// or borrowed (a view of the caller's bytes, which must stay valid until the stream carrying them
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
  OutgoingBytes(Bytes owned) : owned_bytes_(std::move(owned)), view_(owned_bytes_) {}     // NOLINT
  static OutgoingBytes Borrow(ByteView bytes) {
    OutgoingBytes out;
    out.view_ = bytes;
    return out;
  }
  OutgoingBytes(OutgoingBytes&& other) noexcept { *this = std::move(other); }
  OutgoingBytes& operator=(OutgoingBytes&& other) noexcept {
    if (this == &other) return *this;
    // (A moved string or vector keeps its buffer, so the view stays valid, except for a short
    // string, which lives inside the object: its view is made anew.)
    const bool owns_string = !other.owned_.empty();
    owned_ = std::move(other.owned_);
    owned_bytes_ = std::move(other.owned_bytes_);
    view_ = owns_string ? AsBytes(owned_) : other.view_;
    other.owned_.clear();
    other.owned_bytes_.clear();
    other.view_ = {};
    return *this;
  }

  ByteView view() const { return view_; }

 private:
  std::string owned_;
  Bytes owned_bytes_;
  ByteView view_;  // of owned_ or owned_bytes_, or borrowed
};

}  // namespace cairn::http
