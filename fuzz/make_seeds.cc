// make_seeds: writes the seed corpora of the fuzz targets, fuzz/corpus/<target>/<seed>.
// Usage: make_seeds SOURCE_DIR OUT_DIR (fuzz/make_seeds.sh passes the repository and
// fuzz/corpus). Seeds are small valid inputs made with Cairn's own encoders (blobs, indexes,
// manifests, key files, pxar archives, catalogs), the test fixtures put in the targets' input
// layouts (tests/testdata/pxar, tests/testdata/sigv4), hand-written S3 replies, names and
// config files, and HTTP/2 request sequences and backup sessions in their targets' layouts.
// Encrypted blobs and key files use the fuzz key and passphrase (fuzz_support.h) so the
// targets can open them.
//
// Output is deterministic except where the encoders draw random IVs and salts (encrypted
// blobs, the protected key file): rerunning rewrites those bytes.
#include <openssl/evp.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/file_util.h"
#include "base/hex.h"
#include "format/data_blob.h"
#include "format/dynamic_index.h"
#include "format/fixed_index.h"
#include "format/key_file.h"
#include "format/manifest.h"
#include "format/pxar/catalog.h"
#include "format/pxar/encoder.h"
#include "fuzz_support.h"

namespace cairn::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "make_seeds: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

void Must(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what, st);
}

// Where fixtures are read and seeds written.
class SeedDir {
 public:
  SeedDir(std::string source_dir, std::string out_dir)
      : source_dir_(std::move(source_dir)), out_dir_(std::move(out_dir)) {}

  void Put(const std::string& target, const std::string& name, ByteView bytes) {
    const std::string dir = JoinPath(out_dir_, target);
    Must(MakeDirs(dir), "mkdir " + dir);
    Must(WriteFileAtomic(JoinPath(dir, name), bytes, 0644, SyncMode::kNone), target + "/" + name);
    ++written_;
  }
  void Put(const std::string& target, const std::string& name, std::string_view text) {
    Put(target, name, AsBytes(text));
  }

  // A file of the repository, e.g. "tests/testdata/pxar/backup-client-pxar-data.mpxar".
  Bytes Fixture(const std::string& relative) const {
    return Must(ReadFile(JoinPath(source_dir_, relative)), "read fixture " + relative);
  }

  const std::string& out_dir() const { return out_dir_; }
  int written() const { return written_; }

 private:
  std::string source_dir_;
  std::string out_dir_;
  int written_ = 0;
};

