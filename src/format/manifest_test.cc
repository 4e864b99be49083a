#include "format/manifest.h"

#include <gtest/gtest.h>

#include "base/hex.h"

namespace cairn {
namespace {

constexpr const char* kName = "vm/100/2023-11-14T22:13:20Z/index.json.blob";

Digest D(uint8_t fill) {
  Digest d;
  d.fill(fill);
  return d;
}

std::string Hex64(uint8_t fill) {
  return DigestToHex(D(fill));
}

EncryptionKey KeyFromHex(std::string_view hex) {
  EncryptionKey key;
  EXPECT_TRUE(HexDecodeInto(hex, key).ok());
  return key;
}

// The key of PBS's own test_manifest_signature (pbs-datastore/src/manifest.rs):
// scrypt(password "test", empty salt, n=65536, r=8, p=1), 32 bytes.
EncryptionKey PbsTestKey() {
  return KeyFromHex("28cdb1a3bef39396c3860e00d448fe7a0efd8244486ab6feb30457681d31597e");
}

ManifestFile File(std::string name, CryptMode mode, uint64_t size, uint8_t fill) {
  ManifestFile f;
  f.filename = std::move(name);
  f.crypt_mode = mode;
  f.size = size;
  f.csum = D(fill);
  return f;
}

Manifest Sample() {
  auto m = Manifest::Create("vm", "100", 1700000000);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE(
      m->AddOrReplaceFile(File("drive-scsi0.img.fidx", CryptMode::kNone, 34359738368, 1)).ok());
  EXPECT_TRUE(m->AddOrReplaceFile(File("qemu-server.conf.blob", CryptMode::kEncrypt, 421, 2)).ok());
  return std::move(m).value();
}

// What PBS's serde_json::to_string_pretty writes for Sample() with notes: keys sorted by byte
// order, two-space indent, no trailing newline.
const char kSamplePretty[] = R"({
  "backup-id": "100",
  "backup-time": 1700000000,
  "backup-type": "vm",
  "files": [
    {
      "crypt-mode": "none",
      "csum": "0101010101010101010101010101010101010101010101010101010101010101",
      "filename": "drive-scsi0.img.fidx",
      "size": 34359738368
    },
    {
      "crypt-mode": "encrypt",
      "csum": "0202020202020202020202020202020202020202020202020202020202020202",
      "filename": "qemu-server.conf.blob",
      "size": 421
    }
  ],
  "signature": null,
  "unprotected": {
    "notes": "nightly\nline two \"quoted\""
  }
})";

Status ParseStatus(const std::string& json) {
  return Manifest::Parse(AsBytes(json), kName).status();
}

void ExpectCorrupt(const std::string& json, const std::string& why) {
  Status st = ParseStatus(json);
  EXPECT_EQ(st.code(), Code::kCorruption) << why << ": " << st.ToString();
  EXPECT_NE(st.message().find(kName), std::string::npos) << why << ": " << st.ToString();
}

// A valid manifest document with one file; tests mutate it.
nlohmann::json ValidDoc() {
  return nlohmann::json::parse(R"({
    "backup-type": "host", "backup-id": "web", "backup-time": 1,
    "files": [{"filename": "root.pxar.didx", "crypt-mode": "none", "size": 5,
               "csum": ")" + Hex64(7) +
                               R"("}],
    "unprotected": {}, "signature": null})");
}

TEST(ManifestTest, SerializesLikePbsAndRoundTrips) {
  Manifest m = Sample();
  m.SetNotes("nightly\nline two \"quoted\"");
  auto json = m.ToJson();
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, kSamplePretty);

  auto parsed = Manifest::Parse(AsBytes(kSamplePretty), kName);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->backup_type(), "vm");
  EXPECT_EQ(parsed->backup_id(), "100");
  EXPECT_EQ(parsed->backup_time(), 1700000000);
  ASSERT_EQ(parsed->files().size(), 2u);
  EXPECT_EQ(parsed->files()[0].size, 34359738368u);
  EXPECT_EQ(parsed->files()[1].crypt_mode, CryptMode::kEncrypt);
  EXPECT_EQ(parsed->files()[1].csum, D(2));
  EXPECT_EQ(parsed->notes(), "nightly\nline two \"quoted\"");
  EXPECT_FALSE(parsed->signature().has_value());
  EXPECT_FALSE(parsed->key_fingerprint().has_value());
  EXPECT_EQ(*parsed->ToJson(), kSamplePretty);
}

