#include "format/key_file.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/hex.h"
#include "base/time.h"

namespace cairn {
namespace {

using Json = nlohmann::ordered_json;  // keeps PBS's field order on output

constexpr size_t kSaltSize = 32;
constexpr size_t kIvSize = 16;
constexpr size_t kTagSize = 16;
constexpr size_t kWrappedSize = kIvSize + kTagSize + sizeof(EncryptionKey);
// PBS passes this memory limit to scrypt; a key file asking for more is refused.
constexpr uint64_t kScryptMaxMem = uint64_t{1025} << 20;
// CPU bound on n*r*p: 128 times PBS's cost, so a hostile file cannot stall us for hours.
constexpr uint64_t kScryptMaxWork = uint64_t{1} << 26;
constexpr uint64_t kMaxPbkdf2Iterations = 10'000'000;

// Wipes a derived or recovered key when it goes out of scope.
struct KeyWiper {
  EncryptionKey& key;
  ~KeyWiper() { OPENSSL_cleanse(key.data(), key.size()); }
};

std::string Base64Encode(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // +1: EVP_EncodeBlock writes a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Standard base64 with padding, as PBS's serde helper writes it. Anything that does not
// re-encode to exactly the same text (whitespace, missing padding, stray bits) is rejected.
Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > (size_t{1} << 20)) {
    return Status::InvalidArgument("not canonical base64");
  }
  Bytes out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return Status::InvalidArgument("not base64");
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (static_cast<size_t>(n) < pad) return Status::InvalidArgument("not base64");
  out.resize(static_cast<size_t>(n) - pad);
  if (Base64Encode(out) != text) return Status::InvalidArgument("not canonical base64");
  return out;
}

// PBS's RFC 3339 subset: "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS+hh:mm" / "-hh:mm".
Result<int64_t> ParseTimestamp(std::string_view text) {
  if (text.size() == 20) return ParseRfc3339Utc(text);
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 25 || (text[19] != '+' && text[19] != '-') || text[22] != ':' || !digit(20) ||
      !digit(21) || !digit(23) || !digit(24)) {
    return Status::InvalidArgument(fmt::format("'{}' is not an RFC 3339 timestamp", text));
  }
  CAIRN_ASSIGN_OR_RETURN(int64_t local, ParseRfc3339Utc(std::string(text.substr(0, 19)) + "Z"));
  const int hours = (text[20] - '0') * 10 + (text[21] - '0');
  const int minutes = (text[23] - '0') * 10 + (text[24] - '0');
  if (hours > 23 || minutes > 59) {
    return Status::InvalidArgument(fmt::format("'{}' has a bad UTC offset", text));
  }
  const int64_t offset = hours * 3600 + minutes * 60;
  return text[19] == '+' ? local - offset : local + offset;
}

std::string FormatTimestamp(int64_t epoch) {
  // Every KeyFile timestamp comes from the clock or from ParseTimestamp, so it is in range.
  auto text = FormatRfc3339Utc(epoch);
  return text.ok() ? *text : "1970-01-01T00:00:00Z";
}

// PBS's parser: drop every ':' and read exactly 32 hex bytes.
Result<Digest> ParseFingerprint(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c != ':') hex += c;
  }
  Digest out;
  if (!HexDecodeInto(hex, out).ok()) {
    return Status::InvalidArgument("not a fingerprint (32 hex byte pairs joined by ':')");
  }
  return out;
}

Status CheckScrypt(uint64_t n, uint64_t r, uint64_t p) {
  const bool shape_ok = n >= 2 && (n & (n - 1)) == 0 && n <= (uint64_t{1} << 32) && r >= 1 &&
                        r <= (uint64_t{1} << 20) && p >= 1 && p <= (uint64_t{1} << 20);
  if (!shape_ok || 128 * r * (n + 2 + p) > kScryptMaxMem || n * r * p > kScryptMaxWork) {
    return Status::InvalidArgument(fmt::format(
        "scrypt parameters n={} r={} p={} are invalid or too costly (n a power of two >= 2, "
        "r, p >= 1, at most 1 GiB of memory)",
        n, r, p));
  }
  return Status::OK();
}

