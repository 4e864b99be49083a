#include "http/tls_certificate.h"

#include <netdb.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <functional>
#include <memory>

#include "base/file_util.h"

namespace cairn::http {
namespace {

constexpr int kRsaBits = 4096;
constexpr long kValidDays = 365000;  // as PBS: the certificate outlives the machine

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

Status OpenSslError(std::string_view what) {
  unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return Status::IOError(fmt::format("{}: {}", what, text));
}

// A random UUID (version 4) as 32 upper-case hex digits, PBS's organisational unit.
std::string RandomUuidHex() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02X}", b);
  return out;
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(fmt::format("certificate extension {}", OBJ_nid2sn(nid)));
  }
  return Status::OK();
}

Result<std::string> ToPem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslError("encode PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Status AddName(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return OpenSslError(fmt::format("certificate subject {}", field));
  }
  return Status::OK();
}

}  // namespace

CertificateFiles CertificateFiles::InDir(const std::string& dir) {
  return {JoinPath(dir, "proxy.pem"), JoinPath(dir, "proxy.key")};
}

Status EnsureSelfSignedCertificate(const CertificateFiles& files,
                                   const std::vector<std::string>& names) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(files.cert_path));
  if (exists) return Status::OK();
  if (names.empty()) return Status::InvalidArgument("a certificate needs at least one name");

  PkeyPtr key(EVP_RSA_gen(kRsaBits));
  if (!key) return OpenSslError("generate RSA key");
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("new certificate");
  X509_set_version(cert.get(), 2);  // X509v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BIGNUM* serial_bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert.get()));
  BN_free(serial_bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidDays, 0, nullptr);
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* subject = X509_get_subject_name(cert.get());
  CAIRN_RETURN_IF_ERROR(AddName(subject, "O", "Cairn Backup Server"));
  CAIRN_RETURN_IF_ERROR(AddName(subject, "OU", RandomUuidHex()));
  CAIRN_RETURN_IF_ERROR(AddName(subject, "CN", names.front()));
  X509_set_issuer_name(cert.get(), subject);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string alt = "IP:127.0.0.1,IP:::1,DNS:localhost";
  for (const std::string& name : names) {
    if (name != "localhost") alt += ",DNS:" + name;
  }
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE"));
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, alt));
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  CAIRN_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpenSslError("sign certificate");

  CAIRN_ASSIGN_OR_RETURN(std::string key_pem, ToPem([&](BIO* bio) {
                           return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0,
                                                           nullptr, nullptr);
                         }));
  CAIRN_ASSIGN_OR_RETURN(std::string cert_pem,
                         ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }));
  CAIRN_RETURN_IF_ERROR(WriteFileAtomic(files.key_path, AsBytes(key_pem), 0600));
  return WriteFileAtomic(files.cert_path, AsBytes(cert_pem), 0644);
}

std::string CertificateFingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += fmt::format("{}{:02X}", i == 0 ? "" : ":", md[i]);
  }
  return out;
}

Result<std::string> CertificateFileFingerprint(const std::string& cert_path) {
  CAIRN_ASSIGN_OR_RETURN(Bytes pem, ReadFile(cert_path));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return Status::Corruption(fmt::format("{} holds no PEM certificate", cert_path));
  }
  return CertificateFingerprint(cert.get());
}

int VerifyCertificatePin(X509_STORE_CTX* store, void* arg) {
  auto* pin = static_cast<CertificatePin*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  std::string seen = leaf ? CertificateFingerprint(leaf) : "";
  if (!seen.empty() && seen == pin->pinned) return 1;
  pin->seen = seen.empty() ? "none" : seen;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

Result<std::string> FetchCertificateFingerprint(const std::string& host, uint16_t port,
                                                int timeout_seconds) {
  using CtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return OpenSslError("TLS context");
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  BioPtr bio(BIO_new_ssl_connect(ctx.get()));
  if (!bio) return OpenSslError("TLS connection");
  std::string target =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  BIO_set_conn_hostname(bio.get(), target.c_str());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  SSL_set_tlsext_host_name(ssl, host.c_str());
  BIO_set_nbio(bio.get(), 0);
  // Blocking: the connect follows the system TCP timeouts, the handshake the ones set below.
  if (BIO_do_connect(bio.get()) != 1) {
    ERR_clear_error();
    return Status::Unavailable(fmt::format("cannot connect to {} with TLS", target));
  }
  int fd = -1;
  BIO_get_fd(bio.get(), &fd);
  if (fd >= 0) {
    struct timeval tv = {timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  if (BIO_do_handshake(bio.get()) != 1) {
    ERR_clear_error();
    return Status::Unavailable(fmt::format("TLS handshake with {} failed", target));
  }
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return Status::Unavailable(fmt::format("{} sent no certificate", target));
  return CertificateFingerprint(cert.get());
}

std::vector<std::string> LocalHostNames() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return {"localhost"};
  std::string full = host;
  std::string short_name = full.substr(0, full.find('.'));
  std::vector<std::string> names{short_name};
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  addrinfo* info = nullptr;
  if (getaddrinfo(short_name.c_str(), nullptr, &hints, &info) == 0 && info != nullptr) {
    if (info->ai_canonname != nullptr && std::string(info->ai_canonname) != short_name) {
      names.push_back(info->ai_canonname);
    }
    freeaddrinfo(info);
  }
  if (full != short_name && names.size() == 1) names.push_back(full);
  return names;
}

}  // namespace cairn::http
