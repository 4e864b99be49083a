// Fuzzes the parsers of S3 replies (s3/xml.h): the bodies an S3 endpoint, or anything posing as
// one, sends back. Every input goes through all of them (error reply, ListBuckets,
// ListObjectsV2, DeleteObjects, the timestamp parser); a listing's keys are also turned into a
// DeleteObjects request, as GC does with the chunks it removes. A listing that says it is
// truncated must carry a continuation token (ListObjectsV2 would otherwise loop forever).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "s3/xml.h"

namespace cairn::s3 {
namespace {

void FuzzS3Xml(std::string_view body) {
  (void)ParseErrorReply(body);
  (void)ParseListBuckets(body);
  (void)ParseDeleteResult(body);
  (void)ParseIsoTime(body);
  (void)StripQuotes(body);
  auto page = ParseListObjectsV2(body);
  if (!page.ok()) return;
  FUZZ_CHECK(!page->truncated || !page->next_continuation_token.empty(),
             "a truncated listing without a continuation token was accepted");
  std::vector<std::string> keys;
  for (const ObjectInfo& object : page->objects) keys.push_back(object.key);
  (void)BuildDeleteRequest(keys);
}

}  // namespace
}  // namespace cairn::s3

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::s3::FuzzS3Xml(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
