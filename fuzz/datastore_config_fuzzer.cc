// Fuzzes the datastore configuration parser (config/datastore_config.h, DatastoreConfig::Load):
// `datastore.json` in the config directory, which a user edits by hand. DatastoreConfig::Load reads
// by path, so each input is written to that file in a scratch directory first. A loaded config is
// then changed as `cairn datastore create` does (Add, which saves it) and loaded again: Cairn must
// read back what it wrote, entries unchanged (in the fields their backend uses).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/datastore_config.h"
#include "fuzz_support.h"
#include "scratch_dir.h"

namespace cairn::config {
namespace {

// Equal in what the backend uses: the S3 fields of a filesystem entry are not saved.
bool SameEntry(const DatastoreEntry& a, const DatastoreEntry& b) {
  if (a.path != b.path || a.backend != b.backend) return false;
  return a.backend != "s3" || (a.s3_endpoint == b.s3_endpoint && a.bucket == b.bucket &&
                               a.max_cache_size == b.max_cache_size);
}

void FuzzDatastoreConfig(std::string_view text) {
  const std::string& dir = fuzz::ScratchDir();
  fuzz::PutScratchFile("datastore.json", &text, 0644);
  auto config = DatastoreConfig::Load(dir);
  if (!config.ok()) return;
  for (const auto& [name, entry] : config->datastores()) {
    auto got = config->Get(name);
    FUZZ_CHECK(got.ok() && SameEntry(*got, entry), "Get disagrees with the loaded entries");
  }
  DatastoreEntry added;
  added.path = "/srv/fuzz-added";
  if (!config->Add("fuzz-added-store", added).ok()) return;
  auto reloaded = DatastoreConfig::Load(dir);
  FUZZ_CHECK(reloaded.ok(), "a config Cairn saved does not load");
  FUZZ_CHECK(reloaded->datastores().size() == config->datastores().size(),
             "a saved config lost or gained entries");
  for (const auto& [name, entry] : config->datastores()) {
    auto it = reloaded->datastores().find(name);
    FUZZ_CHECK(it != reloaded->datastores().end() && SameEntry(it->second, entry),
               "a saved config changed an entry");
  }
}

}  // namespace
}  // namespace cairn::config

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::config::FuzzDatastoreConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