TEST(ManifestTest, DefaultsForOldManifests) {
  // crypt-mode, unprotected and signature may be missing (PBS < 0.8).
  std::string old = R"({"backup-type":"ct","backup-id":"101","backup-time":1600000000,
    "files":[{"filename":"root.pxar.didx","size":10,"csum":")" +
                    Hex64(3) + R"("}]})";
  auto m = Manifest::Parse(AsBytes(old), kName);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->files()[0].crypt_mode, CryptMode::kNone);
  EXPECT_EQ(m->files()[0].chunk_crypt_mode(), CryptMode::kNone);
  EXPECT_TRUE(m->unprotected().is_object());
  EXPECT_TRUE(m->unprotected().empty());
  EXPECT_FALSE(m->signature().has_value());
  EXPECT_FALSE(m->notes().has_value());
  // Uppercase hex is accepted and normalized to lowercase.
  std::string upper = old;
  std::string lower = Hex64(0xab);
  std::string up = "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB";
  upper.replace(upper.find(Hex64(3)), 64, up);
  m = Manifest::Parse(AsBytes(upper), kName);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->files()[0].csum, D(0xab));
  EXPECT_NE(m->ToJson()->find(lower), std::string::npos);
}

TEST(ManifestTest, ChunkCryptMode) {
  EXPECT_EQ(File("a.fidx", CryptMode::kEncrypt, 1, 1).chunk_crypt_mode(), CryptMode::kEncrypt);
  EXPECT_EQ(File("a.fidx", CryptMode::kSignOnly, 1, 1).chunk_crypt_mode(), CryptMode::kNone);
  EXPECT_EQ(CryptModeName(CryptMode::kSignOnly), "sign-only");
  EXPECT_EQ(*ParseCryptMode("sign-only"), CryptMode::kSignOnly);
  EXPECT_EQ(ParseCryptMode("Encrypt").status().code(), Code::kInvalidArgument);
}

TEST(ManifestTest, RejectsMalformedJson) {
  for (const std::string& text :
       {std::string(""), std::string("{"), std::string("not json"), std::string("{} trailing"),
        std::string("{\"backup-type\": \"vm\",}"), std::string("\xff\xfe"),
        std::string("{\"backup-id\": \"\xc3\x28\"}")}) {
    ExpectCorrupt(text, "text '" + text + "'");
  }
  for (std::string text : {"[]", "null", "42", "\"string\""}) {
    ExpectCorrupt(text, std::string("top level ") + text);
  }
}

