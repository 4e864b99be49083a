// Authentication tickets, as PBS's proxmox-auth-api (spec 4.2):
//
//   PBS:<userid>:<HEX>::<signature>
//
// <HEX> is the creation time in epoch seconds, upper-case hex, at least 8 digits. The signature
// (base64 without padding) covers "PBS:<userid>:<HEX>", where the userid is percent-encoded
// (encoding.h PercentEncode: ':' would be the separator; a valid Userid has none, so only
// non-ASCII bytes and '%' are ever encoded). New keys are Ed25519 (signed without a digest);
// an RSA key of an older install signs with SHA-256. A ticket is valid while its age
// now - time lies in [-300, 7200] seconds.
//
// The key pair lives in the config directory: `authkey.key` (PEM private key, mode 0600) and
// `authkey.pub` (PEM public key, 0644), generated on first use.
//
// Thread-safety: a TicketKey is immutable after creation and may be used from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "server/auth/auth_id.h"

struct evp_pkey_st;

namespace cairn::server {

inline constexpr char kAuthKeyFile[] = "authkey.key";
inline constexpr char kAuthPubFile[] = "authkey.pub";
inline constexpr int64_t kTicketLifetime = 7200;  // seconds
inline constexpr int64_t kTicketMinAge = -300;    // tolerated clock skew

// "%08X" of `time`. REQUIRES: time >= 0.
std::string FormatHexTime(int64_t time);
// 1..16 hex digits (either case) to a non-negative time. InvalidArgument otherwise.
Result<int64_t> ParseHexTime(std::string_view hex);

// Why a ticket (or CSRF token) was refused.
enum class TicketError {
  kNone,
  kMalformed,     // not of the ticket's shape, or an invalid userid
  kBadSignature,  // signature does not verify: forged or tampered
  kExpired,       // older than kTicketLifetime
  kNotYetValid,   // more than 300 s in the future
};

// kNone if kTicketMinAge <= now - time <= kTicketLifetime, else kExpired / kNotYetValid.
TicketError CheckTicketAge(int64_t time, int64_t now);

class TicketKey {
 public:
  // Loads authkey.key from `config_dir`, or generates an Ed25519 key and writes authkey.key and
  // authkey.pub if there is none. Two processes racing to generate end up with the same key
  // (create-only write). Corruption if the key file does not hold a usable private key.
  static Result<std::unique_ptr<TicketKey>> LoadOrCreate(const std::string& config_dir);
  // A fresh in-memory Ed25519 key (tests, or a key that is never persisted).
  static Result<std::unique_ptr<TicketKey>> Generate();
  // Reads a PEM private key (Ed25519 or RSA). Corruption if it is not one.
  static Result<std::unique_ptr<TicketKey>> FromPem(std::string_view pem);

  ~TicketKey();
  TicketKey(const TicketKey&) = delete;
  TicketKey& operator=(const TicketKey&) = delete;

  // PEM of the private key (PKCS#8) and of the public key (SubjectPublicKeyInfo).
  Result<std::string> PrivateKeyPem() const;
  Result<std::string> PublicKeyPem() const;

  // A ticket for `user` created at `now`. InvalidArgument if now < 0.
  Result<std::string> CreateTicket(const Userid& user, int64_t now) const;

  // The user a valid ticket names. PermissionDenied otherwise, with `*error` (if given) set to
  // why; the message says "invalid ticket - " and the reason.
  Result<Userid> VerifyTicket(std::string_view ticket, int64_t now,
                              TicketError* error = nullptr) const;

  // The raw signature primitives.
  Result<Bytes> Sign(ByteView data) const;
  bool VerifySignature(ByteView data, ByteView signature) const;

 private:
  explicit TicketKey(evp_pkey_st* key) : key_(key) {}
  evp_pkey_st* key_;
};

}  // namespace cairn::server
