// The server's TLS identity: a certificate and its private key kept as PEM files in the
// server's config directory (proxy.pem, proxy.key), generated self-signed at first start the
// way PBS does, and the SHA-256 fingerprint clients pin instead of trusting a CA.
//
// The generated certificate: RSA 4096, X509v3, SHA-256 signature, valid from now for 365,000
// days; subject = issuer = O=Cairn Backup Server, OU=<random UUID, upper-case hex>,
// CN=<node name>; subjectAltName IP 127.0.0.1 and ::1, DNS localhost, the node name and, if
// different, its FQDN; basicConstraints CA:FALSE, extendedKeyUsage serverAuth, subject and
// authority key identifiers. The key file is written with mode 0600.
//
// Thread-safety: free functions without shared state; thread-safe.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace cairn::http {

struct CertificateFiles {
  std::string cert_path;  // PEM certificate chain, leaf first
  std::string key_path;   // PEM private key

  // proxy.pem and proxy.key in `dir`.
  static CertificateFiles InDir(const std::string& dir);
};

// Creates a self-signed certificate and key at `files` unless the certificate file exists.
// `names` are DNS names for the CN (the first) and the subjectAltName. Both files are written
// atomically (the key before the certificate, so a certificate never exists without its key).
// IOError / PermissionDenied if they cannot be written.
Status EnsureSelfSignedCertificate(const CertificateFiles& files,
                                   const std::vector<std::string>& names);

// The SHA-256 of the certificate's DER encoding as upper-case hex pairs joined by ':'
// ("AB:01:…"), the form `--fingerprint` takes. Empty if the digest cannot be computed.
std::string CertificateFingerprint(X509* cert);

// A pinned certificate fingerprint for one connection, and what the server showed instead.
// OpenSSL keeps a pointer to it for the connection's life.
struct CertificatePin {
  std::string pinned;  // "AA:BB:..."
  std::string seen;    // set when the server's certificate did not match
};
// A verify callback for SSL_CTX_set_cert_verify_callback with a CertificatePin* argument: the
// leaf certificate's fingerprint must equal the pin (the chain is not checked: the pin is the
// identity). On a mismatch records what was seen and fails the handshake.
int VerifyCertificatePin(X509_STORE_CTX* store, void* pin);

// The fingerprint of the first certificate in a PEM file. NotFound if the file is missing,
// Corruption if it holds no certificate.
Result<std::string> CertificateFileFingerprint(const std::string& cert_path);

// Connects to host:port, completes a TLS handshake without checking the certificate, and
// returns the leaf certificate's fingerprint (for a trust-on-first-use prompt; nothing is sent
// on the connection). Unavailable if the server cannot be reached or speaks no TLS.
Result<std::string> FetchCertificateFingerprint(const std::string& host, uint16_t port,
                                                int timeout_seconds = 10);

// This host's names for a certificate: the short host name and, if resolvable to something
// longer, its FQDN.
std::vector<std::string> LocalHostNames();

}  // namespace cairn::http
