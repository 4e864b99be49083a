#include "s3/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <random>

#include "base/quote.h"
#include "base/time.h"
#include "s3/errors.h"
#include "s3/hashing.h"

namespace cairn::s3 {
namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr size_t kMaxDeleteBatch = 1000;
constexpr uint64_t kMaxObjectBytes = uint64_t{1} << 30;  // largest object read into memory

// "Sun, 23 Nov 2026 10:00:00 GMT" -> Unix seconds.
std::optional<int64_t> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

double Random01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool IsRetryableS3Code(std::string_view code) {
  return code == "InternalError" || code == "SlowDown" || code == "ServiceUnavailable" ||
         code == "RequestTimeout";
}

}  // namespace

struct S3Client::Operation {
  Operation(RequestKind kind, std::string method, std::string key = "")
      : kind(kind), method(std::move(method)), key(std::move(key)) {}
  RequestKind kind;
  std::string method;
  std::string key;             // raw key; "" for the bucket itself (or the service)
  bool service_level = false;  // addresses the service (ListBuckets), not the bucket
  QueryList query;
  HeaderList headers;
  ByteView body;
  bool content_md5 = false;
  uint64_t expected_response_bytes = 0;
  uint64_t max_response_bytes = uint64_t{16} << 20;  // replies, listings, errors
  std::string what;                                  // "put KEY", for messages
};

S3Client::S3Client(EndpointConfig config, std::string bucket, Endpoint endpoint,
                   S3ClientOptions options, std::unique_ptr<http::Transport> transport)
    : config_(std::move(config)),
      bucket_(std::move(bucket)),
      endpoint_(std::move(endpoint)),
      service_endpoint_(Endpoint::Create(config_, "").value()),
      options_(std::move(options)),
      transport_(std::move(transport)) {}

S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Create(const EndpointConfig& config, std::string bucket,
                                                   S3ClientOptions options) {
  CAIRN_ASSIGN_OR_RETURN(Endpoint endpoint, Endpoint::Create(config, bucket));
  http::TransportOptions transport_options = options.transport;
  transport_options.max_connections = config.max_connections;
  transport_options.pinned_fingerprint =
      config.fingerprint.empty() ? "" : NormalizeFingerprint(config.fingerprint).value();
  if (config.rate_in > 0) {
    transport_options.rate_in = std::make_shared<http::TokenBucket>(
        static_cast<double>(config.rate_in), static_cast<double>(config.burst_in), options.clock);
  }
  if (config.rate_out > 0) {
    transport_options.rate_out = std::make_shared<http::TokenBucket>(
        static_cast<double>(config.rate_out), static_cast<double>(config.burst_out), options.clock);
  }
  CAIRN_ASSIGN_OR_RETURN(auto transport, http::Transport::Create(std::move(transport_options)));
  return std::unique_ptr<S3Client>(new S3Client(config, std::move(bucket), std::move(endpoint),
                                                std::move(options), std::move(transport)));
}

Result<http::Response> S3Client::ExecuteOnce(const Operation& op,
                                             std::optional<double>* retry_after) {
  const Endpoint& endpoint = op.service_level ? service_endpoint_ : endpoint_;
  std::string amz_date = AmzDate(NowEpoch());
  SigningRequest signing;
  signing.method = op.method;
  signing.encoded_path = endpoint.EncodedPath(op.key);
  signing.query = op.query;
  signing.payload_sha256 = op.body.empty() ? kEmptySha256 : Sha256Hex(op.body);
  signing.headers = {{"host", endpoint.host_header()},
                     {"x-amz-date", amz_date},
                     {"x-amz-content-sha256", signing.payload_sha256}};
  if (op.method == "PUT" || op.method == "POST") {
    signing.headers.emplace_back("content-length", std::to_string(op.body.size()));
  }
  if (op.content_md5) signing.headers.emplace_back("content-md5", Md5Base64(op.body));
  for (const auto& header : op.headers) signing.headers.push_back(header);
  Signature signature = SignV4(signing, config_.credentials, amz_date, config_.region, "s3");

  http::Request request;
  request.method = op.method;
  request.url = endpoint.Url(op.key, op.query);
  request.headers = std::move(signing.headers);
  request.headers.emplace_back("authorization", signature.authorization);
  // Not signed: proxies may rewrite it (botocore leaves it out for the same reason).
  request.headers.emplace_back("user-agent", "cairn/0.1");
  request.body = op.body;
  request.expected_response_bytes = op.expected_response_bytes;
  request.max_response_bytes = op.max_response_bytes;

  meter_.CountRequest(op.kind);
  meter_.AddBytesOut(op.body.size());
  Result<http::Response> sent = transport_->Send(request);
  if (!sent.ok()) return sent.status().WithContext(op.what);
  http::Response& response = *sent;
  meter_.AddBytesIn(response.body.size());
  if (response.status < 200 || response.status >= 300) {
    std::optional<std::string> header = response.Header("retry-after");
    if (header) *retry_after = ParseRetryAfter(*header);
    return StatusFromHttpReply(response.status, AsString(response.body), op.what);
  }
  return sent;
}

