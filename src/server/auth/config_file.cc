#include "server/auth/config_file.h"

#include <cctype>
#include <chrono>

#include "base/bytes.h"
#include "base/file_util.h"
#include "server/auth/crypto_util.h"

namespace cairn::server {

Result<ConfigText> ReadConfigText(const std::string& path) {
  ConfigText out;
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (!data.status().IsNotFound()) return data.status();
  } else {
    out.text.assign(data->begin(), data->end());
    out.exists = true;
  }
  out.digest = Sha256Hex(AsBytes(out.text));
  return out;
}

Result<FileLock> LockConfig(const std::string& path) {
  return FileLock::Acquire(path + ".lock", LockMode::kExclusive, std::chrono::seconds(10), path);
}

Status WriteConfig(const std::string& path, std::string_view text, mode_t mode) {
  return WriteFileAtomic(path, AsBytes(text), mode);
}

Status CheckDigest(std::string_view expected, std::string_view actual) {
  if (expected.empty()) return Status::OK();
  bool same = expected.size() == actual.size();
  for (size_t i = 0; same && i < expected.size(); ++i) {
    same = std::tolower(static_cast<unsigned char>(expected[i])) ==
           std::tolower(static_cast<unsigned char>(actual[i]));
  }
  if (same) return Status::OK();
  return Status::InvalidArgument(
      "detected modified configuration - file changed by other user? Try again.");
}

}  // namespace cairn::server
