#include "server/auth/ticket.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cinttypes>
#include <cstdio>

#include "base/file_util.h"
#include "server/auth/encoding.h"

namespace cairn::server {
namespace {

constexpr std::string_view kPrefix = "PBS";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// Ed25519 signs the message itself; RSA (older installs) signs its SHA-256.
const EVP_MD* DigestFor(EVP_PKEY* key) {
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

std::string SignedData(std::string_view userid, int64_t time) {
  return std::string(kPrefix) + ":" + PercentEncode(userid) + ":" + FormatHexTime(time);
}

Status Refuse(TicketError why, TicketError* error, const std::string& message) {
  if (error != nullptr) *error = why;
  return Status::PermissionDenied("invalid ticket - " + message);
}

}  // namespace

std::string FormatHexTime(int64_t time) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08" PRIX64, static_cast<uint64_t>(time));
  return buf;
}

Result<int64_t> ParseHexTime(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return Status::InvalidArgument("bad timestamp length");
  uint64_t v = 0;
  for (const char c : hex) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return Status::InvalidArgument("timestamp is not hex");
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return Status::InvalidArgument("timestamp too large");
  return static_cast<int64_t>(v);
}

TicketError CheckTicketAge(int64_t time, int64_t now) {
  int64_t age = 0;
  if (__builtin_sub_overflow(now, time, &age)) {
    return now < time ? TicketError::kNotYetValid : TicketError::kExpired;
  }
  if (age < kTicketMinAge) return TicketError::kNotYetValid;
  if (age > kTicketLifetime) return TicketError::kExpired;
  return TicketError::kNone;
}

TicketKey::~TicketKey() {
  EVP_PKEY_free(key_);
}

Result<std::unique_ptr<TicketKey>> TicketKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return Status::IOError("generating an Ed25519 key failed");
  return std::unique_ptr<TicketKey>(new TicketKey(key));
}

Result<std::unique_ptr<TicketKey>> TicketKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::IOError("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return Status::Corruption("not a PEM private key");
  const int id = EVP_PKEY_get_id(key);
  if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return Status::Corruption("auth key is neither Ed25519 nor RSA");
  }
  return std::unique_ptr<TicketKey>(new TicketKey(key));
}

Result<std::string> TicketKey::PrivateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key_, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::IOError("encoding the private key failed");
  }
  return BioToString(bio.get());
}

Result<std::string> TicketKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_) != 1) {
    return Status::IOError("encoding the public key failed");
  }
  return BioToString(bio.get());
}

Result<std::unique_ptr<TicketKey>> TicketKey::LoadOrCreate(const std::string& config_dir) {
  const std::string key_path = JoinPath(config_dir, kAuthKeyFile);
  const std::string pub_path = JoinPath(config_dir, kAuthPubFile);
  auto existing = ReadFile(key_path);
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  if (!existing.ok()) {
    CAIRN_ASSIGN_OR_RETURN(auto fresh, Generate());
    CAIRN_ASSIGN_OR_RETURN(std::string pem, fresh->PrivateKeyPem());
    Status st = WriteFileCreateOnly(key_path, AsBytes(pem), 0600);
    if (!st.ok() && !st.IsAlreadyExists()) return st;
    existing = ReadFile(key_path);  // ours, or the racing winner's
    if (!existing.ok()) return existing.status();
  }
  auto key = FromPem(AsString(*existing));
  if (!key.ok()) return key.status().WithContext(key_path);
  auto pub_exists = PathExists(pub_path);
  if (!pub_exists.ok()) return pub_exists.status();
  if (!*pub_exists) {
    CAIRN_ASSIGN_OR_RETURN(std::string pub, (*key)->PublicKeyPem());
    CAIRN_RETURN_IF_ERROR(WriteFileAtomic(pub_path, AsBytes(pub), 0644));
  }
  return key;
}

Result<Bytes> TicketKey::Sign(ByteView data) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(key_), nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return Status::IOError("signing init failed");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
    return Status::IOError("signing failed");
  }
  sig.resize(len);
  return sig;
}

bool TicketKey::VerifySignature(ByteView data, ByteView signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(key_), nullptr, key_) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(),
                          data.size()) == 1;
}

Result<std::string> TicketKey::CreateTicket(const Userid& user, int64_t now) const {
  if (now < 0) return Status::InvalidArgument("ticket time before the epoch");
  const std::string data = SignedData(user.ToString(), now);
  CAIRN_ASSIGN_OR_RETURN(Bytes sig, Sign(AsBytes(data)));
  return data + "::" + Base64Encode(sig, /*pad=*/false);
}

Result<Userid> TicketKey::VerifyTicket(std::string_view ticket, int64_t now,
                                       TicketError* error) const {
  if (error != nullptr) *error = TicketError::kNone;
  // <prefix>:<data>:<time>::<signature>; only the signature may contain no ':' either.
  const size_t c1 = ticket.find(':');
  const size_t c2 = c1 == ticket.npos ? ticket.npos : ticket.find(':', c1 + 1);
  const size_t c3 = c2 == ticket.npos ? ticket.npos : ticket.find(':', c2 + 1);
  if (c3 == ticket.npos || c3 + 1 >= ticket.size() || ticket[c3 + 1] != ':') {
    return Refuse(TicketError::kMalformed, error, "malformed ticket");
  }
  if (ticket.substr(0, c1) != kPrefix) {
    return Refuse(TicketError::kMalformed, error, "ticket with invalid prefix");
  }
  auto data = PercentDecode(ticket.substr(c1 + 1, c2 - c1 - 1));
  auto userid = data.ok() ? Userid::Parse(*data) : Result<Userid>(data.status());
  if (!userid.ok()) return Refuse(TicketError::kMalformed, error, "ticket with invalid user");
  auto time = ParseHexTime(ticket.substr(c2 + 1, c3 - c2 - 1));
  if (!time.ok()) return Refuse(TicketError::kMalformed, error, "ticket with bad timestamp");
  const std::string_view sig_text = ticket.substr(c3 + 2);
  auto sig = sig_text.find('=') == sig_text.npos ? Base64Decode(sig_text)
                                                 : Result<Bytes>(Status::InvalidArgument("pad"));
  if (!sig.ok() || sig->empty()) {
    return Refuse(TicketError::kMalformed, error, "ticket with bad signature encoding");
  }
  // The signed text is rebuilt from the parsed fields: any other spelling of them (lower-case
  // hex, extra encoding) fails here.
  if (!VerifySignature(AsBytes(ticket.substr(0, c3)), *sig) ||
      ticket.substr(0, c3) != SignedData(userid->ToString(), *time)) {
    return Refuse(TicketError::kBadSignature, error, "ticket with invalid signature");
  }
  switch (CheckTicketAge(*time, now)) {
    case TicketError::kExpired: return Refuse(TicketError::kExpired, error, "expired");
    case TicketError::kNotYetValid:
      return Refuse(TicketError::kNotYetValid, error, "timestamp newer than expected");
    default: break;
  }
  return userid;
}

}  // namespace cairn::server
