// Fuzzes the parser of `user.cfg` (server/auth/user_config.h, UserConfig::Parse), a section
// config an admin may edit by hand. Anything accepted must hold root@pam, serialize to text
// that parses back to the same users and tokens, and serialize the same way again. IsActive
// must answer for every entry without trouble.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "server/auth/user_config.h"

namespace cairn::server {
namespace {

void FuzzUserConfig(std::string_view text) {
  auto config = UserConfig::Parse(text);
  if (!config.ok()) return;
  FUZZ_CHECK(config->FindUser(Userid::Root()) != nullptr, "root@pam is missing");
  const std::string once = config->Serialize();
  auto again = UserConfig::Parse(once);
  FUZZ_CHECK(again.ok(), "a serialized user.cfg does not parse");
  FUZZ_CHECK(again->users() == config->users(), "users changed in a round trip");
  FUZZ_CHECK(again->tokens() == config->tokens(), "tokens changed in a round trip");
  FUZZ_CHECK(again->Serialize() == once, "serialization is not stable");
  for (const auto& [id, token] : config->tokens()) {
    FUZZ_CHECK(id.is_token(), "a token section holds a user id");
    (void)config->IsActive(id, 1'700'000'000);
  }
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::server::FuzzUserConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
