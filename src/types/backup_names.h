// Names of things in a datastore and their on-disk relative paths (docs/formats.md).
//
//   BackupNamespace  "a/b"  -> "ns/a/ns/b"     (<= 7 components, <= 256 chars, SAFE_ID each)
//   BackupGroup      vm/100 -> "<ns path>/vm/100"
//   SnapshotRef      vm/100/2026-11-23T10:00:00Z -> "<group path>/2026-11-23T10:00:00Z"
//
// Every constructor from user input validates and refuses hostile names (`..`, `/` inside a
// component, NUL, empty, overlong) with InvalidArgument naming the input, so a valid name can
// never address anything outside its datastore.
//
// Thread-safety: immutable values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn {

inline constexpr size_t kMaxNamespaceDepth = 7;
inline constexpr size_t kMaxNamespaceLength = 256;
inline constexpr size_t kMaxIdLength = 128;

// True for SAFE_ID: [A-Za-z0-9_][A-Za-z0-9._-]* (and not longer than kMaxIdLength).
bool IsSafeId(std::string_view s);

class BackupNamespace {
 public:
  BackupNamespace() = default;  // the root namespace
  // Parses "a/b/c" ("" is the root). InvalidArgument on a bad component, depth or length.
  static Result<BackupNamespace> Parse(std::string_view text);

  bool IsRoot() const { return components_.empty(); }
  size_t depth() const { return components_.size(); }
  const std::vector<std::string>& components() const { return components_; }
  // "a/b" ("" for the root).
  std::string ToString() const;
  // "ns/a/ns/b" ("" for the root).
  std::string RelativePath() const;
  // Child namespace; InvalidArgument if `name` is not SAFE_ID or the depth limit is exceeded.
  Result<BackupNamespace> Child(std::string_view name) const;
  // Parent namespace; the root's parent is the root.
  BackupNamespace Parent() const;
  // True if `this` equals `other` or lies below it.
  bool IsWithin(const BackupNamespace& other) const;

  bool operator==(const BackupNamespace&) const = default;
  auto operator<=>(const BackupNamespace&) const = default;

 private:
  std::vector<std::string> components_;
};

enum class BackupType { kVm, kCt, kHost };

std::string_view BackupTypeName(BackupType type);
// "vm" | "ct" | "host"; InvalidArgument otherwise.
Result<BackupType> ParseBackupType(std::string_view text);

struct BackupGroup {
  BackupType type = BackupType::kHost;
  std::string id;

  // "vm/100": type and SAFE_ID id. InvalidArgument otherwise.
  static Result<BackupGroup> Parse(std::string_view text);
  static Result<BackupGroup> Make(BackupType type, std::string_view id);
  std::string ToString() const;  // "vm/100", also the path relative to its namespace

  bool operator==(const BackupGroup&) const = default;
  auto operator<=>(const BackupGroup&) const = default;
};

struct SnapshotRef {
  BackupGroup group;
  int64_t time = 0;  // backup time, epoch seconds (>= 1)

  // "vm/100/2026-11-23T10:00:00Z". InvalidArgument otherwise.
  static Result<SnapshotRef> Parse(std::string_view text);
  // Validates time >= 1 and formattable.
  static Result<SnapshotRef> Make(BackupGroup group, int64_t time);
  std::string TimeString() const;  // "2026-11-23T10:00:00Z"
  std::string ToString() const;    // "vm/100/2026-11-23T10:00:00Z"

  bool operator==(const SnapshotRef&) const = default;
  auto operator<=>(const SnapshotRef&) const = default;
};

// Datastore names (config entries): SAFE_ID, 3..32 characters.
Status ValidateDatastoreName(std::string_view name);

}  // namespace cairn