TEST(ManifestTest, RejectsWrongTypesAndMissingFields) {
  ASSERT_TRUE(ParseStatus(ValidDoc().dump()).ok()) << ParseStatus(ValidDoc().dump()).ToString();
  struct Mutation {
    const char* why;
    void (*apply)(nlohmann::json&);
  } mutations[] = {
      {"no backup-type", [](nlohmann::json& d) { d.erase("backup-type"); }},
      {"backup-type number", [](nlohmann::json& d) { d["backup-type"] = 1; }},
      {"backup-type unknown", [](nlohmann::json& d) { d["backup-type"] = "lxc"; }},
      {"no backup-id", [](nlohmann::json& d) { d.erase("backup-id"); }},
      {"backup-id number", [](nlohmann::json& d) { d["backup-id"] = 100; }},
      {"backup-id empty", [](nlohmann::json& d) { d["backup-id"] = ""; }},
      {"backup-id slash", [](nlohmann::json& d) { d["backup-id"] = "a/b"; }},
      {"backup-id dotdot", [](nlohmann::json& d) { d["backup-id"] = ".."; }},
      {"no backup-time", [](nlohmann::json& d) { d.erase("backup-time"); }},
      {"backup-time string", [](nlohmann::json& d) { d["backup-time"] = "1"; }},
      {"backup-time float", [](nlohmann::json& d) { d["backup-time"] = 1.5; }},
      {"backup-time > i64", [](nlohmann::json& d) { d["backup-time"] = 9223372036854775808ull; }},
      {"no files", [](nlohmann::json& d) { d.erase("files"); }},
      {"files object", [](nlohmann::json& d) { d["files"] = nlohmann::json::object(); }},
      {"file not object", [](nlohmann::json& d) { d["files"][0] = "root.pxar.didx"; }},
      {"file no filename", [](nlohmann::json& d) { d["files"][0].erase("filename"); }},
      {"file no size", [](nlohmann::json& d) { d["files"][0].erase("size"); }},
      {"file no csum", [](nlohmann::json& d) { d["files"][0].erase("csum"); }},
      {"filename number", [](nlohmann::json& d) { d["files"][0]["filename"] = 3; }},
      {"size negative", [](nlohmann::json& d) { d["files"][0]["size"] = -1; }},
      {"size string", [](nlohmann::json& d) { d["files"][0]["size"] = "5"; }},
      {"size float", [](nlohmann::json& d) { d["files"][0]["size"] = 5.0; }},
      {"csum short", [](nlohmann::json& d) { d["files"][0]["csum"] = "abcd"; }},
      {"csum 63", [](nlohmann::json& d) { d["files"][0]["csum"] = Hex64(1).substr(1); }},
      {"csum non-hex", [](nlohmann::json& d) { d["files"][0]["csum"] = std::string(64, 'g'); }},
      {"csum array", [](nlohmann::json& d) { d["files"][0]["csum"] = nlohmann::json::array(); }},
      {"crypt-mode unknown", [](nlohmann::json& d) { d["files"][0]["crypt-mode"] = "aes"; }},
      {"crypt-mode null", [](nlohmann::json& d) { d["files"][0]["crypt-mode"] = nullptr; }},
      {"duplicate file", [](nlohmann::json& d) { d["files"].push_back(d["files"][0]); }},
      {"unprotected array", [](nlohmann::json& d) { d["unprotected"] = nlohmann::json::array(); }},
      {"unprotected null", [](nlohmann::json& d) { d["unprotected"] = nullptr; }},
      {"notes number", [](nlohmann::json& d) { d["unprotected"]["notes"] = 5; }},
      {"fingerprint bad", [](nlohmann::json& d) { d["unprotected"]["key-fingerprint"] = "ab:cd"; }},
      {"fingerprint number", [](nlohmann::json& d) { d["unprotected"]["key-fingerprint"] = 1; }},
      {"signature number", [](nlohmann::json& d) { d["signature"] = 1; }},
      {"signature short", [](nlohmann::json& d) { d["signature"] = "00"; }},
  };
  for (const Mutation& m : mutations) {
    nlohmann::json doc = ValidDoc();
    m.apply(doc);
    ExpectCorrupt(doc.dump(), m.why);
  }
}

TEST(ManifestTest, RejectsHostileFilenames) {
  const std::string names[] = {
      "",
      ".",
      "..",
      "../../etc/passwd.blob",
      "a/b.fidx",
      "/abs.didx",
      std::string("a\0b.blob", 8),
      ".hidden.blob",
      "x.img",
      "x.pxar",
      "noext",
      std::string(252, 'a') + ".fidx",
      "tab\t.blob",
  };
  for (const std::string& name : names) {
    nlohmann::json doc = ValidDoc();
    doc["files"][0]["filename"] = name;
    ExpectCorrupt(doc.dump(), "filename '" + name + "'");
    auto m = Manifest::Create("vm", "1", 1);
    EXPECT_EQ(m->AddOrReplaceFile(File(name, CryptMode::kNone, 1, 1)).code(),
              Code::kInvalidArgument)
        << name;
  }
}

