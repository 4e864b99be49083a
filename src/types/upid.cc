#include "types/upid.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "base/time.h"

namespace cairn {
namespace {

// Field 22 of /proc/self/stat: when this process started, in clock ticks since boot; 0 if the
// file cannot be read (the UPID stays unique through pid, task id and start time).
uint64_t ProcessStartTicks() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t after_comm = stat.rfind(')');  // the command name may hold spaces
  if (after_comm == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_comm + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

bool IsHexField(std::string_view s, size_t min_digits, size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsPlainField(std::string_view s, bool may_be_empty) {
  if (s.empty()) return may_be_empty;
  for (char c : s) {
    if (c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

uint64_t Hex(std::string_view s) {
  uint64_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value, 16);
  return value;
}

}  // namespace

std::string EscapeWorkerId(std::string_view id) {
  std::string out;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '.') {
      out += c;
    } else if (c == '/') {
      out += '-';
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

Upid Upid::ForThisProcess(std::string_view node, std::string_view worker_type,
                          std::string_view worker_id, std::string_view auth_id) {
  static std::atomic<uint64_t> next_task_id{0};
  static const uint64_t pstart = ProcessStartTicks();
  Upid upid;
  upid.node = std::string(node);
  upid.pid = static_cast<uint32_t>(::getpid());
  upid.pstart = pstart;
  upid.task_id = next_task_id++;
  upid.starttime = NowEpoch();
  upid.worker_type = std::string(worker_type);
  upid.worker_id = EscapeWorkerId(worker_id);
  upid.auth_id = std::string(auth_id);
  return upid;
}

Result<Upid> Upid::Parse(std::string_view text) {
  auto invalid = [&] { return Status::InvalidArgument(fmt::format("'{}' is not a UPID", text)); };
  if (!text.starts_with("UPID:") || !text.ends_with(':')) return invalid();
  std::vector<std::string_view> f;
  std::string_view rest = text.substr(5, text.size() - 6);
  for (size_t colon; (colon = rest.find(':')) != std::string_view::npos;) {
    f.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  f.push_back(rest);
  if (f.size() != 8 || !IsPlainField(f[0], false) || !IsHexField(f[1], 8, 8) ||
      !IsHexField(f[2], 8, 9) || !IsHexField(f[3], 8, 16) || !IsHexField(f[4], 8, 8) ||
      !IsPlainField(f[5], false) || !IsPlainField(f[6], true) || !IsPlainField(f[7], false)) {
    return invalid();
  }
  Upid upid;
  upid.node = std::string(f[0]);
  upid.pid = static_cast<uint32_t>(Hex(f[1]));
  upid.pstart = Hex(f[2]);
  upid.task_id = Hex(f[3]);
  upid.starttime = static_cast<int64_t>(Hex(f[4]));
  upid.worker_type = std::string(f[5]);
  upid.worker_id = std::string(f[6]);
  upid.auth_id = std::string(f[7]);
  return upid;
}

std::string Upid::ToString() const {
  return fmt::format("UPID:{}:{:08X}:{:08X}:{:08X}:{:08X}:{}:{}:{}:", node, pid, pstart, task_id,
                     starttime, worker_type, worker_id, auth_id);
}

}  // namespace cairn
