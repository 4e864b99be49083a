#include "http/tls_certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "base/file_util.h"
#include "http/listen_address.h"
#include "testing/test_util.h"

namespace cairn::http {
namespace {

TEST(TlsCertificateTest, GeneratesPbsStyleSelfSignedCertificateOnce) {
  testing::TempDir dir;
  auto files = CertificateFiles::InDir(dir.path());
  ASSERT_TRUE(EnsureSelfSignedCertificate(files, {"node1", "node1.example.org"}).ok());
  struct stat st;
  ASSERT_EQ(stat(files.key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto pem = ReadFile(files.cert_path);
  ASSERT_TRUE(pem.ok());
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_get_version(cert), 2);
  EXPECT_EQ(X509_get_signature_nid(cert), NID_sha256WithRSAEncryption);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert)), 4096);
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
  EXPECT_TRUE(std::string(subject).starts_with("/O=Cairn Backup Server/OU=")) << subject;
  EXPECT_TRUE(std::string(subject).ends_with("/CN=node1")) << subject;
  EXPECT_EQ(X509_check_host(cert, "node1.example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_EQ(X509_check_ca(cert), 0);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)),
            1);
  EXPECT_EQ(days, 365000);
  auto fingerprint = CertificateFileFingerprint(files.cert_path);
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_EQ(*fingerprint, CertificateFingerprint(cert));
  EXPECT_EQ(fingerprint->size(), 32u * 3 - 1);
  X509_free(cert);

  // A second start keeps the certificate clients have pinned.
  ASSERT_TRUE(EnsureSelfSignedCertificate(files, {"other"}).ok());
  EXPECT_EQ(*CertificateFileFingerprint(files.cert_path), *fingerprint);
}

TEST(TlsCertificateTest, FingerprintOfAFileWithoutCertificateIsCorruption) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("x.pem"), AsBytes("not a certificate")).ok());
  EXPECT_EQ(CertificateFileFingerprint(dir.Sub("x.pem")).status().code(), Code::kCorruption);
  EXPECT_EQ(CertificateFileFingerprint(dir.Sub("missing.pem")).status().code(), Code::kNotFound);
}

TEST(ListenAddressTest, ParsesTheForms) {
  auto v6 = ParseListenAddress("[::]:8007");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::");
  EXPECT_EQ(v6->port, 8007);
  auto v4 = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto bare = ParseListenAddress("8443");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "::");
  for (const char* bad : {"", "localhost:8007", "::1:8007", "[::1]8007", "1.2.3.4:70000",
                          "1.2.3.4:", "1.2.3.4:80x", "[zz]:1"}) {
    EXPECT_EQ(ParseListenAddress(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::http