TEST(ManifestTest, CreateValidates) {
  EXPECT_TRUE(Manifest::Create("host", "my-host_1.local", 1).ok());
  EXPECT_EQ(Manifest::Create("lxc", "1", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Manifest::Create("vm", "", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Manifest::Create("vm", "-x", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Manifest::Create("vm", "a/b", 1).status().code(), Code::kInvalidArgument);
}

TEST(ManifestTest, FindAddReplaceVerifyFile) {
  Manifest m = Sample();
  ASSERT_NE(m.FindFile("drive-scsi0.img.fidx"), nullptr);
  EXPECT_EQ(m.FindFile("drive-scsi0.img.fidx")->size, 34359738368u);
  EXPECT_EQ(m.FindFile("missing.blob"), nullptr);

  EXPECT_TRUE(m.VerifyFile("qemu-server.conf.blob", 421, D(2)).ok());
  EXPECT_EQ(m.VerifyFile("qemu-server.conf.blob", 422, D(2)).code(), Code::kCorruption);
  EXPECT_EQ(m.VerifyFile("qemu-server.conf.blob", 421, D(3)).code(), Code::kCorruption);
  EXPECT_EQ(m.VerifyFile("missing.blob", 1, D(1)).code(), Code::kNotFound);

  ASSERT_TRUE(m.AddOrReplaceFile(File("drive-scsi0.img.fidx", CryptMode::kNone, 1, 9)).ok());
  ASSERT_EQ(m.files().size(), 2u);
  EXPECT_EQ(m.files()[0].filename, "drive-scsi0.img.fidx");  // replaced in place
  EXPECT_EQ(m.files()[0].csum, D(9));
  ASSERT_TRUE(m.AddOrReplaceFile(File("catalog.pcat1.didx", CryptMode::kNone, 1, 4)).ok());
  EXPECT_EQ(m.files().size(), 3u);
  EXPECT_EQ(m.files()[2].filename, "catalog.pcat1.didx");
}

TEST(ManifestTest, UnprotectedHelpers) {
  Manifest m = Sample();
  m.SetNotes("first");
  m.SetNotes("second");
  EXPECT_EQ(m.notes(), "second");
  const std::string fp =
      "12:b9:b7:74:bb:3d:89:95:2b:97:cb:c2:82:f0:0c:14:2b:83:ba:7f:96:62:6a:a1:5a:44:9a:63:e8:91:"
      "fe:25";
  EXPECT_TRUE(m.SetKeyFingerprint(fp).ok());
  EXPECT_EQ(m.key_fingerprint(), fp);
  EXPECT_EQ(m.SetKeyFingerprint("12:b9").code(), Code::kInvalidArgument);
  EXPECT_EQ(m.SetKeyFingerprint(fp.substr(0, 94) + "g").code(), Code::kInvalidArgument);
  EXPECT_EQ(m.SetUnprotected("notes", 3).code(), Code::kInvalidArgument);
  EXPECT_TRUE(m.SetUnprotected("verify_state", {{"state", "ok"}, {"upid", "UPID:x"}}).ok());
  EXPECT_TRUE(
      m.SetUnprotected("chunk_upload_stats",
                       {{"count", 3}, {"size", 300}, {"compressed_size", 100}, {"duplicates", 1}})
          .ok());
  auto parsed = Manifest::Parse(AsBytes(*m.ToJson()), kName);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->unprotected()["verify_state"]["state"], "ok");
  ASSERT_TRUE(parsed->verify_state().has_value());
  EXPECT_EQ(parsed->verify_state()->upid, "UPID:x");
  // A verify_state of another shape reads as never verified; it never throws.
  for (const nlohmann::json& odd : {nlohmann::json(5), nlohmann::json{{"state", 1}},
                                    nlohmann::json::object(), nlohmann::json{{"upid", "x"}}}) {
    ASSERT_TRUE(m.SetUnprotected("verify_state", odd).ok());
    EXPECT_FALSE(m.verify_state().has_value()) << odd.dump();
  }
  ASSERT_TRUE(m.SetUnprotected("verify_state", {{"state", "failed"}, {"upid", 7}}).ok());
  EXPECT_EQ(m.verify_state()->state, "failed");
  EXPECT_EQ(m.verify_state()->upid, "");
  EXPECT_EQ(parsed->unprotected()["chunk_upload_stats"]["compressed_size"], 100);
  EXPECT_EQ(parsed->key_fingerprint(), fp);
  m.EraseUnprotected("notes");
  EXPECT_FALSE(m.notes().has_value());
}

TEST(ManifestTest, CanonicalJsonMatchesHandWrittenString) {
  auto m = Manifest::Create("host", "elsa", 1593179765);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->AddOrReplaceFile(File("test1.img.fidx", CryptMode::kEncrypt, 200, 1)).ok());
  ASSERT_TRUE(m->AddOrReplaceFile(File("abc.blob", CryptMode::kNone, 200, 2)).ok());
  m->SetNotes("not signed");
  const std::string expected =
      R"({"backup-id":"elsa","backup-time":1593179765,"backup-type":"host","files":[)"
      R"({"crypt-mode":"encrypt","csum":")" +
      Hex64(1) +
      R"(","filename":"test1.img.fidx",)"
      R"("size":200},{"crypt-mode":"none","csum":")" +
      Hex64(2) +
      R"(","filename":"abc.blob",)"
      R"("size":200}]})";
  EXPECT_EQ(*m->CanonicalSignedJson(), expected);
}