// Typed field access on parsed JSON; errors name the field.
Status Missing(const char* field) {
  return Status::InvalidArgument(fmt::format("{}: missing or of the wrong type", field));
}

Result<std::string_view> GetString(const Json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_string()) return Missing(field);
  return std::string_view(it->get_ref<const std::string&>());
}

Result<uint64_t> GetUnsigned(const Json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_number_unsigned()) return Missing(field);
  return it->get<uint64_t>();
}

Result<Bytes> GetBase64(const Json& obj, const char* field) {
  CAIRN_ASSIGN_OR_RETURN(std::string_view text, GetString(obj, field));
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) return bytes.status().WithContext(field);
  return bytes;
}

Result<int64_t> GetTimestamp(const Json& obj, const char* field) {
  CAIRN_ASSIGN_OR_RETURN(std::string_view text, GetString(obj, field));
  auto epoch = ParseTimestamp(text);
  if (!epoch.ok())
    return Status::InvalidArgument(fmt::format("{}: {}", field, epoch.status().message()));
  return epoch;
}

}  // namespace

Result<EncryptionKey> GenerateEncryptionKey() {
  EncryptionKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Status::IOError("random key generation failed");
  }
  return key;
}

Result<std::pair<EncryptionKey, KeyFile>> KeyFile::Create(std::string_view passphrase,
                                                          const ScryptParams& params) {
  CAIRN_ASSIGN_OR_RETURN(EncryptionKey key, GenerateEncryptionKey());
  CAIRN_ASSIGN_OR_RETURN(KeyFile file, Wrap(key, passphrase, params));
  return std::make_pair(key, std::move(file));
}

Result<KeyFile> KeyFile::Wrap(const EncryptionKey& key, std::string_view passphrase,
                              const ScryptParams& params) {
  KeyFile file;
  file.created_ = file.modified_ = NowEpoch();
  file.fingerprint_ = CryptConfig(key).Fingerprint();
  if (passphrase.empty()) {
    file.data_.assign(key.begin(), key.end());
    return file;
  }
  if (passphrase.size() < kMinPassphraseLength) {
    return Status::InvalidArgument(
        fmt::format("passphrase is too short (at least {} characters)", kMinPassphraseLength));
  }
  CAIRN_RETURN_IF_ERROR(CheckScrypt(params.n, params.r, params.p));
  file.kdf_ = Kdf::kScrypt;
  file.n_ = params.n;
  file.r_ = params.r;
  file.p_ = params.p;
  file.salt_.resize(kSaltSize);
  if (RAND_bytes(file.salt_.data(), static_cast<int>(kSaltSize)) != 1) {
    return Status::IOError("random salt generation failed");
  }
  CAIRN_ASSIGN_OR_RETURN(EncryptionKey wrapping, file.DeriveWrappingKey(passphrase));
  KeyWiper wipe{wrapping};
  file.data_.resize(kWrappedSize);
  uint8_t* iv = file.data_.data();
  uint8_t* tag = iv + kIvSize;
  CAIRN_RETURN_IF_ERROR(CryptConfig(wrapping).Encrypt(
      key, iv, tag, std::span<uint8_t>(file.data_).subspan(kIvSize + kTagSize)));
  return file;
}

Result<EncryptionKey> KeyFile::DeriveWrappingKey(std::string_view passphrase) const {
  EncryptionKey out;
  int ok = 0;
  if (kdf_ == Kdf::kScrypt) {
    ok = EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt_.data(), salt_.size(), n_, r_,
                        p_, kScryptMaxMem, out.data(), out.size());
  } else if (kdf_ == Kdf::kPbkdf2) {
    ok = PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), salt_.data(),
                           static_cast<int>(salt_.size()), static_cast<int>(iterations_),
                           EVP_sha256(), static_cast<int>(out.size()), out.data());
  }
  if (ok != 1) {
    return Status::InvalidArgument(
        fmt::format("{}: key derivation failed (invalid KDF parameters)", Describe()));
  }
  return out;
}

