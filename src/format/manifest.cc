#include "format/manifest.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <limits>

#include "base/hex.h"
#include "format/archive_name.h"

namespace cairn {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kKeyFingerprint = "key-fingerprint";
constexpr std::string_view kNotes = "notes";

bool IsSafeIdChar(char c, bool first) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
    return true;
  }
  return !first && (c == '.' || c == '-');
}

// PBS's BACKUP_ID regex: [A-Za-z0-9_][A-Za-z0-9._-]*.
bool IsSafeId(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsSafeIdChar(s[i], i == 0)) return false;
  }
  return true;
}

bool IsBackupType(std::string_view s) {
  return s == "vm" || s == "ct" || s == "host";
}

// Decodes "aa:bb:...:ff" (32 hex pairs joined by ':', either case).
bool ParseFingerprint(std::string_view text, Digest* out) {
  if (text.size() != 32 * 3 - 1) return false;
  std::string hex;
  hex.reserve(64);
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':') return false;
    } else {
      hex += text[i];
    }
  }
  return HexDecodeInto(hex, *out).ok();
}

// Validates the unprotected keys Cairn interprets. `why` receives the reason on failure.
bool CheckUnprotectedValue(std::string_view key, const Json& value, std::string* why) {
  if (key == kNotes && !value.is_string()) {
    *why = "'notes' must be a string";
    return false;
  }
  if (key == kKeyFingerprint && !value.is_null()) {
    Digest fp;
    if (!value.is_string() || !ParseFingerprint(value.get_ref<const std::string&>(), &fp)) {
      *why = "'key-fingerprint' must be 32 hex byte pairs joined by ':'";
      return false;
    }
  }
  return true;
}

bool ContainsNull(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_structured()) {
    for (const Json& item : v) {
      if (ContainsNull(item)) return true;
    }
  }
  return false;
}

// Collects the errors of Manifest::Parse as Corruption naming the object.
class Parser {
 public:
  explicit Parser(std::string_view object_name) : object_name_(object_name) {}

  Status Bad(const std::string& what) const {
    return Status::Corruption(std::string(object_name_) + ": invalid manifest: " + what);
  }

  Status String(const Json& obj, const char* key, std::string* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Bad(std::string("missing '") + key + "'");
    if (!it->is_string()) return Bad(std::string("'") + key + "' is not a string");
    *out = it->get<std::string>();
    return Status::OK();
  }

  Status Digest64(const Json& v, const std::string& field, Digest* out) const {
    if (!v.is_string()) return Bad("'" + field + "' is not a string");
    if (!HexDecodeInto(v.get_ref<const std::string&>(), *out).ok()) {
      return Bad("'" + field + "' is not 64 hex characters");
    }
    return Status::OK();
  }

  Status File(const Json& entry, size_t i, ManifestFile* file) const {
    std::string at = "files[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Bad(at + " is not an object");
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& key = it.key();
      const Json& v = it.value();
      if (key == "filename") {
        if (!v.is_string()) return Bad("'" + at + ".filename' is not a string");
        file->filename = v.get<std::string>();
        Status st = ValidateArchiveFileName(file->filename);
        if (!st.ok()) return Bad(at + ": " + st.message());
      } else if (key == "crypt-mode") {
        if (!v.is_string()) return Bad("'" + at + ".crypt-mode' is not a string");
        auto mode = ParseCryptMode(v.get_ref<const std::string&>());
        if (!mode.ok()) return Bad(at + ": " + mode.status().message());
        file->crypt_mode = *mode;
      } else if (key == "size") {
        if (!v.is_number_unsigned()) {
          return Bad("'" + at + ".size' is not an unsigned 64-bit integer");
        }
        file->size = v.get<uint64_t>();
      } else if (key == "csum") {
        CAIRN_RETURN_IF_ERROR(Digest64(v, at + ".csum", &file->csum));
      } else {
        file->extra[key] = v;
      }
    }
    for (const char* required : {"filename", "size", "csum"}) {
      if (!entry.contains(required)) return Bad(at + " has no '" + required + "'");
    }
    return Status::OK();
  }

 private:
  std::string_view object_name_;
};

}  // namespace

std::string_view CryptModeName(CryptMode mode) {
  switch (mode) {
    case CryptMode::kNone: return "none";
    case CryptMode::kEncrypt: return "encrypt";
    case CryptMode::kSignOnly: return "sign-only";
  }
  return "none";
}