bool S3Client::MayRetry(int attempt) const {
  return attempt < std::max(1, options_.retry.max_attempts);
}

void S3Client::WaitToRetry(int attempt, std::optional<double> retry_after) {
  meter_.CountRetry();
  options_.clock->Sleep(BackoffDelay(options_.retry, attempt + 1, Random01(), retry_after));
}

Result<http::Response> S3Client::Execute(const Operation& op) {
  for (int attempt = 1;; ++attempt) {
    std::optional<double> retry_after;
    Result<http::Response> result = ExecuteOnce(op, &retry_after);
    if (result.ok()) return result;
    Status status = result.status();
    if (!status.retryable() || !MayRetry(attempt)) {
      if (!status.IsNotFound() && !status.IsAlreadyExists()) meter_.CountFailure();
      if (status.retryable() && attempt > 1) {
        return Status(status.code(),
                      fmt::format("{} (gave up after {} attempts)", status.message(), attempt));
      }
      return status;
    }
    WaitToRetry(attempt, retry_after);
  }
}

Result<http::Response> S3Client::HeadBucketReply() {
  Operation op{RequestKind::kHead, "HEAD"};
  op.what = fmt::format("head bucket {}", QuoteForMessage(bucket_));
  Result<http::Response> reply = Execute(op);
  if (reply.status().IsNotFound()) {
    return Status::NotFound(reply.status().message() +
                            " (no such bucket, or these credentials cannot see it)");
  }
  if (reply.status().code() == Code::kPermissionDenied) {
    return Status::PermissionDenied(reply.status().message() + ExplainDenial());
  }
  return reply;
}

std::string S3Client::ExplainDenial() {
  // A HEAD reply has no body, so it cannot say why it was refused: a one-key listing of the
  // same bucket, refused the same way, carries the S3 error code.
  Operation op{RequestKind::kList, "GET"};
  op.query = {{"list-type", "2"}, {"max-keys", "1"}};
  op.what = "list";
  Status st = Execute(op).status();
  const std::string& m = st.message();
  if (st.code() != Code::kPermissionDenied) return "";
  if (m.find("SignatureDoesNotMatch") != std::string::npos) {
    return " (SignatureDoesNotMatch: the secret key is wrong for this access key)";
  }
  if (m.find("InvalidAccessKeyId") != std::string::npos) {
    return " (InvalidAccessKeyId: the server does not know this access key)";
  }
  if (m.find("RequestTimeTooSkewed") != std::string::npos) {
    return " (RequestTimeTooSkewed: this host's clock is off; fix it)";
  }
  if (m.find("AccessDenied") != std::string::npos) {
    return " (AccessDenied: the credentials are valid but have no permission on this bucket)";
  }
  return "";
}

Status S3Client::HeadBucket() {
  return HeadBucketReply().status();
}

Status S3Client::CreateBucket() {
  Operation op{RequestKind::kPut, "PUT"};
  // us-east-1 is the one region that must not be named.
  std::string body =
      config_.region == "us-east-1"
          ? ""
          : fmt::format(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                config_.region);
  op.body = AsBytes(body);
  op.what = fmt::format("create bucket {}", QuoteForMessage(bucket_));
  return Execute(op).status();
}

