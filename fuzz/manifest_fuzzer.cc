// Fuzzes the manifest parser (format/manifest.h): the JSON of a snapshot's `index.json.blob`,
// written by any client or server that can reach the datastore. A parsed manifest is used the
// way verify, restore and `snapshot notes` use it: every file looked up and verified against
// its own size and csum, the unprotected accessors, the signature computed, checked and made
// anew with the fuzz key. What Cairn serializes (ToJson) must parse back to the same JSON and
// keep a valid signature valid; a manifest Cairn signs must verify.
#include <cstddef>
#include <cstdint>
#include <string>

#include "format/manifest.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

void FuzzManifest(ByteView json) {
  static const CryptConfig key(fuzz::kKey);
  auto parsed = Manifest::Parse(json, "fuzz/index.json.blob");
  if (!parsed.ok()) return;
  Manifest& m = *parsed;

  for (const ManifestFile& f : m.files()) {
    FUZZ_CHECK(m.FindFile(f.filename) == &f, "FindFile does not find a listed file");
    FUZZ_CHECK(m.VerifyFile(f.filename, f.size, f.csum).ok(), "a file fails against itself");
    FUZZ_CHECK(f.extra.is_object(), "a file's extra keys are not an object");
    (void)f.chunk_crypt_mode();
  }
  (void)m.notes();
  (void)m.verify_state();
  (void)m.key_fingerprint();
  (void)m.CanonicalSignedJson();
  const bool signed_ok = m.signature().has_value() && m.VerifySignature(key, "fuzz").ok();
  if (!m.signature()) (void)m.VerifySignature(key, "fuzz");

  auto text = m.ToJson();
  if (text.ok()) {
    auto again = Manifest::Parse(AsBytes(*text), "fuzz/rewritten");
    FUZZ_CHECK(again.ok(), "a manifest Cairn wrote does not parse");
    auto text2 = again->ToJson();
    FUZZ_CHECK(text2.ok() && *text2 == *text, "a rewritten manifest serializes differently");
    if (signed_ok) {
      FUZZ_CHECK(again->VerifySignature(key, "fuzz").ok(), "rewriting broke the signature");
    }
  }

  // What `snapshot notes --set` and a backup's finish do to a stored manifest.
  m.SetNotes("fuzz");
  if (!m.files().empty()) {
    ManifestFile copy = m.files().front();
    FUZZ_CHECK(m.AddOrReplaceFile(std::move(copy)).ok(), "replacing a listed file failed");
  }
  if (m.Sign(key).ok()) {
    FUZZ_CHECK(m.VerifySignature(key, "fuzz").ok(), "a manifest Cairn signed does not verify");
  }
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzManifest(cairn::ByteView(data, size));
  return 0;
}