// A fixture prefixed with the flags byte of fuzz_support.h SplitInput (no second part).
Bytes WithFlags(uint8_t flags, ByteView bytes) {
  Bytes out = {flags};
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

// Both parts in the SplitInput layout.
Bytes TwoPartInput(ByteView first, ByteView second) {
  Bytes out(5);
  out[0] = 1;
  PutLE32(out.data() + 1, static_cast<uint32_t>(first.size()));
  out.insert(out.end(), first.begin(), first.end());
  out.insert(out.end(), second.begin(), second.end());
  return out;
}

Digest DigestOf(std::string_view text) {
  return Sha256Of(AsBytes(text));
}

void BlobSeeds(SeedDir& out) {
  const CryptConfig crypt(kKey);
  const std::string text = "qemu-server.conf: memory: 2048\n";
  std::string repeated;
  for (int i = 0; i < 200; ++i) repeated += "line " + std::to_string(i % 7) + " of a config\n";
  out.Put("blob", "uncompressed", Must(EncodeBlob(AsBytes(text), nullptr, false), "blob"));
  out.Put("blob", "empty", Must(EncodeBlob({}, nullptr, false), "blob"));
  out.Put("blob", "compressed", Must(EncodeBlob(AsBytes(repeated), nullptr, true), "blob"));
  out.Put("blob", "encrypted", Must(EncodeBlob(AsBytes(text), &crypt, false), "blob"));
  out.Put("blob", "encrypted-compressed",
          Must(EncodeBlob(AsBytes(repeated), &crypt, true), "blob"));
  // A zstd frame without its content size, as PBS's streaming writer makes them (the decoder
  // streams those): built by hand, the CRC taken from a blob of the same payload.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  Bytes frame(ZSTD_compressBound(repeated.size()));
  ZSTD_inBuffer in{repeated.data(), repeated.size(), 0};
  ZSTD_outBuffer zout{frame.data(), frame.size(), 0};
  const size_t left = ZSTD_compressStream2(cctx, &zout, &in, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(left) || left != 0) Die("zstd stream", Status::IOError("compress failed"));
  frame.resize(zout.pos);
  Bytes streamed = Must(EncodeBlob(frame, nullptr, false), "blob");  // uncompressed magic, CRC
  const Bytes compressed = Must(EncodeBlob(AsBytes(repeated), nullptr, true), "blob");
  std::memcpy(streamed.data(), compressed.data(), 8);  // compressed magic; the CRC stays valid
  out.Put("blob", "compressed-streamed", streamed);
}

void FixedIndexSeeds(SeedDir& out) {
  struct Shape {
    const char* name;
    uint64_t size, chunk_size;
  };
  for (const Shape& s : {Shape{"empty", 0, 4096}, Shape{"three-chunks", 2 * 4096 + 100, 4096},
                         Shape{"one-4MiB-chunk", 4 << 20, 4 << 20}}) {
    auto builder = Must(FixedIndexBuilder::CreateWithSize(s.size, s.chunk_size), "fidx");
    builder.set_uuid(IndexUuid{1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15, 16});
    builder.set_ctime(1700000000);
    for (size_t i = 0; i < builder.chunk_count(); ++i) {
      Must(builder.SetDigest(i, DigestOf("chunk " + std::to_string(i))), "fidx digest");
    }
    out.Put("fixed_index", s.name, Must(builder.Finish(), "fidx").bytes);
  }
}

void DynamicIndexSeeds(SeedDir& out) {
  for (int n : {0, 3}) {
    auto builder = Must(DynamicIndexBuilder::Create(), "didx");
    builder.set_uuid(IndexUuid{16, 15, 14, 13, 12, 11, 0x4a, 9, 0x88, 7, 6, 5, 4, 3, 2, 1});
    builder.set_ctime(1700000000);
    for (int i = 0; i < n; ++i) {
      Must(builder.Append(1000 + 500 * i, DigestOf("chunk " + std::to_string(i))), "didx");
    }
    out.Put("dynamic_index", n == 0 ? "empty" : "three-chunks", builder.Finish().bytes);
  }
  out.Put("dynamic_index", "pbs-ppxar-fixture",
          out.Fixture("tests/testdata/pxar/backup-client-pxar-data.ppxar.didx"));
}

void ManifestSeeds(SeedDir& out) {
  const CryptConfig crypt(kKey);
  auto plain = Must(Manifest::Create("vm", "100", 1700000000), "manifest");
  ManifestFile disk{"drive-scsi0.img.fidx", CryptMode::kNone, 34359738368, DigestOf("disk")};
  ManifestFile conf{"qemu-server.conf.blob", CryptMode::kNone, 428, DigestOf("conf")};
  Must(plain.AddOrReplaceFile(disk), "manifest file");
  Must(plain.AddOrReplaceFile(conf), "manifest file");
  plain.SetNotes("before upgrade");
  plain.SetVerifyState(
      {"ok", "UPID:host:00001234:00005678:00000000:65000000:verify:store1:root@pam:"});
  out.Put("manifest", "unsigned", Must(plain.ToJson(), "manifest json"));

  auto signed_m = Must(Manifest::Create("host", "web1", 1764928800), "manifest");
  ManifestFile root{"root.pxar.didx", CryptMode::kEncrypt, 123456, DigestOf("root")};
  root.extra = {{"x-unknown", {1, 2, 3}}};
  ManifestFile catalog{"catalog.pcat1.didx", CryptMode::kEncrypt, 999, DigestOf("catalog")};
  ManifestFile log{"client.log.blob", CryptMode::kSignOnly, 77, DigestOf("log")};
  Must(signed_m.AddOrReplaceFile(root), "manifest file");
  Must(signed_m.AddOrReplaceFile(catalog), "manifest file");
  Must(signed_m.AddOrReplaceFile(log), "manifest file");
  Must(signed_m.SetUnprotected("chunk_upload_stats", {{"count", 12}, {"size", 4096}}), "stats");
  Must(signed_m.Sign(crypt), "manifest sign");
  out.Put("manifest", "signed", Must(signed_m.ToJson(), "manifest json"));
}

std::string Base64(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                             static_cast<int>(data.size())));
  return out;
}