TEST(ManifestTest, CanonicalJsonEscapesLikeSerdeJson) {
  // serde_json escapes '"', '\\', \b \f \n \r \t by name, other bytes below 0x20 as \u00xx
  // (lowercase hex), and writes '/', DEL and non-ASCII UTF-8 unescaped. Keys sort by byte.
  auto m = Manifest::Create("vm", "1", -1);
  ASSERT_TRUE(m.ok());
  ManifestFile f = File("q\"b\\s\xc3\xa9.blob", CryptMode::kSignOnly, 0, 0);
  f.extra["Z-extra"] = std::string("a/b\b\f\n\r\t\x01\x1f\x7f");
  ASSERT_TRUE(m->AddOrReplaceFile(f).ok());
  const std::string expected =
      R"({"backup-id":"1","backup-time":-1,"backup-type":"vm","files":[{"Z-extra":)"
      R"("a/b\b\f\n\r\t\u0001\u001f)"
      "\x7f"
      R"(","crypt-mode":"sign-only","csum":")" +
      Hex64(0) +
      R"(","filename":"q\"b\\s)"
      "\xc3\xa9"
      R"(.blob","size":0}]})";
  EXPECT_EQ(*m->CanonicalSignedJson(), expected);
}

TEST(ManifestTest, MatchesPbsSignatureTestVector) {
  // pbs-datastore/src/manifest.rs test_manifest_signature: host/elsa/2020-06-26T13:56:05Z.
  CryptConfig key(PbsTestKey());
  auto m = Manifest::Create("host", "elsa", 1593179765);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->AddOrReplaceFile(File("test1.img.fidx", CryptMode::kEncrypt, 200, 1)).ok());
  ASSERT_TRUE(m->AddOrReplaceFile(File("abc.blob", CryptMode::kNone, 200, 2)).ok());
  ASSERT_TRUE(m->SetUnprotected("note", "This is not protected by the signature.").ok());
  ASSERT_TRUE(m->Sign(key).ok());
  ASSERT_TRUE(m->signature().has_value());
  EXPECT_EQ(DigestToHex(*m->signature()),
            "d7b446fb7db081662081d4b40fedd858a1d6307a5aff4ecff7d5bf4fd35679e9");
  EXPECT_EQ(m->key_fingerprint(), key.FingerprintString());
  EXPECT_TRUE(m->VerifySignature(key, kName).ok());
}

