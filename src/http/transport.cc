#include "http/transport.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/mutex.h"
#include "base/quote.h"
#include "http/tls_certificate.h"

namespace cairn::http {
namespace {

// State of one pooled handle for the request it is running.
struct Transfer {
  const TransportOptions* options = nullptr;
  ByteView body;
  size_t body_offset = 0;
  Response* response = nullptr;
  uint64_t max_response_bytes = 0;
  bool too_large = false;
};

// A pooled handle. Its pin lives as long as the handle, because OpenSSL keeps the verify
// callback's argument for the connection's lifetime (beyond the request that opened it); the
// pin's `seen` is cleared per request.
struct Handle {
  CURL* curl = nullptr;
  CertificatePin pin;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = std::min(size * nitems, t->body.size() - t->body_offset);
  if (n > 0 && t->options->rate_out) {
    // Hand out at most a burst at a time, so the limit holds within one large body too.
    n = std::min(n, std::max<size_t>(1, static_cast<size_t>(t->options->rate_out->burst())));
    t->options->rate_out->Acquire(static_cast<double>(n));
  }
  std::memcpy(buffer, t->body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  if (t->response->body.size() + n > t->max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  if (n > 0 && t->options->rate_in) t->options->rate_in->Acquire(static_cast<double>(n));
  // uint8_t pointers: with char* the insert compiles to a byte-by-byte loop (GCC 12).
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  t->response->body.insert(t->response->body.end(), bytes, bytes + n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new status line (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  if (name == "content-length") {
    // Size the body once instead of growing it through many reallocations.
    uint64_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && length <= t->max_response_bytes) t->response->body.reserve(length);
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

CURLcode InstallPinning(CURL*, void* ssl_ctx, void* userdata) {
  SSL_CTX_set_cert_verify_callback(static_cast<SSL_CTX*>(ssl_ctx), VerifyCertificatePin, userdata);
  return CURLE_OK;
}

Status StatusFromCurl(CURLcode code, const char* error_buffer, const Transfer& transfer,
                      const CertificatePin& pin, const Request& request) {
  std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  std::string what = fmt::format("{} {}", request.method, request.url);
  if (!pin.seen.empty()) {
    return Status::PermissionDenied(
        fmt::format("{}: TLS certificate fingerprint {} does not match the pinned {}", what,
                    pin.seen, pin.pinned));
  }
  if (transfer.too_large) {
    return Status::Corruption(
        fmt::format("{}: reply larger than {} bytes", what, transfer.max_response_bytes));
  }
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return Status::PermissionDenied(
          fmt::format("{}: TLS certificate not trusted ({}); pin it with --fingerprint if it is "
                      "self-signed",
                      what, detail));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(fmt::format("{}: {}", what, detail));
    case CURLE_OUT_OF_MEMORY: return Status::IOError(fmt::format("{}: {}", what, detail));
    default: return Status::Unavailable(fmt::format("{}: {}", what, detail));
  }
}

}  // namespace

std::optional<std::string> Response::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

struct Transport::Impl {
  TransportOptions options;
  CURLSH* share = nullptr;
  // libcurl locks and unlocks these in separate callbacks: plain mutexes, not annotated.
  std::mutex share_mu[CURL_LOCK_DATA_LAST];

  Mutex mu;
  CondVar available{&mu};
  std::vector<Handle*> idle CAIRN_GUARDED_BY(mu);
  std::vector<std::unique_ptr<Handle>> all;

  ~Impl() {
    for (auto& handle : all) curl_easy_cleanup(handle->curl);
    if (share) curl_share_cleanup(share);
  }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* userptr) {
    static_cast<Impl*>(userptr)->share_mu[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* userptr) {
    static_cast<Impl*>(userptr)->share_mu[data].unlock();
  }

  Handle* Acquire() {
    MutexLock lock(mu);
    while (idle.empty()) available.Wait();
    Handle* handle = idle.back();
    idle.pop_back();
    return handle;
  }
  void Release(Handle* handle) {
    {
      MutexLock lock(mu);
      idle.push_back(handle);
    }
    available.Signal();
  }
};

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() = default;

Result<std::unique_ptr<Transport>> Transport::Create(TransportOptions options) {
  static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global_init != CURLE_OK) return Status::IOError("libcurl initialisation failed");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->share = curl_share_init();
  if (!impl->share) return Status::IOError("libcurl: cannot create a share handle");
  curl_share_setopt(impl->share, CURLSHOPT_LOCKFUNC, &Impl::Lock);
  curl_share_setopt(impl->share, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock);
  curl_share_setopt(impl->share, CURLSHOPT_USERDATA, impl.get());
  curl_share_setopt(impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  for (int i = 0; i < std::max(1, impl->options.max_connections); ++i) {
    auto handle = std::make_unique<Handle>();
    handle->curl = curl_easy_init();
    if (!handle->curl) return Status::IOError("libcurl: cannot create a handle");
    handle->pin.pinned = impl->options.pinned_fingerprint;
    MutexLock lock(impl->mu);
    impl->idle.push_back(handle.get());
    impl->all.push_back(std::move(handle));
  }
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Result<Response> Transport::Send(const Request& request) {
  const TransportOptions& options = impl_->options;
  Handle* handle = impl_->Acquire();
  struct ReleaseOnExit {
    Impl* impl;
    Handle* handle;
    ~ReleaseOnExit() { impl->Release(handle); }
  } release{impl_.get(), handle};
  CURL* curl = handle->curl;
  handle->pin.seen.clear();

  Response response;
  Transfer transfer;
  transfer.options = &options;
  transfer.body = request.body;
  transfer.response = &response;
  transfer.max_response_bytes = request.max_response_bytes;

  // Reset clears per-request options but keeps the live connection and caches.
  curl_easy_reset(curl);
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_SHARE, impl_->share);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 120L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout * 1000));
  uint64_t payload = std::max<uint64_t>(request.body.size(), request.expected_response_bytes);
  double timeout =
      std::max(options.min_timeout, static_cast<double>(payload) / std::max(options.min_rate, 1.0));
  constexpr double kMaxTimeout = 7 * 24 * 3600.0;  // keeps the milliseconds within a long
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::min(timeout, kMaxTimeout) * 1000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout));
  // Large socket reads and writes: the defaults (16 KiB / 64 KiB) cost many callbacks per chunk.
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 2L * 1024 * 1024);
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (!options.pinned_fingerprint.empty()) {
    // Without the callback the pin would not be checked at all: refuse rather than fail open.
    if (curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, &InstallPinning) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &handle->pin) != CURLE_OK) {
      return Status::InvalidArgument(
          "TLS fingerprint pinning needs libcurl built with OpenSSL (libcurl4-openssl)");
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    // A cached session would skip the handshake that checks the pin.
    curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  }

  const std::string& method = request.method;
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT" || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, fmt::format("{}: {}", name, value).c_str());
  }
  // No "Expect: 100-continue" round trip, and no headers curl would add on its own.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  if (method == "PUT" || method == "POST") {
    bool has_type = std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
      return strcasecmp(h.first.c_str(), "content-type") == 0;
    });
    if (!has_type) headers = curl_slist_append(headers, "Content-Type:");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) return StatusFromCurl(code, error_buffer, transfer, handle->pin, request);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace cairn::http