void KeyFileSeeds(SeedDir& out) {
  out.Put("key_file", "unprotected", Must(KeyFile::Wrap(kKey, ""), "key file").ToJson());
  // Scrypt at n=16, r=1, p=1: valid, and cheap enough for the target to unlock every time.
  KeyFile scrypt = Must(KeyFile::Wrap(kKey, kPassphrase, ScryptParams{16, 1, 1}), "key file");
  Must(scrypt.set_hint("the fuzz passphrase"), "hint");
  out.Put("key_file", "scrypt", scrypt.ToJson());
  // PBKDF2 (read by Cairn, written only by old PBS clients): made by hand, 16 iterations.
  Bytes salt(32);
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(0xa0 + i);
  EncryptionKey wrapping;
  if (PKCS5_PBKDF2_HMAC(kPassphrase.data(), static_cast<int>(kPassphrase.size()), salt.data(),
                        static_cast<int>(salt.size()), 16, EVP_sha256(),
                        static_cast<int>(wrapping.size()), wrapping.data()) != 1) {
    Die("pbkdf2", Status::IOError("PKCS5_PBKDF2_HMAC failed"));
  }
  Bytes data(32 + kKey.size());
  Must(CryptConfig(wrapping).Encrypt(kKey, data.data(), data.data() + 16,
                                     std::span<uint8_t>(data).subspan(32)),
       "wrap key");
  const nlohmann::ordered_json pbkdf2 = {
      {"kdf", {{"PBKDF2", {{"iter", 16}, {"salt", Base64(salt)}}}}},
      {"created", "2026-11-23T10:00:00+01:00"},
      {"modified", "2026-11-23T09:00:00Z"},
      {"data", Base64(data)},
      {"fingerprint", CryptConfig(kKey).FingerprintString()}};
  out.Put("key_file", "pbkdf2", pbkdf2.dump() + "\n");
}

pxar::Metadata Meta(uint64_t mode) {
  pxar::Metadata m;
  m.stat.mode = mode;
  m.stat.uid = 1000;
  m.stat.gid = 1000;
  m.stat.mtime_secs = 1700000000;
  m.stat.mtime_nanos = 123456789;
  return m;
}

// One small tree with every kind of entry and every metadata item, as unified (v1) or split
// (v2) archive.
void WriteTree(pxar::Encoder& e) {
  pxar::Metadata rich = Meta(0100640);
  rich.xattrs.push_back({"user.comment", Bytes{'h', 'i'}});
  rich.acl.users.push_back({1001, 6});
  rich.acl.groups.push_back({2002, 4});
  rich.acl.group_obj = 5;
  rich.fcaps = Bytes{1, 0, 0, 2, 0, 0, 0, 0};
  rich.quota_project_id = 42;
  pxar::Metadata dir = Meta(040755);
  dir.acl.default_base = pxar::AclDefault{7, 5, 5, 7};
  dir.acl.default_users.push_back({1001, 7});
  dir.acl.default_groups.push_back({2002, 5});

  auto a = Must(e.AddFile("a.txt", Meta(0100644), AsBytes("hello pxar\n")), "pxar file");
  Must(e.AddFile("b.bin", rich, AsBytes("rich metadata")).status(), "pxar file");
  Must(e.AddDevice("null", Meta(020666), 1, 3), "pxar device");
  Must(e.AddSpecial("fifo", Meta(010600)), "pxar fifo");
  Must(e.AddHardlink("hard", "a.txt", a), "pxar hardlink");
  Must(e.AddSpecial("sock", Meta(0140755)), "pxar socket");
  Must(e.OpenDirectory("sub", dir), "pxar dir");
  Must(e.AddFile("empty", Meta(0100600), {}).status(), "pxar file");
  Must(e.AddSymlink("link", Meta(0120777), "../a.txt"), "pxar symlink");
  Must(e.OpenDirectory("deeper", Meta(040700)), "pxar dir");
  Must(e.CloseDirectory(), "pxar close");
  Must(e.CloseDirectory(), "pxar close");
  Must(e.Finish(), "pxar finish");
}

