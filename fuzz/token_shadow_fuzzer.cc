// Fuzzes what the auth layer reads from files and request headers that an attacker may shape:
// the JSON of `shadow.json` / `token.shadow` (server/auth/shadow.h ParseShadow), the API token
// Authorization header (api_token_header.h), tickets and CSRF tokens (ticket.h, csrf.h), and
// the base64 / percent decoders under them (encoding.h). Accepted shadow files must round-trip;
// a ticket or CSRF token made up by the fuzzer must never verify (the key is secret); decoders
// must read back what their encoders write.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fuzz_check.h"
#include "server/auth/api_token_header.h"
#include "server/auth/csrf.h"
#include "server/auth/encoding.h"
#include "server/auth/shadow.h"
#include "server/auth/ticket.h"

namespace cairn::server {
namespace {

constexpr int64_t kNow = 1'700'000'000;

const TicketKey& Key() {
  static const std::unique_ptr<TicketKey> key = [] {
    auto k = TicketKey::Generate();
    FUZZ_CHECK(k.ok(), "cannot generate a ticket key");
    return std::move(*k);
  }();
  return *key;
}

void FuzzAuthInputs(std::string_view text) {
  auto shadow = ParseShadow(text);
  if (shadow.ok()) {
    auto again = ParseShadow(SerializeShadow(*shadow));
    FUZZ_CHECK(again.ok() && *again == *shadow, "a shadow file changed in a round trip");
  }
  auto header = ParseApiTokenHeader(text);
  if (header.ok()) {
    FUZZ_CHECK(header->tokenid.is_token() && !header->secret.empty(),
               "a header without token or secret was accepted");
  }
  TicketError why = TicketError::kNone;
  auto user = Key().VerifyTicket(text, kNow, &why);
  FUZZ_CHECK(!user.ok() && why != TicketError::kNone, "a forged ticket verified");
  static const CsrfKey csrf(Bytes(64, 7));
  FUZZ_CHECK(!csrf.VerifyToken(Userid::Root(), text, kNow).ok(), "a forged CSRF token verified");

  auto bytes = Base64Decode(text);
  if (bytes.ok()) {
    auto back = Base64Decode(Base64Encode(*bytes, false));
    FUZZ_CHECK(back.ok() && *back == *bytes, "base64 does not read back");
  }
  auto decoded = PercentDecode(text);
  if (decoded.ok()) {
    auto back = PercentDecode(PercentEncode(*decoded));
    FUZZ_CHECK(back.ok() && *back == *decoded, "percent encoding does not read back");
  }
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::server::FuzzAuthInputs(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