Result<CryptMode> ParseCryptMode(std::string_view text) {
  if (text == "none") return CryptMode::kNone;
  if (text == "encrypt") return CryptMode::kEncrypt;
  if (text == "sign-only") return CryptMode::kSignOnly;
  return Status::InvalidArgument("unknown crypt-mode '" + std::string(text.substr(0, 40)) +
                                 "' (expected none, encrypt or sign-only)");
}

Result<Manifest> Manifest::Create(std::string_view backup_type, std::string_view backup_id,
                                  int64_t backup_time) {
  if (!IsBackupType(backup_type)) {
    return Status::InvalidArgument("backup type '" + std::string(backup_type.substr(0, 40)) +
                                   "' is not vm, ct or host");
  }
  if (!IsSafeId(backup_id)) {
    return Status::InvalidArgument("backup id '" + std::string(backup_id.substr(0, 80)) +
                                   "' is not [A-Za-z0-9_][A-Za-z0-9._-]*");
  }
  Manifest m;
  m.backup_type_ = std::string(backup_type);
  m.backup_id_ = std::string(backup_id);
  m.backup_time_ = backup_time;
  return m;
}

Result<Manifest> Manifest::Parse(ByteView json, std::string_view object_name) {
  Parser p(object_name);
  Json doc;
  try {
    doc = Json::parse(AsString(json));
  } catch (const Json::exception& e) {
    return Status::Corruption(std::string(object_name) +
                              ": manifest is not valid JSON: " + e.what());
  }
  if (!doc.is_object()) return p.Bad("not a JSON object");

  Manifest m;
  CAIRN_RETURN_IF_ERROR(p.String(doc, "backup-type", &m.backup_type_));
  if (!IsBackupType(m.backup_type_)) return p.Bad("'backup-type' is not vm, ct or host");
  CAIRN_RETURN_IF_ERROR(p.String(doc, "backup-id", &m.backup_id_));
  if (!IsSafeId(m.backup_id_)) return p.Bad("'backup-id' is not [A-Za-z0-9_][A-Za-z0-9._-]*");

  auto time = doc.find("backup-time");
  if (time == doc.end()) return p.Bad("missing 'backup-time'");
  if (time->is_number_unsigned()) {
    if (time->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return p.Bad("'backup-time' does not fit a signed 64-bit integer");
    }
  } else if (!time->is_number_integer()) {
    return p.Bad("'backup-time' is not an integer");
  }
  m.backup_time_ = time->get<int64_t>();

  auto files = doc.find("files");
  if (files == doc.end()) return p.Bad("missing 'files'");
  if (!files->is_array()) return p.Bad("'files' is not an array");
  for (size_t i = 0; i < files->size(); ++i) {
    ManifestFile file;
    CAIRN_RETURN_IF_ERROR(p.File((*files)[i], i, &file));
    if (m.FindFile(file.filename) != nullptr) {
      return p.Bad("file '" + file.filename + "' is listed twice");
    }
    m.files_.push_back(std::move(file));
  }

  auto unprotected = doc.find("unprotected");
  if (unprotected != doc.end()) {
    if (!unprotected->is_object()) return p.Bad("'unprotected' is not an object");
    for (auto it = unprotected->begin(); it != unprotected->end(); ++it) {
      std::string why;
      if (!CheckUnprotectedValue(it.key(), it.value(), &why)) return p.Bad("unprotected " + why);
    }
    m.unprotected_ = *unprotected;
  }

  auto signature = doc.find("signature");
  if (signature != doc.end() && !signature->is_null()) {
    Digest sig;
    CAIRN_RETURN_IF_ERROR(p.Digest64(*signature, "signature", &sig));
    m.signature_ = sig;
  }

  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key != "backup-type" && key != "backup-id" && key != "backup-time" && key != "files" &&
        key != "unprotected" && key != "signature") {
      m.extra_[key] = it.value();
    }
  }
  return m;
}

Json Manifest::SignedPart() const {
  Json doc = extra_;
  doc["backup-type"] = backup_type_;
  doc["backup-id"] = backup_id_;
  doc["backup-time"] = backup_time_;
  Json files = Json::array();
  for (const ManifestFile& f : files_) {
    Json entry = f.extra;
    entry["filename"] = f.filename;
    entry["crypt-mode"] = std::string(CryptModeName(f.crypt_mode));
    entry["size"] = f.size;
    entry["csum"] = DigestToHex(f.csum);
    files.push_back(std::move(entry));
  }
  doc["files"] = std::move(files);
  return doc;
}

Result<std::string> Manifest::ToJson() const {
  Json doc = SignedPart();
  doc["unprotected"] = unprotected_;
  doc["signature"] = signature_ ? Json(DigestToHex(*signature_)) : Json(nullptr);
  try {
    return doc.dump(2);
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string("manifest cannot be serialized: ") + e.what());
  }
}