void PxarSeeds(SeedDir& out) {
  BytesSink v1;
  WriteTree(*Must(pxar::Encoder::Create(&v1, nullptr, Meta(040755)), "pxar v1"));
  BytesSink v2, payload;
  WriteTree(
      *Must(pxar::Encoder::Create(&v2, &payload, Meta(040755), Bytes{'p', 'r', 'e'}), "pxar v2"));
  const Bytes data_fixture = out.Fixture("tests/testdata/pxar/backup-client-pxar-data.mpxar");
  const Bytes expected_fixture =
      out.Fixture("tests/testdata/pxar/backup-client-pxar-expected.mpxar");
  for (const char* target : {"pxar_decoder", "pxar_accessor"}) {
    out.Put(target, "v1-tree", WithFlags(0, v1.bytes()));
    out.Put(target, "v2-tree-with-payload", TwoPartInput(v2.bytes(), payload.bytes()));
    out.Put(target, "v2-tree-metadata-only", WithFlags(0, v2.bytes()));
    out.Put(target, "pbs-data-mpxar", WithFlags(0, data_fixture));
    out.Put(target, "pbs-expected-mpxar", WithFlags(0, expected_fixture));
  }
  // Flags bit 1: the decoder leaves file contents unread (it must skip them).
  out.Put("pxar_decoder", "v1-tree-skip-contents", WithFlags(2, v1.bytes()));
}

void CatalogSeeds(SeedDir& out) {
  BytesSink sink;
  auto w = Must(CatalogWriter::Create(&sink), "catalog");
  w->StartDirectory("root.pxar.didx");
  w->AddFile("a.txt", 11, 1700000000);
  w->AddEntry(CatalogType::kSymlink, "link");
  w->AddEntry(CatalogType::kHardlink, "hard");
  w->StartDirectory("etc");
  w->AddFile("hosts", 220, -5);
  w->AddEntry(CatalogType::kCharDevice, "null");
  w->AddEntry(CatalogType::kBlockDevice, "sda");
  w->AddEntry(CatalogType::kFifo, "fifo");
  w->AddEntry(CatalogType::kSocket, "sock");
  Must(w->EndDirectory(), "catalog end");
  Must(w->EndDirectory(), "catalog end");
  w->StartDirectory("home.pxar.didx");
  w->AddFile("notes", uint64_t{1} << 40, 1764928800);
  Must(w->EndDirectory(), "catalog end");
  Must(w->Finish(), "catalog finish");
  out.Put("catalog", "two-archives", sink.bytes());
}

