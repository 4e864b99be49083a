#include "base/file_faults.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "base/mutex.h"

namespace cairn {
namespace {

struct RuleState {
  FileFaultRule rule;
  uint64_t seen = 0;  // matching calls so far
};

std::atomic<bool> g_enabled{false};
std::atomic<uint64_t> g_mutations{0};
Mutex g_mu;
// Never freed: used at exit.
std::vector<RuleState>* g_rules CAIRN_PT_GUARDED_BY(g_mu) = new std::vector<RuleState>();
std::string* g_last_injection CAIRN_PT_GUARDED_BY(g_mu) = new std::string();

constexpr std::pair<std::string_view, FileOp> kOps[] = {
    {"create", FileOp::kCreate}, {"write", FileOp::kWrite},   {"fsync", FileOp::kFsync},
    {"rename", FileOp::kRename}, {"remove", FileOp::kRemove}, {"mkdir", FileOp::kMkdir},
    {"touch", FileOp::kTouch},
};
constexpr std::pair<std::string_view, int> kErrors[] = {
    {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"EFBIG", EFBIG},
};

Result<FileFaultRule> ParseRule(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "file fault rule '{}': expected ACTION@OP#N[~PATH], e.g. kill@any#57 or ENOSPC@write#3",
        text));
  };
  FileFaultRule rule;
  const size_t at = text.find('@'), hash = text.find('#');
  if (at == std::string_view::npos || hash == std::string_view::npos || hash < at) return bad();
  const std::string_view action = text.substr(0, at), op = text.substr(at + 1, hash - at - 1);
  std::string_view count = text.substr(hash + 1);
  if (size_t tilde = count.find('~'); tilde != std::string_view::npos) {
    rule.path_part = std::string(count.substr(tilde + 1));
    count = count.substr(0, tilde);
  }
  if (action == "kill") {
    rule.action = FileFaultRule::Action::kKill;
  } else if (action == "short") {
    rule.action = FileFaultRule::Action::kShortWrite;
  } else {
    for (const auto& [name, err] : kErrors) {
      if (name == action) rule.error = err;
    }
    if (rule.error == 0) return bad();
  }
  if (op != "any") {
    for (const auto& [name, value] : kOps) {
      if (name == op) rule.op = value;
    }
    if (!rule.op) return bad();
  }
  if (count != "*") {
    if (count.empty() || count.size() > 12) return bad();
    for (char c : count) {
      if (c < '0' || c > '9') return bad();
      rule.nth = rule.nth * 10 + static_cast<uint64_t>(c - '0');
    }
    if (rule.nth == 0) return bad();
  }
  return rule;
}

void PrintCountAtExit() {
  std::fprintf(stderr, "cairn: %llu file mutations\n",
               static_cast<unsigned long long>(g_mutations.load()));
}

}  // namespace

void FileFaults::Install(std::vector<FileFaultRule> rules, bool count) {
  MutexLock lock(g_mu);
  g_rules->clear();
  for (auto& rule : rules) g_rules->push_back(RuleState{std::move(rule), 0});
  g_mutations = 0;
  g_last_injection->clear();
  g_enabled = count || !g_rules->empty();
}

Result<std::vector<FileFaultRule>> FileFaults::Parse(std::string_view spec) {
  std::vector<FileFaultRule> rules;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    if (item != "count") {
      CAIRN_ASSIGN_OR_RETURN(FileFaultRule rule, ParseRule(item));
      rules.push_back(std::move(rule));
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return rules;
}

Status FileFaults::InstallFromEnvironment() {
  const char* spec = std::getenv("CAIRN_FILE_FAULTS");
  if (spec == nullptr || *spec == '\0') return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(std::vector<FileFaultRule> rules, Parse(spec));
  Install(std::move(rules), /*count=*/true);
  std::atexit(PrintCountAtExit);
  return Status::OK();
}

int FileFaults::Check(FileOp op, const std::string& path, size_t* length) {
  if (!g_enabled.load(std::memory_order_relaxed)) return 0;
  MutexLock lock(g_mu);
  ++g_mutations;
  for (RuleState& state : *g_rules) {
    const FileFaultRule& rule = state.rule;
    if (rule.op && *rule.op != op) continue;
    if (!rule.path_part.empty() && path.find(rule.path_part) == std::string::npos) continue;
    ++state.seen;
    if (rule.nth != 0 && state.seen != rule.nth) continue;
    for (const auto& [name, value] : kOps) {
      if (value == op) *g_last_injection = fmt::format("{} {}", name, path);
    }
    switch (rule.action) {
      case FileFaultRule::Action::kKill:
        ::kill(::getpid(), SIGKILL);
        ::pause();
        break;
      case FileFaultRule::Action::kShortWrite:
        if (length != nullptr && *length > 1) *length /= 2;
        break;
      case FileFaultRule::Action::kFail: return rule.error;
    }
  }
  return 0;
}

uint64_t FileFaults::MutationCount() {
  return g_mutations.load();
}

std::string FileFaults::LastInjection() {
  MutexLock lock(g_mu);
  return *g_last_injection;
}

}  // namespace cairn
