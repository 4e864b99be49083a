// FileFaults is the fault seam of the local file layer. Every mutation of a file that a
// datastore, a restore or a config write makes goes through base/file_util (create, write,
// fsync, rename, remove, mkdir, touch), which asks FileFaults first whether to go on. A rule can
// make the Nth matching call (or every one) fail with an errno (ENOSPC, EIO, ...), turn a write
// into a short one, or kill the process with SIGKILL (a crash at a chosen point of the work,
// for the crash campaigns: points are counted in mutations, not in wall time).
//
// Unit tests install rules with Install(); the cairn binary reads them from $CAIRN_FILE_FAULTS
// (see Parse) so the campaigns in scripts/ can drive any command. With no rules installed a
// check costs one relaxed atomic load.
//
// Thread-safety: thread-safe. The rules are global to the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn {

enum class FileOp { kCreate, kWrite, kFsync, kRename, kRemove, kMkdir, kTouch };

struct FileFaultRule {
  std::optional<FileOp> op;  // nullopt: any mutation
  uint64_t nth = 0;          // the Nth matching call (1-based); 0: every matching call
  std::string path_part;     // only paths containing this ("" = all)
  enum class Action { kFail, kShortWrite, kKill } action = Action::kFail;
  int error = 0;  // kFail: the errno
};

class FileFaults {
 public:
  // Replaces the rules (and resets their counters and MutationCount). An empty list without
  // `count` turns the seam off; with `count` mutations are counted.
  static void Install(std::vector<FileFaultRule> rules, bool count = false);
  static void Clear() { Install({}); }

  // Parses a $CAIRN_FILE_FAULTS value: rules separated by ',', each ACTION@OP#N[~PATH] with
  // ACTION one of kill, short, ENOSPC, EIO, EDQUOT, EROFS, EFBIG; OP one of any, create,
  // write, fsync, rename, remove, mkdir, touch; N a count from 1, or '*' for every call; PATH a
  // substring the path must contain. The word `count` alone adds no rule but makes
  // MutationCount() count (every rule does too). InvalidArgument naming the bad rule.
  static Result<std::vector<FileFaultRule>> Parse(std::string_view spec);

  // Installs the rules of $CAIRN_FILE_FAULTS if set. With `count` (or any rule), prints
  // "cairn: N file mutations" to stderr when the process exits normally.
  static Status InstallFromEnvironment();

  // Called before mutation `op` of `path`: 0 to go on, or the errno to fail it with. For kWrite,
  // `length` (the bytes about to be written) may be reduced to simulate a short write.
  static int Check(FileOp op, const std::string& path, size_t* length = nullptr);

  // Mutations checked since the rules were installed (0 while the seam is off).
  static uint64_t MutationCount();

  // The last fault injected, as "<op> <path>" ("" if none since the rules were installed): what
  // a campaign reports about a point.
  static std::string LastInjection();
};

}  // namespace cairn
