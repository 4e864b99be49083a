// Upid is a task identifier in Proxmox's format, the one PBS records in a manifest's
// `verify_state` and shows in its task list:
//
//   UPID:<node>:<pid>:<pstart>:<task id>:<start time>:<worker type>:<worker id>:<auth id>:
//   UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:
//
// pid, pstart (process start, clock ticks since boot), task id and start time (Unix seconds)
// are upper-case hex, at least 8 digits. The worker id is escaped (anything but [A-Za-z0-9_.]
// becomes \xHH, '/' becomes '-') so it never holds ':' or white space. Cairn writes them so PBS
// tools can read its manifests, and reads PBS's to learn when a snapshot was last verified.
//
// Thread-safety: a value type; the functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

struct Upid {
  std::string node;
  uint32_t pid = 0;
  uint64_t pstart = 0;
  uint64_t task_id = 0;
  int64_t starttime = 0;
  std::string worker_type;  // e.g. "verify", "garbage_collection"; no ':' or white space
  std::string worker_id;    // escaped (EscapeWorkerId); may be empty
  std::string auth_id;      // e.g. "root@pam"; no ':' or white space

  // A task of this process starting now. `worker_id` is escaped here.
  static Upid ForThisProcess(std::string_view node, std::string_view worker_type,
                             std::string_view worker_id, std::string_view auth_id);

  // InvalidArgument naming the text if it is not a UPID.
  static Result<Upid> Parse(std::string_view text);

  // REQUIRES: fields as documented above (ForThisProcess and Parse give such values).
  std::string ToString() const;
};

// The worker-id escaping described above.
std::string EscapeWorkerId(std::string_view id);

}  // namespace cairn