void S3XmlSeeds(SeedDir& out) {
  const std::string xml_declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out.Put(
      "s3_xml", "list-objects-v2",
      xml_declaration +
          R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name>)"
          R"(<Prefix>store1/.chunks/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>)"
          R"(<IsTruncated>true</IsTruncated>)"
          R"(<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=)"
          R"(</NextContinuationToken>)"
          R"(<Contents><Key>store1/.chunks/a342/a342e8aa</Key>)"
          R"(<LastModified>2025-11-23T10:15:00.000Z</LastModified>)"
          R"(<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>4194304</Size>)"
          R"(<StorageClass>STANDARD</StorageClass></Contents><Contents>)"
          R"(<Key>store1/.cnt/vm/100/owner</Key><LastModified>2025-11-23T10:16:00Z</LastModified>)"
          R"(<ETag>"abc"</ETag><Size>9</Size></Contents>)"
          R"(<CommonPrefixes><Prefix>store1/.cnt/</Prefix>)"
          R"(</CommonPrefixes></ListBucketResult>)");
  out.Put("s3_xml", "list-objects-v2-url-encoded",
          R"(<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>)"
          R"(<Contents><Key>store1%2F.cnt%2Fhost%2Fweb+1%2Fnotes</Key>)"
          R"(<LastModified>2025-01-01T00:00:00.000Z</LastModified><Size>0</Size></Contents>)"
          R"(<CommonPrefixes><Prefix>a%2Fb%2F</Prefix></CommonPrefixes></ListBucketResult>)");
  out.Put(
      "s3_xml", "list-buckets",
      xml_declaration +
          R"(<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner>)"
          R"(<ID>abc</ID><DisplayName>me</DisplayName></Owner><Buckets><Bucket><Name>bkt</Name>)"
          R"(<CreationDate>2025-11-23T10:15:00.000Z</CreationDate></Bucket>)"
          R"(<Bucket><Name>other</Name>)"
          R"(<CreationDate>bad</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>)");
  out.Put(
      "s3_xml", "delete-result",
      xml_declaration +
          R"(<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>a</Key>)"
          R"(</Deleted><Error><Key>b</Key><Code>AccessDenied</Code>)"
          R"(<Message>Access Denied</Message>)"
          R"(</Error></DeleteResult>)");
  out.Put("s3_xml", "error",
          xml_declaration +
              R"(<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>)"
              R"(<RequestId>4442587FB7D0A2F9</RequestId></Error>)");
  out.Put("s3_xml", "prefixed-namespace",
          R"(<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">)"
          R"(<s3:IsTruncated>false</s3:IsTruncated></s3:ListBucketResult>)");
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      auto byte = HexDecode(text.substr(i + 1, 2));
      if (byte.ok()) {
        out.push_back(static_cast<char>((*byte)[0]));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The SigV4 vectors in sigv4_fuzzer.cc's layout: NUL-separated fields.
void SigV4Seeds(SeedDir& out) {
  for (const char* file : {"aws_suite", "s3_examples"}) {
    const Bytes raw = out.Fixture(std::string("tests/testdata/sigv4/") + file + ".json");
    const nlohmann::json doc = nlohmann::json::parse(AsString(raw));
    for (const auto& c : doc["cases"]) {
      std::vector<std::string> f = {c["method"].get<std::string>(),
                                    c.value("wire_path", c["path"].get<std::string>()),
                                    doc["amz_date"].get<std::string>(),
                                    doc["region"].get<std::string>(),
                                    doc["service"].get<std::string>(),
                                    doc["access_key"].get<std::string>(),
                                    doc["secret_key"].get<std::string>(),
                                    DigestToHex(Sha256Of(AsBytes(c.value("body", std::string()))))};
      const std::string query = c.value("query", std::string());
      for (size_t start = 0; start < query.size();) {
        size_t end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        const std::string pair = query.substr(start, end - start);
        const size_t eq = pair.find('=');
        f.push_back("?" + PercentDecode(pair.substr(0, eq)));
        f.push_back(eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1)));
        start = end + 1;
      }
      for (const auto& h : c["headers"]) {
        f.push_back(h[0].get<std::string>());
        f.push_back(h[1].get<std::string>());
      }
      std::string input;
      for (size_t i = 0; i < f.size(); ++i) {
        if (i > 0) input.push_back('\0');
        input += f[i];
      }
      std::string name = std::string(file) + "-" + c["name"].get<std::string>();
      std::replace(name.begin(), name.end(), '/', '-');  // "normalize-path/get-relative"
      out.Put("sigv4", name, input);
    }
  }
}

void TextSeeds(SeedDir& out, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& seeds) {
  for (const auto& [name, text] : seeds) out.Put(target, name, text);
}

