#include "storage/object_store.h"

#include <algorithm>
#include <cctype>

#include "s3/hashing.h"

namespace cairn {

bool ContentMatchesEtag(const StoredObject& object, ByteView data) {
  const std::string& etag = object.etag;
  const bool plain_md5 = etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) {
                           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                         });
  if (!plain_md5) return true;
  std::string lower = etag;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return lower == s3::Md5Hex(data);
}

}  // namespace cairn