TEST(ManifestTest, SignatureVerifiesAndDetectsTampering) {
  CryptConfig key(PbsTestKey());
  Manifest m = Sample();
  ASSERT_TRUE(m.Sign(key).ok());
  std::string json = *m.ToJson();

  auto parsed = Manifest::Parse(AsBytes(json), kName);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->VerifySignature(key, kName).ok());

  // The unprotected section may change freely.
  parsed->SetNotes("changed later");
  EXPECT_TRUE(parsed->VerifySignature(key, kName).ok());

  // Any signed field changed: Corruption.
  nlohmann::json doc = nlohmann::json::parse(json);
  std::vector<nlohmann::json> tampered(6, doc);
  tampered[0]["files"][0]["size"] = 34359738369ull;
  tampered[1]["files"][1]["crypt-mode"] = "none";
  tampered[2]["backup-time"] = 1700000001;
  tampered[3]["files"][0]["csum"] = Hex64(9);
  tampered[4]["files"].erase(1);
  tampered[5]["extra-field"] = "added";
  for (size_t i = 0; i < tampered.size(); ++i) {
    auto t = Manifest::Parse(AsBytes(tampered[i].dump(2)), kName);
    ASSERT_TRUE(t.ok()) << i << ": " << t.status().ToString();
    Status st = t->VerifySignature(key, kName);
    EXPECT_EQ(st.code(), Code::kCorruption) << i << ": " << st.ToString();
    EXPECT_NE(st.message().find(kName), std::string::npos);
  }
  // A flipped signature.
  nlohmann::json sig = doc;
  std::string s = sig["signature"];
  s[0] = s[0] == '0' ? '1' : '0';
  sig["signature"] = s;
  EXPECT_EQ(Manifest::Parse(AsBytes(sig.dump()), kName)->VerifySignature(key, kName).code(),
            Code::kCorruption);
}

TEST(ManifestTest, WrongKeyAndUnsigned) {
  CryptConfig key(PbsTestKey());
  CryptConfig other(KeyFromHex(Hex64(0x42)));
  Manifest m = Sample();
  EXPECT_EQ(m.VerifySignature(key, kName).code(), Code::kCorruption);  // not signed
  ASSERT_TRUE(m.Sign(key).ok());

  // The fingerprint names another key: PermissionDenied.
  Status st = m.VerifySignature(other, kName);
  EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find(key.FingerprintString()), std::string::npos);

  // Without the (unprotected) fingerprint the HMAC itself fails: Corruption.
  m.EraseUnprotected("key-fingerprint");
  EXPECT_EQ(m.VerifySignature(other, kName).code(), Code::kCorruption);
  EXPECT_TRUE(m.VerifySignature(key, kName).ok());

  m.ClearSignature();
  EXPECT_EQ(m.VerifySignature(key, kName).code(), Code::kCorruption);
}

TEST(ManifestTest, UnknownFieldsAreKeptAndSigned) {
  nlohmann::json doc = ValidDoc();
  doc["future-field"] = {{"a", 1}};
  doc["files"][0]["future-file-field"] = "x";
  auto m = Manifest::Parse(AsBytes(doc.dump()), kName);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->files()[0].extra["future-file-field"], "x");
  std::string canonical = *m->CanonicalSignedJson();
  EXPECT_NE(canonical.find(R"("future-field":{"a":1})"), std::string::npos) << canonical;
  EXPECT_NE(canonical.find(R"("future-file-field":"x")"), std::string::npos) << canonical;
  auto again = Manifest::Parse(AsBytes(*m->ToJson()), kName);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->CanonicalSignedJson(), canonical);

  // PBS's canonical JSON refuses null; so do we.
  doc["future-field"] = nullptr;
  m = Manifest::Parse(AsBytes(doc.dump()), kName);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->CanonicalSignedJson().status().code(), Code::kInvalidArgument);
}

TEST(ManifestTest, InvalidUtf8FromCallerIsInvalidArgument) {
  auto m = Manifest::Create("vm", "1", 1);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->AddOrReplaceFile(File("\xff\xfe.blob", CryptMode::kNone, 1, 1)).ok());
  EXPECT_EQ(m->ToJson().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(m->CanonicalSignedJson().status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