Result<std::string> Manifest::CanonicalSignedJson() const {
  Json doc = SignedPart();
  if (ContainsNull(doc)) {
    return Status::InvalidArgument("manifest cannot be signed: canonical JSON refuses null");
  }
  try {
    return doc.dump();
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string("manifest cannot be serialized: ") + e.what());
  }
}

Result<Digest> Manifest::ComputeSignature(const CryptConfig& key) const {
  CAIRN_ASSIGN_OR_RETURN(std::string canonical, CanonicalSignedJson());
  return key.ComputeAuthTag(AsBytes(canonical));
}

Status Manifest::Sign(const CryptConfig& key) {
  CAIRN_ASSIGN_OR_RETURN(Digest sig, ComputeSignature(key));
  signature_ = sig;
  unprotected_[std::string(kKeyFingerprint)] = key.FingerprintString();
  return Status::OK();
}

Status Manifest::VerifySignature(const CryptConfig& key, std::string_view object_name) const {
  std::string name(object_name);
  if (!signature_) return Status::Corruption(name + ": manifest is not signed");
  if (auto stored = key_fingerprint()) {
    Digest fp;
    if (ParseFingerprint(*stored, &fp) && fp != key.Fingerprint()) {
      return Status::PermissionDenied(name + ": manifest was signed with key " + *stored +
                                      ", not with the given key " + key.FingerprintString());
    }
  }
  Result<Digest> expected = ComputeSignature(key);
  if (!expected.ok()) return Status::Corruption(name + ": " + expected.status().message());
  if (CRYPTO_memcmp(expected->data(), signature_->data(), signature_->size()) != 0) {
    return Status::Corruption(name + ": manifest signature does not match its content");
  }
  return Status::OK();
}

const ManifestFile* Manifest::FindFile(std::string_view filename) const {
  auto it = std::find_if(files_.begin(), files_.end(),
                         [&](const ManifestFile& f) { return f.filename == filename; });
  return it == files_.end() ? nullptr : &*it;
}

Status Manifest::VerifyFile(std::string_view filename, uint64_t size, const Digest& csum) const {
  const ManifestFile* f = FindFile(filename);
  if (f == nullptr) {
    return Status::NotFound("manifest does not list '" + std::string(filename) + "'");
  }
  if (f->size != size) {
    return Status::Corruption(std::string(filename) + ": size " + std::to_string(size) +
                              " does not match the manifest's " + std::to_string(f->size));
  }
  if (f->csum != csum) {
    return Status::Corruption(std::string(filename) + ": checksum " + DigestToHex(csum) +
                              " does not match the manifest's " + DigestToHex(f->csum));
  }
  return Status::OK();
}

Status Manifest::AddOrReplaceFile(ManifestFile file) {
  CAIRN_RETURN_IF_ERROR(ValidateArchiveFileName(file.filename));
  if (!file.extra.is_object()) {
    return Status::InvalidArgument("manifest entry '" + file.filename +
                                   "': extra must be a JSON object");
  }
  for (ManifestFile& existing : files_) {
    if (existing.filename == file.filename) {
      existing = std::move(file);
      return Status::OK();
    }
  }
  files_.push_back(std::move(file));
  return Status::OK();
}

Status Manifest::SetUnprotected(const std::string& key, nlohmann::json value) {
  std::string why;
  if (!CheckUnprotectedValue(key, value, &why)) return Status::InvalidArgument("manifest: " + why);
  unprotected_[key] = std::move(value);
  return Status::OK();
}

std::optional<std::string> Manifest::notes() const {
  auto it = unprotected_.find(kNotes);
  if (it == unprotected_.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<VerifyState> Manifest::verify_state() const {
  auto it = unprotected_.find("verify_state");
  if (it == unprotected_.end() || !it->is_object()) return std::nullopt;
  auto state = it->find("state");
  if (state == it->end() || !state->is_string()) return std::nullopt;
  auto upid = it->find("upid");
  return VerifyState{state->get<std::string>(),
                     upid != it->end() && upid->is_string() ? upid->get<std::string>() : ""};
}

std::optional<std::string> Manifest::key_fingerprint() const {
  auto it = unprotected_.find(kKeyFingerprint);
  if (it == unprotected_.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Status Manifest::SetKeyFingerprint(std::string_view fingerprint) {
  return SetUnprotected(std::string(kKeyFingerprint), std::string(fingerprint));
}

}  // namespace cairn
