// Fuzzes AWS Signature V4 (s3/sigv4.h) with arbitrary requests: method, path, query, headers,
// credentials, date and region are all taken from the input, as they may come from a user's
// endpoint configuration, object keys and (later) a server checking signed requests. The
// signer must not crash and must be a function: the same request signs the same way twice,
// the query's order does not matter (it is sorted), UriEncode leaves only unreserved bytes
// and %XX escapes, and a signature is 64 lowercase hex digits.
//
// Input: fields separated by NUL bytes: method, encoded path, amz date, region, service,
// access key, secret key, payload SHA-256, then (name, value) pairs: a name starting with '?'
// is a query parameter (without the '?'), any other a header.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "s3/sigv4.h"

namespace cairn::s3 {
namespace {

std::vector<std::string> SplitFields(std::string_view input) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    fields.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  return fields;
}

bool IsHexUpper(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

void CheckEncoded(std::string_view text, bool encode_slash) {
  const std::string out = UriEncode(text, encode_slash);
  size_t decoded = 0;
  for (size_t i = 0; i < out.size(); ++decoded) {
    const char c = out[i];
    if (c == '%') {
      FUZZ_CHECK(i + 2 < out.size() && IsHexUpper(out[i + 1]) && IsHexUpper(out[i + 2]),
                 "UriEncode wrote a bad escape");
      i += 3;
      continue;
    }
    FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !encode_slash),
               "UriEncode left a reserved byte");
    ++i;
  }
  FUZZ_CHECK(decoded == text.size(), "UriEncode changed the number of bytes");
}

void FuzzSigV4(std::string_view input) {
  std::vector<std::string> f = SplitFields(input);
  f.resize(std::max<size_t>(f.size(), 8));
  SigningRequest request;
  request.method = f[0];
  request.encoded_path = f[1];
  const std::string& amz_date = f[2];
  const std::string& region = f[3];
  const std::string& service = f[4];
  const Credentials credentials{f[5], f[6]};
  request.payload_sha256 = f[7];
  for (size_t i = 8; i + 1 < f.size(); i += 2) {
    if (!f[i].empty() && f[i][0] == '?') {
      request.query.emplace_back(f[i].substr(1), f[i + 1]);
    } else {
      request.headers.emplace_back(f[i], f[i + 1]);
    }
  }

  const Signature a = SignV4(request, credentials, amz_date, region, service);
  const Signature b = SignV4(request, credentials, amz_date, region, service);
  FUZZ_CHECK(a.canonical_request == b.canonical_request && a.string_to_sign == b.string_to_sign &&
                 a.signature == b.signature && a.authorization == b.authorization,
             "signing the same request twice differs");
  auto lower_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  FUZZ_CHECK(
      a.signature.size() == 64 && std::all_of(a.signature.begin(), a.signature.end(), lower_hex),
      "a signature is not 64 lowercase hex digits");

  SigningRequest reversed = request;
  std::reverse(reversed.query.begin(), reversed.query.end());
  FUZZ_CHECK(CanonicalQueryString(reversed.query) == CanonicalQueryString(request.query),
             "the canonical query depends on the order of the parameters");
  FUZZ_CHECK(SignV4(reversed, credentials, amz_date, region, service).signature == a.signature,
             "the signature depends on the order of the query parameters");

  for (const std::string& field : f) {
    CheckEncoded(field, true);
    CheckEncoded(field, false);
  }
  int64_t epoch = 0;
  for (size_t i = 0; i < 8 && i < input.size(); ++i) {
    epoch =
        static_cast<int64_t>(static_cast<uint64_t>(epoch) << 8 | static_cast<uint8_t>(input[i]));
  }
  (void)AmzDate(epoch);
}

}  // namespace
}  // namespace cairn::s3

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::s3::FuzzSigV4(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
