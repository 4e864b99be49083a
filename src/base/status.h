// Status is the outcome of an operation: OK, or an error code with a message naming the object
// and what went wrong ("read .chunks/a342/a342e8...: CRC mismatch"). Errors are values; Cairn
// never throws across module boundaries. errno, HTTP and S3 errors are mapped to a Status once,
// at the boundary where they arise (see ErrnoStatus in file_util.h).
//
// Code::kUnavailable is the only retryable code: the same call may succeed later (network,
// throttling). Every other code is final for the call that returned it.
//
// Thread-safety: a Status is an immutable value; distinct objects may be used concurrently.
#pragma once

#include <string>
#include <string_view>

namespace cairn {

enum class Code {
  kOk = 0,
  kNotFound,          // the named object does not exist
  kAlreadyExists,     // a create-only write found the object present
  kInvalidArgument,   // the caller passed something malformed (a hostile name, a bad size)
  kCorruption,        // stored data failed a check (magic, CRC, digest, size, tag)
  kIOError,           // the local system failed (disk full, EIO, ...)
  kUnavailable,       // transient: retry may succeed (network, 5xx, SlowDown)
  kPermissionDenied,  // credentials or file permissions refuse the operation
  kBusy,              // a lock is held by someone else
  kAborted,           // the operation was cancelled or interrupted
};

// Name of a code, e.g. "NotFound".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(Code::kAlreadyExists, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status PermissionDenied(std::string msg) {
    return Status(Code::kPermissionDenied, std::move(msg));
  }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }

  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return code_ == Code::kUnavailable; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsBusy() const { return code_ == Code::kBusy; }

  // Returns a copy whose message is prefixed with "context: ". OK stays OK.
  Status WithContext(std::string_view context) const;

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace cairn

// Returns early from the enclosing function if `expr` yields a non-OK Status.
#define CAIRN_RETURN_IF_ERROR(expr)                        \
  do {                                                     \
    ::cairn::Status cairn_status_tmp_ = (expr);            \
    if (!cairn_status_tmp_.ok()) return cairn_status_tmp_; \
  } while (0)