void NameAndConfigSeeds(SeedDir& out) {
  TextSeeds(out, "content_path",
            {{"group-owner", "vm/100/owner"},
             {"group-notes", "ct/200/notes"},
             {"namespace-marker", "ns/site-a/ns/rack1/.namespace"},
             {"manifest", "ns/site-a/host/web1/2026-11-23T10:00:00Z/index.json.blob"},
             {"fidx", "vm/100/2026-11-23T10:00:00Z/drive-scsi0.img.fidx"},
             {"didx", "host/web1/2026-12-05T10:00:00Z/root.pxar.didx"},
             {"protected", "vm/100/2026-11-23T10:00:00Z/.protected"},
             {"traversal", "vm/../../etc/2026-11-23T10:00:00Z/passwd.blob"},
             {"chunk-key",
              "store1/.chunks/a342/a342e8aa0fb1c2d3e4f5061728394a5b6c7d8e9f0011223344556677889"},
             {"content-key", "store1/.cnt/vm/100/owner"}});
  TextSeeds(out, "names",
            {{"namespace", "site-a/rack1/host3"},
             {"group", "vm/100"},
             {"snapshot", "host/web1/2026-11-23T10:00:00Z"},
             {"datastore", "store1"},
             {"image", "disk.img"},
             {"server-name", "root.pxar.didx"},
             {"conf", "qemu-server.conf"},
             {"catalog", "catalog.pcat1.didx"},
             {"dotdot", ".."},
             {"deep", "a/b/c/d/e/f/g"},
             {"upid",
              "UPID:elsa:00004F37:0039E469:00000000:5CA78B83:verify:"
              "store1\\x3avm-100:root@pam:"}});
  TextSeeds(out, "datastore_config",
            {{"two-stores", R"({"datastores": {
  "store1": {"path": "/srv/backup/store1", "backend": "filesystem"},
  "s3store": {"path": "/var/cache/cairn/s3store", "backend": "s3", "s3-endpoint": "aws",
              "bucket": "my-bucket", "max-cache-size": 1073741824}
}}
)"},
             {"empty", "{}\n"},
             {"no-stores", R"({"datastores": {}})"}});
  std::string settings = R"({"endpoints": {
  "aws": {"endpoint": "{{bucket}}.s3.{{region}}.amazonaws.com", "region": "eu-central-1",
          "access-key": "AKIAIOSFODNN7EXAMPLE", "path-style": false, "max-connections": 8},
  "minio": {"endpoint": "https://minio.lan:9000", "port": 9000, "region": "us-east-1",
            "access-key": "minio", "path-style": true, "put-rate-limit": 10.5,
            "rate-in": 1000000, "burst-in": 2000000, "rate-out": 500000, "burst-out": 500000,
            "fingerprint": ")"
                         R"(AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:)"
                         R"(AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
            "provider-quirks": ["skip-if-none-match-header", "delete-objects-via-delete-object"]}
}}
)";
  settings.push_back('\0');
  settings += R"({"aws": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "minio": "minio-secret"})";
  TextSeeds(out, "s3_config", {{"two-endpoints", settings}, {"no-secrets", "{\"endpoints\": {}}"}});
}

// HTTP/2 frames as a client writes them after its preface, for h2_session (its layout: a flags
// byte, then these bytes). Header blocks use HPACK literals without indexing, so that the
// names and values stand in the input as text.
class H2Frames {
 public:
  H2Frames& Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
    const size_t n = payload.size();
    out_ += {char(n >> 16),      char(n >> 8),       char(n),           char(type),  char(flags),
             char(stream >> 24), char(stream >> 16), char(stream >> 8), char(stream)};
    out_ += payload;
    return *this;
  }
  H2Frames& Settings(std::vector<std::pair<uint16_t, uint32_t>> entries = {}) {
    std::string payload;
    for (const auto& [id, value] : entries) {
      payload += {char(id >> 8),     char(id),         char(value >> 24),
                  char(value >> 16), char(value >> 8), char(value)};
    }
    return Frame(4, 0, 0, payload);
  }
  H2Frames& SettingsAck() { return Frame(4, 1, 0, ""); }
  // HEADERS of a request (END_HEADERS; END_STREAM if `last`).
  H2Frames& Request(uint32_t stream, std::string_view method, std::string_view path, bool last,
                    std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::string block = Literal(":method", method) + Literal(":scheme", "https") +
                        Literal(":authority", "backup.example:8007") + Literal(":path", path);
    for (const auto& [name, value] : extra) block += Literal(name, value);
    return Frame(1, last ? 0x5 : 0x4, stream, block);
  }
  H2Frames& Data(uint32_t stream, std::string_view data, bool last) {
    return Frame(0, last ? 1 : 0, stream, data);
  }
  H2Frames& WindowUpdate(uint32_t stream, uint32_t increment) {
    return Frame(8, 0, stream, BigEndian32(increment));
  }
  H2Frames& Reset(uint32_t stream) { return Frame(3, 0, stream, BigEndian32(8)); }  // CANCEL
  H2Frames& Ping() { return Frame(6, 0, 0, "pingpong"); }
  H2Frames& GoAway(uint32_t last_stream) {
    return Frame(7, 0, 0, BigEndian32(last_stream) + BigEndian32(0));
  }
  static std::string BigEndian32(uint32_t n) {
    return {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  }
  Bytes Input(uint8_t flags) const {
    Bytes input = {flags};
    input.insert(input.end(), out_.begin(), out_.end());
    return input;
  }

  // An HPACK literal header field without indexing, new name (RFC 7541, 6.2.2).
  static std::string Literal(std::string_view name, std::string_view value) {
    return std::string(1, '\0') + Length(name.size()) + std::string(name) + Length(value.size()) +
           std::string(value);
  }

 private:
  // An HPACK integer with a 7-bit prefix, Huffman bit clear.
  static std::string Length(size_t n) {
    if (n < 127) return std::string(1, char(n));
    std::string out(1, char(127));
    for (n -= 127; n >= 128; n >>= 7) out.push_back(char(0x80 | (n & 0x7f)));
    out.push_back(char(n));
    return out;
  }
  std::string out_;
};

