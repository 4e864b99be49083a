// KeyFile is a client encryption key as stored on disk, in the JSON format of PBS's key files
// (`pbs-key-config` KeyConfig), so a key made by `proxmox-backup-client key create` opens in
// Cairn and the other way round:
//
//   {"kdf":{"Scrypt":{"n":65536,"r":8,"p":1,"salt":"<base64>"}},
//    "created":"2026-11-23T10:00:00Z","modified":"2026-11-23T10:00:00Z",
//    "data":"<base64>","fingerprint":"0e:ab:...:9b","hint":"optional"}
//
// A protected file's `data` is IV[16] | TAG[16] | AES-256-GCM(wrapping key, the 32-byte key)
// with empty AAD; the wrapping key is scrypt of the passphrase (PBKDF2-HMAC-SHA256 in files that
// say "PBKDF2", which Cairn reads but never writes). With "kdf":null the file is unprotected and
// `data` is the raw key, for scripted use: then only the file's permissions protect it.
// Details in docs/format-blob-and-crypto.md.
//
// A KeyFile is a plain value. It holds the key in the clear only when unprotected. Saving goes
// through WriteFileAtomic/WriteFileCreateOnly with mode 0600. Thread-safety: const methods may
// be called concurrently. Deriving a wrapping key is deliberately slow (scrypt with PBS's
// parameters: 64 MiB of memory and a fraction of a second); the methods that do it say so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"
#include "format/crypt_config.h"
#include "format/digest.h"

namespace cairn {

// Scrypt cost for newly protected keys. The default is PBS's; tests use cheaper values.
struct ScryptParams {
  uint64_t n = 65536;
  uint64_t r = 8;
  uint64_t p = 1;
};

// PBS refuses passphrases shorter than this, when protecting a key and when opening one.
inline constexpr size_t kMinPassphraseLength = 5;

// A fresh random 32-byte key from OpenSSL's CSPRNG. IOError if the RNG fails.
Result<EncryptionKey> GenerateEncryptionKey();

class KeyFile {
 public:
  enum class Kdf { kNone, kScrypt, kPbkdf2 };

  // A new random key and its key file, protected by `passphrase` (unprotected if it is empty).
  // Slow when protected. Errors as Wrap.
  static Result<std::pair<EncryptionKey, KeyFile>> Create(std::string_view passphrase,
                                                          const ScryptParams& params = {});

  // A key file for `key`, protected by `passphrase` with scrypt, a fresh 32-byte salt and a
  // fresh IV (unprotected if `passphrase` is empty). created = modified = now; the fingerprint
  // is recorded. Slow when protected. InvalidArgument if the passphrase is shorter than
  // kMinPassphraseLength or the scrypt parameters are invalid; IOError if the RNG fails.
  static Result<KeyFile> Wrap(const EncryptionKey& key, std::string_view passphrase,
                              const ScryptParams& params = {});

  // Parses key file JSON as PBS writes it (timestamps with "Z" or a "+hh:mm" offset). Does not
  // decrypt. `name` (usually the path) names the file in this and later error messages.
  // InvalidArgument "key file <name>: <field>: <why>" on anything malformed, including KDF
  // parameters out of range (scrypt memory over 1 GiB, PBKDF2 over 10^7 iterations).
  static Result<KeyFile> Parse(std::string_view json, std::string_view name);

  // Reads and parses the file at `path`. NotFound if absent; IOError; errors of Parse.
  static Result<KeyFile> Load(const std::string& path);

  // Writes ToJson() to `path` atomically (temp file, fsync, rename) with mode 0600. With
  // `replace` false, AlreadyExists if `path` exists: creating a key never clobbers one.
  Status Save(const std::string& path, bool replace) const;

  // Recovers the key. The passphrase is ignored for an unprotected file. Slow when protected.
  // PermissionDenied "wrong passphrase for key file <name>" (plus the hint, if any) when the
  // passphrase does not open the file; InvalidArgument if it is shorter than
  // kMinPassphraseLength; Corruption if `data` has the wrong length or the key does not match
  // the recorded fingerprint.
  Result<EncryptionKey> Unlock(std::string_view passphrase) const;

  // The same key re-protected under `new_passphrase` (unprotected if empty), after unlocking
  // with `old_passphrase`. Keeps `created`, sets `modified` to now and the hint to `new_hint`,
  // as PBS's `key change-passphrase` does. Slow. Errors as Unlock and Wrap; InvalidArgument if
  // a hint is given for an unprotected result.
  Result<KeyFile> ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase,
                                   std::optional<std::string> new_hint = std::nullopt,
                                   const ScryptParams& params = {}) const;

  // Compact JSON in PBS's field order, timestamps in UTC ("...Z"), with a trailing newline.
  std::string ToJson() const;

  bool IsProtected() const { return kdf_ != Kdf::kNone; }
  Kdf kdf() const { return kdf_; }
  // KDF parameters: n, r, p for kScrypt; iterations for kPbkdf2; salt for both.
  uint64_t scrypt_n() const { return n_; }
  uint64_t scrypt_r() const { return r_; }
  uint64_t scrypt_p() const { return p_; }
  uint64_t pbkdf2_iterations() const { return iterations_; }
  const Bytes& salt() const { return salt_; }
  int64_t created() const { return created_; }    // seconds since the epoch
  int64_t modified() const { return modified_; }  // seconds since the epoch
  const Bytes& data() const { return data_; }
  // The recorded fingerprint as "aa:bb:..." (CryptConfig::FingerprintString), or "" if the
  // file records none (PBS files always do).
  std::string fingerprint() const;
  const std::optional<std::string>& hint() const { return hint_; }
  // Sets the passphrase hint. InvalidArgument for an unprotected file (PBS forbids it).
  Status set_hint(std::optional<std::string> hint);
  // The name error messages use (Parse's `name`; "" for a key file made in this process).
  const std::string& name() const { return name_; }

 private:
  KeyFile() = default;
  // The AES-256 key that wraps the client key, derived from `passphrase` by this file's KDF.
  Result<EncryptionKey> DeriveWrappingKey(std::string_view passphrase) const;
  std::string Describe() const;  // "key file <name>" or "the key file"

  Kdf kdf_ = Kdf::kNone;
  uint64_t n_ = 0, r_ = 0, p_ = 0, iterations_ = 0;
  Bytes salt_;
  int64_t created_ = 0;
  int64_t modified_ = 0;
  Bytes data_;
  std::optional<Digest> fingerprint_;
  std::optional<std::string> hint_;
  std::string name_;
};

}  // namespace cairn