Result<EncryptionKey> KeyFile::Unlock(std::string_view passphrase) const {
  EncryptionKey key;
  if (kdf_ == Kdf::kNone) {
    if (data_.size() != key.size()) {
      return Status::Corruption(fmt::format("{}: unprotected key is {} bytes, expected {}",
                                            Describe(), data_.size(), key.size()));
    }
    std::memcpy(key.data(), data_.data(), key.size());
  } else {
    if (passphrase.size() < kMinPassphraseLength) {
      return Status::InvalidArgument(
          fmt::format("passphrase for {} is too short (at least {} characters)", Describe(),
                      kMinPassphraseLength));
    }
    if (data_.size() != kWrappedSize) {
      return Status::Corruption(fmt::format("{}: encrypted key data is {} bytes, expected {}",
                                            Describe(), data_.size(), kWrappedSize));
    }
    CAIRN_ASSIGN_OR_RETURN(EncryptionKey wrapping, DeriveWrappingKey(passphrase));
    KeyWiper wipe{wrapping};
    const ByteView wrapped(data_);
    Status st = CryptConfig(wrapping).Decrypt(wrapped.subspan(kIvSize + kTagSize), wrapped.data(),
                                              wrapped.data() + kIvSize, key);
    if (st.IsCorruption()) {
      // GCM cannot tell a wrong passphrase from a tampered file; the passphrase is far likelier.
      return Status::PermissionDenied(
          fmt::format("wrong passphrase for {}{}", Describe(),
                      hint_ ? fmt::format(" (passphrase hint: {})", *hint_) : std::string()));
    }
    CAIRN_RETURN_IF_ERROR(st);
  }
  if (fingerprint_) {
    const Digest actual = CryptConfig(key).Fingerprint();
    if (actual != *fingerprint_) {
      OPENSSL_cleanse(key.data(), key.size());
      return Status::Corruption(
          fmt::format("{} records fingerprint {} but its key has fingerprint {}", Describe(),
                      fingerprint(), CryptConfig::FingerprintToString(actual)));
    }
  }
  return key;
}

Result<KeyFile> KeyFile::ChangePassphrase(std::string_view old_passphrase,
                                          std::string_view new_passphrase,
                                          std::optional<std::string> new_hint,
                                          const ScryptParams& params) const {
  if (new_passphrase.empty() && new_hint) {
    return Status::InvalidArgument("a passphrase hint needs a protected key file");
  }
  CAIRN_ASSIGN_OR_RETURN(EncryptionKey key, Unlock(old_passphrase));
  KeyWiper wipe{key};
  CAIRN_ASSIGN_OR_RETURN(KeyFile file, Wrap(key, new_passphrase, params));
  file.created_ = created_;
  file.hint_ = std::move(new_hint);
  file.name_ = name_;
  return file;
}

std::string KeyFile::ToJson() const {
  Json j;
  switch (kdf_) {
    case Kdf::kNone: j["kdf"] = nullptr; break;
    case Kdf::kScrypt:
      j["kdf"]["Scrypt"] = {{"n", n_}, {"r", r_}, {"p", p_}, {"salt", Base64Encode(salt_)}};
      break;
    case Kdf::kPbkdf2:
      j["kdf"]["PBKDF2"] = {{"iter", iterations_}, {"salt", Base64Encode(salt_)}};
      break;
  }
  j["created"] = FormatTimestamp(created_);
  j["modified"] = FormatTimestamp(modified_);
  j["data"] = Base64Encode(data_);
  if (fingerprint_) j["fingerprint"] = fingerprint();
  if (hint_) j["hint"] = *hint_;
  return j.dump() + "\n";
}

