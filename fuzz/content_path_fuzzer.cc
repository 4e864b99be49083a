// Fuzzes the parsers of keys listed from an S3 bucket. ParseContentPath
// (datastore/backend/content_path.h) maps a metadata object's key to the file a refresh writes
// below the local datastore root: whatever it accepts must stay inside the datastore (`dir` and
// `file` relative, of plain components: no "", "." or ".." and no NUL; `file` directly inside
// `dir`; the shape its kind names). s3::ObjectKey::Parse (s3/object_key.h) guards every request: a
// key it accepts keeps its documented rules (1..1024 bytes, no leading '/', no control character,
// no "", "." or ".." segment).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "datastore/backend/content_path.h"
#include "fuzz_support.h"
#include "s3/object_key.h"

namespace cairn {
namespace {

void FuzzObjectKey(std::string_view text) {
  (void)s3::ValidatePrefix(text);
  auto key = s3::ObjectKey::Parse(text);
  if (!key.ok()) return;
  FUZZ_CHECK(key->str() == text, "ObjectKey changed the key");
  FUZZ_CHECK(!text.empty() && text.size() <= s3::kMaxKeyLength, "a key of a bad length");
  FUZZ_CHECK(fuzz::IsPlainRelativePath(text), "a key with an empty, '.' or '..' segment");
  for (unsigned char c : text) FUZZ_CHECK(c >= 0x20 && c != 0x7f, "a key with a control byte");
  FUZZ_CHECK(s3::ValidatePrefix(text).ok(), "a valid key is not a valid prefix");
}

void FuzzContentPath(std::string_view path) {
  FuzzObjectKey(path);
  auto parsed = ParseContentPath(path);
  if (!parsed.ok()) return;
  FUZZ_CHECK(fuzz::IsPlainRelativePath(parsed->dir), "content dir escapes the datastore");
  if (parsed->kind == ContentKind::kNamespaceMarker) {
    FUZZ_CHECK(parsed->file.empty(), "a namespace marker names a file");
    FUZZ_CHECK(parsed->dir.starts_with("ns/"), "a namespace marker outside a namespace");
    return;
  }
  FUZZ_CHECK(fuzz::IsPlainRelativePath(parsed->file), "content file escapes the datastore");
  FUZZ_CHECK(parsed->file.starts_with(parsed->dir + "/") &&
                 parsed->file.find('/', parsed->dir.size() + 1) == std::string::npos,
             "content file is not directly inside its dir");
  FUZZ_CHECK(parsed->file == path, "content file differs from the path it came from");
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzContentPath(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
