// Password hashing as PBS does it (proxmox-sys crypt.rs): crypt(3) hashes made by libxcrypt.
// New hashes are yescrypt, "$y$j9T$<salt>$<hash>" (crypt_gensalt_rn("$y$", 5, 32 random
// bytes)); verification accepts any method libxcrypt knows, so old "$5$" (sha256crypt) hashes
// still verify and are reported as needing a re-hash. Used for shadow.json passwords and for
// token.shadow secrets alike.
//
// Thread-safety: all functions may be called concurrently (crypt_rn with per-call state).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::server {

// A new yescrypt hash of `password` with a fresh random salt. InvalidArgument if the password
// contains a NUL byte (crypt(3) could not see past it); IOError if hashing fails.
Result<std::string> HashPassword(std::string_view password);

struct PasswordCheck {
  bool ok = false;            // the password matches the hash
  bool needs_rehash = false;  // ok, but the hash is not yescrypt: store a new HashPassword()
};

// Checks `password` against the stored crypt(3) hash, comparing in constant time. A malformed
// or unknown hash, or a password with a NUL byte, never matches.
PasswordCheck VerifyPassword(std::string_view password, std::string_view stored_hash);

}  // namespace cairn::server
