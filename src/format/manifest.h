// Manifest is the content of a snapshot's `index.json.blob` (docs/format-index-and-manifest.md):
// which archives the snapshot holds, with their size and checksum, plus an unsigned
// `unprotected` section (notes, verify state, key fingerprint, upload statistics). It is JSON,
// byte-compatible with PBS: ToJson writes what PBS's serde_json::to_string_pretty writes (keys
// sorted by byte order, 2-space indent, "key": value, no trailing newline). The DataBlob around
// it is the caller's business (it is always unencrypted).
//
//   {
//     "backup-id": "100",
//     "backup-time": 1700000000,
//     "backup-type": "vm",
//     "files": [ {"crypt-mode": "none", "csum": "<hex64>", "filename": "drive-scsi0.img.fidx",
//                 "size": 34359738368} ],
//     "signature": null,
//     "unprotected": {}
//   }
//
// Signature: hex(HMAC-SHA256(id_key, CanonicalSignedJson())), where the signed document is the
// manifest without `unprotected` and `signature`, keys sorted by byte order, no whitespace.
// Unknown top-level keys and unknown keys inside a file entry are kept verbatim (and therefore
// signed and re-serialized), which is what PBS's verification over the raw JSON needs.
//
// Errors: a stored manifest that does not parse or validate is Corruption naming the object;
// bad values passed in by a caller are InvalidArgument.
//
// Thread-safety: a Manifest is a value; const methods may be called concurrently, mutation needs
// exclusive access.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "format/crypt_config.h"
#include "format/digest.h"

namespace cairn {

enum class CryptMode { kNone, kEncrypt, kSignOnly };

// "none", "encrypt", "sign-only".
std::string_view CryptModeName(CryptMode mode);
// The reverse; InvalidArgument for anything else.
Result<CryptMode> ParseCryptMode(std::string_view text);

struct ManifestFile {
  std::string filename;  // server-side archive name, e.g. "root.pxar.didx"
  CryptMode crypt_mode = CryptMode::kNone;
  uint64_t size = 0;  // index: image/stream size; blob: encoded blob length
  Digest csum{};      // index: index_csum; blob: SHA-256 of the encoded blob
  // Keys of the JSON entry Cairn does not know, kept verbatim. Always a JSON object.
  nlohmann::json extra = nlohmann::json::object();

  // Crypt mode of the chunks the archive references: kEncrypt for an encrypted archive,
  // kNone for plain and sign-only ones.
  CryptMode chunk_crypt_mode() const {
    return crypt_mode == CryptMode::kEncrypt ? CryptMode::kEncrypt : CryptMode::kNone;
  }
};

// The outcome of the last verification (unprotected `verify_state`).
struct VerifyState {
  std::string state;  // "ok" or "failed" (others are kept as read)
  std::string upid;   // the task that verified (types/upid.h), "" if absent
};

class Manifest {
 public:
  // A new, empty, unsigned manifest. InvalidArgument if `backup_type` is not vm, ct or host, or
  // `backup_id` is not a SAFE_ID ([A-Za-z0-9_][A-Za-z0-9._-]*).
  static Result<Manifest> Create(std::string_view backup_type, std::string_view backup_id,
                                 int64_t backup_time);

  // Parses the JSON of a stored manifest (the decoded blob). Does not check the signature.
  // Corruption naming `object_name` on malformed JSON, a missing or mistyped field, a backup
  // type/id as rejected by Create, a hostile or non-archive filename (see archive_name.h), a
  // duplicate filename, a csum or signature that is not 64 hex characters, a non-object
  // `unprotected`, a non-string `notes`, or a malformed `key-fingerprint`.
  // `crypt-mode` defaults to none and `unprotected` to {} when absent, as in PBS.
  static Result<Manifest> Parse(ByteView json, std::string_view object_name);

  // Pretty-printed JSON as PBS writes it. InvalidArgument if a string is not valid UTF-8.
  Result<std::string> ToJson() const;

  // The bytes that are signed: the manifest without `unprotected` and `signature`, keys sorted
  // by byte order, no whitespace. InvalidArgument on invalid UTF-8 or a null value (PBS's
  // canonical JSON refuses null).
  Result<std::string> CanonicalSignedJson() const;

  // HMAC-SHA256(id_key, CanonicalSignedJson()).
  Result<Digest> ComputeSignature(const CryptConfig& key) const;

  // Signs with `key`: sets `signature` and unprotected `key-fingerprint` (PBS does both).
  Status Sign(const CryptConfig& key);

  // Checks the signature against `key`; `object_name` names the manifest in errors.
  //  - Corruption if the manifest has no signature, or the signature does not match (content
  //    tampered with, or signed by another key while the fingerprint was removed or forged).
  //  - PermissionDenied if unprotected `key-fingerprint` names a different key than `key`:
  //    the caller holds the wrong key (nothing is known to be corrupt).
  // Callers that accept unsigned manifests check signature().has_value() first.
  Status VerifySignature(const CryptConfig& key, std::string_view object_name) const;

  void ClearSignature() { signature_.reset(); }

  const std::string& backup_type() const { return backup_type_; }
  const std::string& backup_id() const { return backup_id_; }
  int64_t backup_time() const { return backup_time_; }
  const std::vector<ManifestFile>& files() const { return files_; }
  const std::optional<Digest>& signature() const { return signature_; }

  // The entry named `filename`, or nullptr.
  const ManifestFile* FindFile(std::string_view filename) const;

  // NotFound if `filename` is not listed; Corruption naming it if its size or csum differ.
  Status VerifyFile(std::string_view filename, uint64_t size, const Digest& csum) const;

  // Adds `file`, or replaces the entry of the same name in place. InvalidArgument if the
  // filename is not a valid archive file name or `extra` is not an object. Does not re-sign:
  // a previous signature no longer matches until Sign is called again.
  Status AddOrReplaceFile(ManifestFile file);

  // The unprotected section (always a JSON object).
  const nlohmann::json& unprotected() const { return unprotected_; }
  // Sets unprotected[key] = value. InvalidArgument if `notes` is given a non-string or
  // `key-fingerprint` something other than null or "aa:bb:..." (32 hex pairs).
  Status SetUnprotected(const std::string& key, nlohmann::json value);
  void EraseUnprotected(const std::string& key) { unprotected_.erase(key); }

  // Snapshot notes (unprotected `notes`), if set.
  std::optional<std::string> notes() const;
  void SetNotes(std::string_view notes) { unprotected_["notes"] = std::string(notes); }

  // Unprotected `verify_state`, if present with a string `state` (anything else reads as never
  // verified).
  std::optional<VerifyState> verify_state() const;
  void SetVerifyState(const VerifyState& state) {
    unprotected_["verify_state"] = {{"state", state.state}, {"upid", state.upid}};
  }

  // Unprotected `key-fingerprint` ("aa:bb:..." lowercase as PBS writes it), if set.
  std::optional<std::string> key_fingerprint() const;
  // InvalidArgument unless `fingerprint` is 32 hex pairs joined by ':'.
  Status SetKeyFingerprint(std::string_view fingerprint);

 private:
  Manifest() = default;

  nlohmann::json SignedPart() const;

  std::string backup_type_;
  std::string backup_id_;
  int64_t backup_time_ = 0;
  std::vector<ManifestFile> files_;
  nlohmann::json unprotected_ = nlohmann::json::object();
  std::optional<Digest> signature_;
  nlohmann::json extra_ = nlohmann::json::object();  // unknown top-level keys, verbatim
};

}  // namespace cairn