void H2SessionSeeds(SeedDir& out) {
  // Requests of every kind the target's service knows, bodies in one and in several frames.
  H2Frames requests;
  requests
      .Settings({{4, 1 << 20}})  // SETTINGS_INITIAL_WINDOW_SIZE
      .Request(1, "GET", "/status?x=1", true)
      .Request(3, "POST", "/echo", false, {{"content-type", "application/octet-stream"}})
      .Data(3, "hello ", false)
      .Data(3, "world", true)
      .Request(5, "PUT", "/hold/1", false)
      .Data(5, std::string(150, 'h'), true)
      .Request(7, "GET", "/big?n=70000", true)
      .WindowUpdate(0, 1 << 20)
      .Request(9, "GET", "/drop", true)
      .SettingsAck()
      .Ping();
  out.Put("h2_session", "requests", requests.Input(0x00));
  out.Put("h2_session", "requests-small-limits-bytewise", requests.Input(0x81));
  out.Put("h2_session", "requests-small-limits-late-handlers", requests.Input(0x9e));
  out.Put("h2_session", "requests-with-upgrade-timeout", requests.Input(0x50));

  // Half-sent bodies over the body budget, a reset, a body over the size limit, the
  // service closing the session.
  H2Frames budget;
  budget.Settings().SettingsAck();
  for (uint32_t stream = 1; stream <= 7; stream += 2) {
    budget.Request(stream, "POST", "/hold/" + std::to_string(stream), false)
        .Data(stream, std::string(90, char('a' + stream)), false);
  }
  budget.Reset(3).Data(1, std::string(10, 'a'), true).Data(5, std::string(450, 'e'), true);
  budget.Data(7, "", true).Request(9, "GET", "/close", true).GoAway(9);
  out.Put("h2_session", "over-the-budget", budget.Input(0x80));
  out.Put("h2_session", "over-the-budget-in-reads-of-7", budget.Input(0x84));

  // Trailers, a request without :path, a header block in HEADERS + CONTINUATION.
  H2Frames odd;
  odd.Settings().Request(1, "POST", "/echo", false).Data(1, "body", false);
  odd.Frame(1, 0x5, 1, H2Frames::Literal("x-trailer", "t"));
  odd.Frame(1, 0x5, 3, H2Frames::Literal(":method", "GET") + H2Frames::Literal(":scheme", "https"));
  const std::string block = H2Frames::Literal(":method", "GET") +
                            H2Frames::Literal(":scheme", "https") +
                            H2Frames::Literal(":path", "/continued");
  odd.Frame(1, 0x1, 5, block.substr(0, 10)).Frame(9, 0x4, 5, block.substr(10));
  out.Put("h2_session", "trailers-continuation", odd.Input(0x02));
}