Result<std::vector<BucketInfo>> S3Client::ListBuckets() {
  Operation op{RequestKind::kList, "GET"};
  op.service_level = true;
  op.what = "list buckets";
  CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
  return ParseListBuckets(AsString(response.body));
}

Result<ObjectInfo> S3Client::HeadObject(const ObjectKey& key) {
  Operation op{RequestKind::kHead, "HEAD", key.str()};
  op.what = "head " + QuoteForMessage(key.str());
  CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
  ObjectInfo info;
  info.key = key.str();
  std::string length = response.Header("content-length").value_or("");
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), info.size);
  if (length.empty() || ec != std::errc() || end != length.data() + length.size()) {
    return Status::Corruption(op.what + ": reply has no valid Content-Length");
  }
  info.etag = StripQuotes(response.Header("etag").value_or(""));
  if (auto modified = response.Header("last-modified")) {
    info.last_modified = ParseHttpDate(*modified).value_or(0);
  }
  return info;
}

Result<Bytes> S3Client::GetObject(const ObjectKey& key) {
  Operation op{RequestKind::kGet, "GET", key.str()};
  op.max_response_bytes = kMaxObjectBytes;
  op.what = "get " + QuoteForMessage(key.str());
  CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
  return std::move(response.body);
}

Result<Bytes> S3Client::GetObjectRange(const ObjectKey& key, uint64_t offset, uint64_t length) {
  if (length == 0 || length > kMaxObjectBytes || offset > UINT64_MAX - length) {
    return Status::InvalidArgument(
        fmt::format("get {}: bad range {}+{}", QuoteForMessage(key.str()), offset, length));
  }
  Operation op{RequestKind::kGet, "GET", key.str()};
  op.headers.emplace_back("range", fmt::format("bytes={}-{}", offset, offset + length - 1));
  op.expected_response_bytes = length;
  op.what = fmt::format("get {} bytes {}+{}", QuoteForMessage(key.str()), offset, length);
  op.max_response_bytes = kMaxObjectBytes;
  CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
  Bytes body = std::move(response.body);
  if (response.status == 200) {
    // The server ignored the range and sent the whole object: cut the range out ourselves.
    if (offset >= body.size()) {
      return Status::InvalidArgument(op.what + ": offset is past the end of the object");
    }
    uint64_t end = std::min<uint64_t>(body.size(), offset + length);
    return Bytes(body.begin() + static_cast<ptrdiff_t>(offset),
                 body.begin() + static_cast<ptrdiff_t>(end));
  }
  // 206: the reply must be exactly the bytes asked for (fewer only at the end of the object).
  std::string range = response.Header("content-range").value_or("");
  uint64_t first = 0, last = 0, total = 0;
  if (std::sscanf(range.c_str(), "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &first, &last, &total) !=
          3 ||
      first != offset || last < first || body.size() != last - first + 1 ||
      (body.size() != length && last + 1 != total)) {
    return Status::Corruption(fmt::format("{}: reply holds {} bytes with Content-Range '{}'",
                                          op.what, body.size(), QuoteForMessage(range)));
  }
  return body;
}

Status S3Client::PutObject(const ObjectKey& key, ByteView data) {
  Operation op{RequestKind::kPut, "PUT", key.str()};
  op.body = data;
  op.what = "put " + QuoteForMessage(key.str());
  return Execute(op).status();
}

bool S3Client::HoldsPayload(const ObjectInfo& stored, ByteView data) {
  // The ETag of a single-part upload is the MD5 of its bytes (not under SSE-KMS/SSE-C, where
  // this says "other content" and callers treat the object as a duplicate).
  std::string etag = stored.etag;
  std::transform(etag.begin(), etag.end(), etag.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return stored.size == data.size() && etag == Md5Hex(data);
}

Result<PutOutcome> S3Client::PutObjectIfAbsent(const ObjectKey& key, ByteView data) {
  // A 412 (or, with the quirk, a HEAD hit) followed by a HEAD miss means the object was deleted
  // in between: try again, a bounded number of times.
  for (int round = 0; round < 3; ++round) {
    if (config_.quirks.skip_if_none_match_header) {
      Result<ObjectInfo> existing = HeadObject(key);
      if (existing.ok())
        return HoldsPayload(*existing, data) ? PutOutcome::kStored : PutOutcome::kAlreadyExists;
      if (!existing.status().IsNotFound()) return existing.status();
      CAIRN_RETURN_IF_ERROR(PutObject(key, data));
      return PutOutcome::kStored;
    }
    Operation op{RequestKind::kPut, "PUT", key.str()};
    op.body = data;
    op.headers.emplace_back("if-none-match", "*");
    op.what = "put (create-only) " + QuoteForMessage(key.str());
    Result<http::Response> result = Execute(op);
    if (result.ok()) return PutOutcome::kStored;
    if (!result.status().IsAlreadyExists()) return result.status();
    // 412 does not say whose object it is: a PUT of ours whose reply was lost may have stored
    // it (retried by us, or resent by libcurl on a stale keep-alive connection). Our payload
    // there means this PUT succeeded.
    Result<ObjectInfo> stored = HeadObject(key);
    if (stored.ok())
      return HoldsPayload(*stored, data) ? PutOutcome::kStored : PutOutcome::kAlreadyExists;
    if (!stored.status().IsNotFound()) return stored.status();
  }
  return Status::Unavailable(
      fmt::format("put (create-only) {}: the object keeps appearing and disappearing",
                  QuoteForMessage(key.str())));
}

Status S3Client::DeleteObject(const ObjectKey& key) {
  Operation op{RequestKind::kDelete, "DELETE", key.str()};
  op.what = "delete " + QuoteForMessage(key.str());
  Status status = Execute(op).status();
  // S3 answers 204 for a missing key; some providers answer 404 NoSuchKey, which is fine too.
  bool missing_key =
      status.IsNotFound() && status.message().find("NoSuchBucket") == std::string::npos;
  return missing_key ? Status::OK() : status;
}

Status S3Client::DeleteObjects(const std::vector<ObjectKey>& keys) {
  for (size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
    std::vector<ObjectKey> batch(
        keys.begin() + static_cast<ptrdiff_t>(start),
        keys.begin() + static_cast<ptrdiff_t>(std::min(keys.size(), start + kMaxDeleteBatch)));
    if (config_.quirks.delete_objects_via_delete_object) {
      for (const ObjectKey& key : batch) CAIRN_RETURN_IF_ERROR(DeleteObject(key));
    } else {
      CAIRN_RETURN_IF_ERROR(DeleteBatch(batch));
    }
  }
  return Status::OK();
}

Status S3Client::DeleteBatch(const std::vector<ObjectKey>& keys) {
  std::vector<std::string> pending;
  for (const ObjectKey& key : keys) pending.push_back(key.str());
  for (int attempt = 1;; ++attempt) {
    std::string body = BuildDeleteRequest(pending);
    Operation op{RequestKind::kDelete, "POST"};
    op.query = {{"delete", ""}};
    op.body = AsBytes(body);
    op.content_md5 = true;
    op.headers.emplace_back("content-type", "application/xml");
    op.what = fmt::format("delete {} objects", pending.size());
    CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
    CAIRN_ASSIGN_OR_RETURN(std::vector<DeleteError> errors,
                           ParseDeleteResult(AsString(response.body)));
    if (errors.empty()) return Status::OK();
    bool all_retryable = std::all_of(errors.begin(), errors.end(), [](const DeleteError& e) {
      return IsRetryableS3Code(e.code);
    });
    if (!all_retryable || !MayRetry(attempt)) {
      meter_.CountFailure();
      std::string listed;
      bool denied = false;
      for (size_t i = 0; i < errors.size() && i < 5; ++i) {
        listed += fmt::format("{}{} ({}: {})", i ? ", " : "", QuoteForMessage(errors[i].key),
                              QuoteForMessage(errors[i].code), QuoteForMessage(errors[i].message));
      }
      for (const DeleteError& e : errors) denied |= e.code == "AccessDenied";
      std::string message = fmt::format("delete {} objects: {} failed: {}{}", keys.size(),
                                        errors.size(), listed, errors.size() > 5 ? ", ..." : "");
      if (denied) return Status::PermissionDenied(std::move(message));
      if (all_retryable) return Status::Unavailable(std::move(message));
      return Status::IOError(std::move(message));
    }
    pending.clear();
    for (const DeleteError& e : errors) pending.push_back(e.key);
    WaitToRetry(attempt, std::nullopt);
  }
}

Status S3Client::CopyObject(const ObjectKey& source, const ObjectKey& target) {
  Operation op{RequestKind::kCopy, "PUT", target.str()};
  op.headers.emplace_back("x-amz-copy-source", UriEncode(bucket_ + "/" + source.str(), false));
  op.what =
      fmt::format("copy {} to {}", QuoteForMessage(source.str()), QuoteForMessage(target.str()));
  for (int attempt = 1;; ++attempt) {
    CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
    // S3 may report a failed copy inside a 200 reply; success is a <CopyObjectResult>.
    std::string_view body = AsString(response.body);
    if (body.find("CopyObjectResult") != std::string_view::npos) return Status::OK();
    ErrorReply error = ParseErrorReply(body);
    Status status = StatusFromHttpReply(IsRetryableS3Code(error.code) ? 503 : 400, body, op.what);
    if (error.code.empty())
      status = Status::Corruption(op.what + ": reply is not a CopyObjectResult");
    if (!status.retryable() || !MayRetry(attempt)) {
      meter_.CountFailure();
      return status;
    }
    WaitToRetry(attempt, std::nullopt);
  }
}

Result<ListPage> S3Client::ListObjectsPage(const ListOptions& options,
                                           const std::string& continuation_token) {
  CAIRN_RETURN_IF_ERROR(ValidatePrefix(options.prefix));
  Operation op{RequestKind::kList, "GET"};
  op.query = {{"list-type", "2"}, {"encoding-type", "url"}};
  if (!options.prefix.empty()) op.query.emplace_back("prefix", options.prefix);
  if (!options.delimiter.empty()) op.query.emplace_back("delimiter", options.delimiter);
  if (!options.start_after.empty()) op.query.emplace_back("start-after", options.start_after);
  if (options.max_keys > 0) op.query.emplace_back("max-keys", std::to_string(options.max_keys));
  if (!continuation_token.empty()) op.query.emplace_back("continuation-token", continuation_token);
  op.what = "list " + QuoteForMessage(options.prefix);
  CAIRN_ASSIGN_OR_RETURN(http::Response response, Execute(op));
  Result<ListPage> page = ParseListObjectsV2(AsString(response.body));
  if (!page.ok()) return page.status().WithContext(op.what);
  return page;
}

Result<std::vector<ObjectInfo>> S3Client::ListAll(const std::string& prefix) {
  ListOptions options;
  options.prefix = prefix;
  ObjectLister lister = List(std::move(options));
  std::vector<ObjectInfo> all;
  ListPage page;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool more, lister.Next(&page));
    if (!more) return all;
    for (ObjectInfo& info : page.objects) all.push_back(std::move(info));
  }
}

Result<int64_t> S3Client::ClockSkew() {
  int64_t before = NowEpoch();
  CAIRN_ASSIGN_OR_RETURN(http::Response response, HeadBucketReply());
  std::optional<int64_t> server = ParseHttpDate(response.Header("date").value_or(""));
  if (!server) {
    return Status::Corruption(
        fmt::format("head bucket {}: reply has no valid Date header", QuoteForMessage(bucket_)));
  }
  int64_t after = NowEpoch();
  return *server - (before + after) / 2;
}

Result<bool> ObjectLister::Next(ListPage* page) {
  *page = ListPage();
  if (done_) return false;
  CAIRN_ASSIGN_OR_RETURN(*page, client_->ListObjectsPage(options_, continuation_token_));
  continuation_token_ = page->next_continuation_token;
  done_ = !page->truncated;
  return true;
}

}  // namespace cairn::s3
