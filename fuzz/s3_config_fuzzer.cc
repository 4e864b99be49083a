// Fuzzes the S3 endpoint configuration parser (config/s3_endpoints.h, S3EndpointStore::Load): the
// config directory's `s3.json` and `s3-secrets.json`, which a user may edit by hand. The input
// is the settings file, then optionally a NUL byte and the secrets file (absent without the
// NUL); both are written (mode 0600) to a scratch directory for Load. Each endpoint loaded is
// turned into request URLs (s3/endpoint.h) and its settings written back as Cairn saves them
// (EndpointSettingsToJson), which must load again to the same endpoint.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/s3_endpoints.h"
#include "fuzz_support.h"
#include "s3/endpoint.h"
#include "scratch_dir.h"

namespace cairn::config {
namespace {

bool SameEndpoint(const s3::EndpointConfig& a, const s3::EndpointConfig& b) {
  return a.id == b.id && a.endpoint == b.endpoint && a.port == b.port && a.region == b.region &&
         a.credentials.access_key == b.credentials.access_key &&
         a.credentials.secret_key == b.credentials.secret_key && a.path_style == b.path_style &&
         a.fingerprint == b.fingerprint && a.put_rate_limit == b.put_rate_limit &&
         a.rate_in == b.rate_in && a.burst_in == b.burst_in && a.rate_out == b.rate_out &&
         a.burst_out == b.burst_out && a.max_connections == b.max_connections &&
         a.quirks.Names() == b.quirks.Names();
}

void FuzzS3Config(std::string_view input) {
  const size_t nul = input.find('\0');
  const std::string_view settings = input.substr(0, nul);
  const std::string_view secrets =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  fuzz::PutScratchFile("s3.json", &settings);
  fuzz::PutScratchFile("s3-secrets.json", nul == std::string_view::npos ? nullptr : &secrets);
  auto store = S3EndpointStore::Load(fuzz::ScratchDir());
  if (!store.ok()) return;

  nlohmann::json saved_settings = {{"endpoints", nlohmann::json::object()}};
  nlohmann::json saved_secrets = nlohmann::json::object();
  for (const auto& [id, config] : store->endpoints()) {
    auto endpoint = s3::Endpoint::Create(config, "fuzz-bucket");
    if (endpoint.ok()) {
      (void)endpoint->Url("some/key", {{"list-type", "2"}});
      (void)endpoint->host_header();
    }
    (void)s3::Endpoint::Create(config, "");
    saved_settings["endpoints"][id] = EndpointSettingsToJson(config);
    saved_secrets[id] = config.credentials.secret_key;
  }
  // What S3EndpointStore::Save writes for these endpoints must load back unchanged.
  const std::string settings_text = saved_settings.dump(2);
  const std::string secrets_text = saved_secrets.dump(2);
  const std::string_view settings_view = settings_text, secrets_view = secrets_text;
  fuzz::PutScratchFile("s3.json", &settings_view);
  fuzz::PutScratchFile("s3-secrets.json", &secrets_view);
  auto again = S3EndpointStore::Load(fuzz::ScratchDir());
  FUZZ_CHECK(again.ok(), "S3 endpoint settings as Cairn saves them do not load");
  FUZZ_CHECK(again->endpoints().size() == store->endpoints().size(), "endpoints lost or gained");
  for (const auto& [id, config] : store->endpoints()) {
    auto it = again->endpoints().find(id);
    FUZZ_CHECK(it != again->endpoints().end() && SameEndpoint(it->second, config),
               "saving and loading changed an S3 endpoint");
  }
}

}  // namespace
}  // namespace cairn::config

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::config::FuzzS3Config(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