// Requests for backup_session, in its layout (fuzz/backup_session_fuzzer.cc): an op byte
// (what | how << 4) and the bytes the op reads. `how` 0: the model's values, sent as a query.
class SessionOps {
 public:
  SessionOps& Op(uint8_t what, std::initializer_list<uint8_t> bytes = {}, uint8_t how = 0) {
    out_.push_back(uint8_t(what | how << 4));
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  SessionOps& Text(std::string_view text) {
    out_.push_back(uint8_t(text.size()));
    out_.insert(out_.end(), text.begin(), text.end());
    return *this;
  }
  SessionOps& Raw(std::initializer_list<uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  const Bytes& bytes() const { return out_; }

 private:
  Bytes out_;
};

void BackupSessionSeeds(SeedDir& out) {
  // Op numbers and name indexes of the target (Driver::Request, Driver::Name).
  enum : uint8_t {
    kPreviousTime = 0,
    kPrevious = 1,
    kOpenFixed = 2,
    kOpenDynamic = 3,
    kFixedChunk = 4,
    kDynamicChunk = 5,
    kAppendFixed = 6,
    kAppendDynamic = 7,
    kCloseFixed = 8,
    kCloseDynamic = 9,
    kBlob = 10,
    kFinish = 11,
    kSpeedtest = 12,
    kManifest = 13,
    kRaw = 14,
    kEnd = 15
  };
  constexpr uint8_t kRootPxar = 0, kDiskImg = 1, kConf = 4, kDiskImgFidx = 0xc1;

  // A file archive backup: two chunks uploaded, appended, the index closed, a blob, the
  // manifest, finish.
  SessionOps dynamic;
  dynamic.Op(kPreviousTime).Op(kOpenDynamic, {kRootPxar, 0});
  dynamic.Op(kDynamicChunk, {0, 0}).Text("first chunk").Raw({0});
  dynamic.Op(kDynamicChunk, {0, 0x12}).Text("second chunk, compressed").Raw({0});
  dynamic.Op(kAppendDynamic, {0, 1, 0, 1}).Op(kCloseDynamic, {0});
  dynamic.Op(kBlob, {kConf, 0}).Text("memory: 512\n");
  dynamic.Op(kManifest, {0}).Op(kFinish).Op(kEnd);
  out.Put("backup_session", "dynamic-backup", dynamic.bytes());

  // An incremental image backup: the previous fixed index registered, opened with reuse-csum,
  // its chunk uploaded again and appended, closed; then finish.
  SessionOps incremental;
  incremental.Op(kPrevious, {kDiskImgFidx}).Op(kOpenFixed, {kDiskImg, 0x0c});
  incremental.Op(kFixedChunk, {0, 3, 2, 0}).Op(kAppendFixed, {0, 0, 2, 0});
  incremental.Op(kCloseFixed, {0}).Op(kBlob, {kConf, 1}).Text("memory: 1024\n");
  incremental.Op(kManifest, {0}).Op(kFinish);
  out.Put("backup_session", "incremental-image", incremental.bytes());

  // A new 100-byte image: one short chunk.
  SessionOps image;
  image.Op(kOpenFixed, {kDiskImg, 0x01, 99});
  image.Op(kFixedChunk, {0, 0}).Text(std::string(100, 'i')).Raw({0});
  image.Op(kAppendFixed, {0, 0, 0, 0}).Op(kCloseFixed, {0}).Op(kManifest, {0}).Op(kFinish);
  out.Put("backup_session", "new-image", image.bytes());

  // Refusals: a damaged chunk, an encrypted one, a JSON body with a mutated parameter, an
  // unknown route, a finish without files, then the session ends unfinished.
  SessionOps refused;
  refused.Op(kOpenDynamic, {kRootPxar, 0}).Op(kDynamicChunk, {0, 0}).Text("damaged").Raw({7, 3});
  refused.Op(kDynamicChunk, {0, 4}).Text("encrypted").Raw({0});
  refused.Op(kOpenDynamic, {kRootPxar, 0, 0, 0x12}, 0x5);  // archive-name=1 in a JSON body
  refused.Op(kRaw, {0x85}).Text("nonsense").Text("a=%zz").Text("");
  refused.Op(kSpeedtest).Text("0123456789").Op(kFinish).Op(kAppendDynamic, {0, 0, 0});
  out.Put("backup_session", "refusals", refused.bytes());
}

}  // namespace
}  // namespace cairn::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  namespace seeds = cairn::fuzz;
  seeds::SeedDir out(argv[1], argv[2]);
  seeds::BlobSeeds(out);
  seeds::FixedIndexSeeds(out);
  seeds::DynamicIndexSeeds(out);
  seeds::ManifestSeeds(out);
  seeds::KeyFileSeeds(out);
  seeds::PxarSeeds(out);
  seeds::CatalogSeeds(out);
  seeds::S3XmlSeeds(out);
  seeds::SigV4Seeds(out);
  seeds::NameAndConfigSeeds(out);
  seeds::H2SessionSeeds(out);
  seeds::BackupSessionSeeds(out);
  std::printf("make_seeds: %d seeds written to %s\n", out.written(), out.out_dir().c_str());
  return 0;
}
