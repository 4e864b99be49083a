// Fuzzes the key file parser (format/key_file.h): a client key file in PBS's JSON format, as a
// user may be handed one (made by proxmox-backup-client or another tool). A parsed file is
// unlocked with the fuzz passphrase when that is cheap (unprotected, or KDF parameters far
// below PBS's; the seeds use such), so the unwrap path (AES-GCM, key length, fingerprint) is
// reached; its JSON (ToJson) must parse back to the same file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/key_file.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

// Unlocking runs the KDF; above these costs an input would take most of a second.
constexpr uint64_t kMaxScryptWork = uint64_t{1} << 14;  // n * r * p
constexpr uint64_t kMaxPbkdf2Iterations = uint64_t{1} << 12;

bool CheapToUnlock(const KeyFile& file) {
  switch (file.kdf()) {
    case KeyFile::Kdf::kNone: return true;
    case KeyFile::Kdf::kScrypt:
      return file.scrypt_n() <= kMaxScryptWork && file.scrypt_r() <= kMaxScryptWork &&
             file.scrypt_p() <= kMaxScryptWork &&
             file.scrypt_n() * file.scrypt_r() * file.scrypt_p() <= kMaxScryptWork;
    case KeyFile::Kdf::kPbkdf2: return file.pbkdf2_iterations() <= kMaxPbkdf2Iterations;
  }
  return false;
}

void FuzzKeyFile(std::string_view json) {
  auto file = KeyFile::Parse(json, "fuzz.key");
  if (!file.ok()) return;
  (void)file->fingerprint();
  (void)file->IsProtected();

  auto again = KeyFile::Parse(file->ToJson(), "fuzz.key");
  FUZZ_CHECK(again.ok(), "a key file Cairn wrote does not parse");
  FUZZ_CHECK(again->ToJson() == file->ToJson(), "a rewritten key file serializes differently");
  FUZZ_CHECK(again->kdf() == file->kdf() && again->salt() == file->salt() &&
                 again->data() == file->data() && again->created() == file->created() &&
                 again->modified() == file->modified() && again->hint() == file->hint(),
             "a rewritten key file differs");

  if (!CheapToUnlock(*file)) return;
  auto key = file->Unlock(fuzz::kPassphrase);
  if (key.ok() && !file->fingerprint().empty()) {
    FUZZ_CHECK(CryptConfig(*key).FingerprintString() == file->fingerprint(),
               "Unlock returned a key that does not match the recorded fingerprint");
  }
  (void)file->Unlock("wrong passphrase");
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzKeyFile(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