Result<KeyFile> KeyFile::Parse(std::string_view json, std::string_view name) {
  KeyFile file;
  file.name_ = std::string(name);
  auto fail = [&](const Status& st) {
    return Status::InvalidArgument(fmt::format("{}: {}", file.Describe(), st.message()));
  };
  const Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(Status::InvalidArgument("not a JSON object"));

  // PBS's kdf is an Option of an externally tagged enum: null (or absent) for an unprotected
  // key, else an object with exactly one key naming the variant.
  auto kdf = j.find("kdf");
  if (kdf != j.end() && !kdf->is_null()) {
    if (!kdf->is_object() || kdf->size() != 1 || !kdf->begin()->is_object()) {
      return fail(Status::InvalidArgument(
          "kdf: expected null, {\"Scrypt\": {...}} or {\"PBKDF2\": {...}}"));
    }
    const std::string& variant = kdf->begin().key();
    const Json& params = kdf->begin().value();
    if (variant == "Scrypt") {
      file.kdf_ = Kdf::kScrypt;
      auto n = GetUnsigned(params, "n"), r = GetUnsigned(params, "r"), p = GetUnsigned(params, "p");
      if (!n.ok() || !r.ok() || !p.ok()) return fail(Missing("kdf.Scrypt: n, r, p"));
      file.n_ = *n;
      file.r_ = *r;
      file.p_ = *p;
      Status st = CheckScrypt(file.n_, file.r_, file.p_);
      if (!st.ok()) return fail(st);
    } else if (variant == "PBKDF2") {
      file.kdf_ = Kdf::kPbkdf2;
      auto iter = GetUnsigned(params, "iter");
      if (!iter.ok()) return fail(iter.status().WithContext("kdf.PBKDF2"));
      if (*iter < 1 || *iter > kMaxPbkdf2Iterations) {
        return fail(Status::InvalidArgument(
            fmt::format("kdf.PBKDF2.iter: {} is out of range 1..{}", *iter, kMaxPbkdf2Iterations)));
      }
      file.iterations_ = *iter;
    } else {
      return fail(Status::InvalidArgument(fmt::format("kdf: unknown variant '{}'", variant)));
    }
    auto salt = GetBase64(params, "salt");
    if (!salt.ok()) return fail(salt.status().WithContext("kdf." + variant));
    file.salt_ = std::move(salt).value();
  }

  auto created = GetTimestamp(j, "created");
  if (!created.ok()) return fail(created.status());
  file.created_ = *created;
  auto modified = GetTimestamp(j, "modified");
  if (!modified.ok()) return fail(modified.status());
  file.modified_ = *modified;
  auto data = GetBase64(j, "data");
  if (!data.ok()) return fail(data.status());
  file.data_ = std::move(data).value();

  if (auto fp = j.find("fingerprint"); fp != j.end() && !fp->is_null()) {
    if (!fp->is_string()) return fail(Missing("fingerprint"));
    auto digest = ParseFingerprint(fp->get_ref<const std::string&>());
    if (!digest.ok()) return fail(digest.status().WithContext("fingerprint"));
    file.fingerprint_ = *digest;
  }
  if (auto hint = j.find("hint"); hint != j.end() && !hint->is_null()) {
    if (!hint->is_string()) return fail(Missing("hint"));
    file.hint_ = hint->get<std::string>();
  }
  return file;
}

Result<KeyFile> KeyFile::Load(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(Bytes text, ReadFile(path));
  return Parse(AsString(text), path);
}

Status KeyFile::Save(const std::string& path, bool replace) const {
  const std::string json = ToJson();
  return replace ? WriteFileAtomic(path, AsBytes(json), 0600)
                 : WriteFileCreateOnly(path, AsBytes(json), 0600);
}

std::string KeyFile::fingerprint() const {
  return fingerprint_ ? CryptConfig::FingerprintToString(*fingerprint_) : std::string();
}

Status KeyFile::set_hint(std::optional<std::string> hint) {
  if (hint && !IsProtected()) {
    return Status::InvalidArgument("a passphrase hint needs a protected key file");
  }
  hint_ = std::move(hint);
  return Status::OK();
}

std::string KeyFile::Describe() const {
  return name_.empty() ? std::string("the key file") : "key file " + name_;
}

}  // namespace cairn
