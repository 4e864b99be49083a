// Key files in PBS's format (pbs-key-config KeyConfig). The fixtures were written independently
// in python3 the way PBS writes them (serde_json compact output, hashlib.scrypt / pbkdf2_hmac,
// AES-256-GCM from the `cryptography` package, local timestamps with an offset) for the key
// 00 01 ... 1f, whose fingerprint is 0e:ab:...:9b.
#include "format/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <numeric>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

constexpr char kPassphrase[] = "cairn test passphrase";
constexpr char kFingerprint[] =
    "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:"
    "15:9b";

// The fixtures' "fingerprint" member (the same key in all three).
#define CAIRN_FIXTURE_FINGERPRINT                                      \
  R"("fingerprint":"0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:)" \
  R"(90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b")"

// scrypt n=65536 r=8 p=1 (PBS's parameters), salt 20..3f, IV 40..4f, with a hint.
constexpr char kScryptFile[] =
    R"({"kdf":{"Scrypt":{"n":65536,"r":8,"p":1,)"
    R"("salt":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="}},)"
    R"("created":"2020-06-17T11:54:07+02:00","modified":"2020-06-17T11:54:07+02:00",)"
    R"("data":"QEFCQ0RFRkdISUpLTE1OTwoWSFGluvO/vxCrSXu5pz7x)"
    R"(gyoZTSfdefLleAZLsU7bVFiLklTXWSuUDTXKx0AeGA==",)" CAIRN_FIXTURE_FINGERPRINT
    R"(,"hint":"the usual"})";

// PBKDF2-HMAC-SHA256, 65535 iterations (what PBS's Kdf::PBKDF2 writes).
constexpr char kPbkdf2File[] =
    R"({"kdf":{"PBKDF2":{"iter":65535,"salt":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="}},)"
    R"("created":"2021-01-01T00:00:00Z","modified":"2021-01-02T00:00:00Z",)"
    R"("data":"QEFCQ0RFRkdISUpLTE1OT6TPhnJgFBGAltqebncXEe6P/shs)"
    R"(vJtKYqd3W3XihdEYUt7hq5bECvlzd2SZkBVBPQ==",)" CAIRN_FIXTURE_FINGERPRINT "}";

// Unprotected ("kdf": null), timestamp with a negative offset.
constexpr char kPlainFile[] =
    R"({"kdf":null,"created":"2022-03-04T05:06:07-01:30","modified":"2022-03-04T05:06:07-01:30",)"
    R"("data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",)" CAIRN_FIXTURE_FINGERPRINT "}";

#undef CAIRN_FIXTURE_FINGERPRINT

// Cheap scrypt for tests that do not check PBS's cost parameters.
const ScryptParams kFast{1024, 8, 1};

EncryptionKey CountingKey() {
  EncryptionKey key;
  std::iota(key.begin(), key.end(), uint8_t{0});
  return key;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

TEST(KeyFileTest, OpensPbsScryptFixture) {
  auto file = KeyFile::Parse(kScryptFile, "/keys/pbs.json");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->kdf(), KeyFile::Kdf::kScrypt);
  EXPECT_TRUE(file->IsProtected());
  EXPECT_EQ(file->scrypt_n(), 65536u);
  EXPECT_EQ(file->scrypt_r(), 8u);
  EXPECT_EQ(file->scrypt_p(), 1u);
  EXPECT_EQ(file->salt().size(), 32u);
  EXPECT_EQ(file->created(), 1592387647);  // 2020-06-17T09:54:07Z
  EXPECT_EQ(file->modified(), 1592387647);
  EXPECT_EQ(file->fingerprint(), kFingerprint);
  EXPECT_EQ(file->hint(), "the usual");
  EXPECT_EQ(file->name(), "/keys/pbs.json");
  auto key = file->Unlock(kPassphrase);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, CountingKey());
}

TEST(KeyFileTest, WrongPassphraseIsPermissionDeniedNamingFileAndHint) {
  auto file = KeyFile::Parse(kScryptFile, "/keys/pbs.json");
  ASSERT_TRUE(file.ok());
  auto key = file->Unlock("not the passphrase");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kPermissionDenied);
  EXPECT_NE(key.status().message().find("wrong passphrase for key file /keys/pbs.json"),
            std::string::npos)
      << key.status().message();
  EXPECT_NE(key.status().message().find("the usual"), std::string::npos);
  EXPECT_EQ(file->Unlock("abcd").status().code(), Code::kInvalidArgument);  // too short
}

TEST(KeyFileTest, OpensPbsPbkdf2AndPlainFixtures) {
  auto pbkdf2 = KeyFile::Parse(kPbkdf2File, "old.json");
  ASSERT_TRUE(pbkdf2.ok()) << pbkdf2.status().ToString();
  EXPECT_EQ(pbkdf2->kdf(), KeyFile::Kdf::kPbkdf2);
  EXPECT_EQ(pbkdf2->pbkdf2_iterations(), 65535u);
  EXPECT_EQ(pbkdf2->created(), 1609459200);
  EXPECT_EQ(pbkdf2->modified(), 1609459200 + 86400);
  EXPECT_FALSE(pbkdf2->hint());
  EXPECT_EQ(*pbkdf2->Unlock(kPassphrase), CountingKey());
  EXPECT_EQ(pbkdf2->Unlock("wrong passphrase").status().code(), Code::kPermissionDenied);

  auto plain = KeyFile::Parse(kPlainFile, "plain.json");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->IsProtected());
  EXPECT_EQ(plain->created(), 1646375767);  // 05:06:07 at -01:30 is 06:36:07Z
  EXPECT_EQ(*plain->Unlock(""), CountingKey());
  EXPECT_EQ(*plain->Unlock("ignored"), CountingKey());
}

TEST(KeyFileTest, WritesPbsLayout) {
  auto file = KeyFile::Wrap(CountingKey(), kPassphrase, kFast);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const std::string json = file->ToJson();
  // PBS (serde) field order, compact; the kdf is an externally tagged "Scrypt" variant.
  EXPECT_EQ(json.rfind(R"({"kdf":{"Scrypt":{"n":1024,"r":8,"p":1,"salt":")", 0), 0u) << json;
  const size_t created = json.find(R"("created":")");
  const size_t modified = json.find(R"("modified":")");
  const size_t data = json.find(R"("data":")");
  const size_t fp = json.find(std::string(R"("fingerprint":")") + kFingerprint + "\"");
  ASSERT_NE(fp, std::string::npos) << json;
  EXPECT_TRUE(created < modified && modified < data && data < fp) << json;
  EXPECT_EQ(json.find("hint"), std::string::npos);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(file->data().size(), 64u);  // IV | TAG | encrypted 32-byte key
  EXPECT_EQ(file->salt().size(), 32u);
  EXPECT_EQ(file->created(), file->modified());

  auto back = KeyFile::Parse(json, "k");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), json);
  EXPECT_EQ(*back->Unlock(kPassphrase), CountingKey());
}

TEST(KeyFileTest, CreateWithPbsDefaultsRoundTrips) {
  auto created = KeyFile::Create(kPassphrase);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const auto& [key, file] = *created;
  EXPECT_EQ(file.scrypt_n(), 65536u);
  EXPECT_EQ(file.scrypt_r(), 8u);
  EXPECT_EQ(file.scrypt_p(), 1u);
  EXPECT_EQ(file.fingerprint(), CryptConfig(key).FingerprintString());
  auto parsed = KeyFile::Parse(file.ToJson(), "new.json");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed->Unlock(kPassphrase), key);
}

TEST(KeyFileTest, GeneratedKeysDiffer) {
  auto a = GenerateEncryptionKey(), b = GenerateEncryptionKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  // Two wraps of one key use different salts and IVs.
  auto x = KeyFile::Wrap(*a, kPassphrase, kFast), y = KeyFile::Wrap(*a, kPassphrase, kFast);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_NE(x->salt(), y->salt());
  EXPECT_NE(x->data(), y->data());
}

TEST(KeyFileTest, UnprotectedKeyFile) {
  auto created = KeyFile::Create("");
  ASSERT_TRUE(created.ok());
  const auto& [key, file] = *created;
  EXPECT_FALSE(file.IsProtected());
  const std::string json = file.ToJson();
  EXPECT_EQ(json.rfind(R"({"kdf":null,"created":")", 0), 0u) << json;
  EXPECT_EQ(file.data(), Bytes(key.begin(), key.end()));
  auto parsed = KeyFile::Parse(json, "plain");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed->Unlock(""), key);
}

TEST(KeyFileTest, ShortPassphraseIsRefused) {
  EXPECT_EQ(KeyFile::Wrap(CountingKey(), "1234", kFast).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(KeyFile::Wrap(CountingKey(), "12345", kFast).ok());
}

TEST(KeyFileTest, InvalidScryptParamsAreRefused) {
  for (ScryptParams p : {ScryptParams{1000, 8, 1}, ScryptParams{1, 8, 1}, ScryptParams{1024, 0, 1},
                         ScryptParams{1024, 8, 0}, ScryptParams{uint64_t{1} << 24, 8, 1}}) {
    EXPECT_EQ(KeyFile::Wrap(CountingKey(), kPassphrase, p).status().code(), Code::kInvalidArgument)
        << p.n << " " << p.r << " " << p.p;
  }
}

TEST(KeyFileTest, ChangePassphraseKeepsKeyAndCreated) {
  auto file = KeyFile::Parse(kScryptFile, "pbs.json");
  ASSERT_TRUE(file.ok());
  auto changed = file->ChangePassphrase(kPassphrase, "a brand new passphrase", "new hint", kFast);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->created(), file->created());
  EXPECT_GT(changed->modified(), file->modified());
  EXPECT_EQ(changed->hint(), "new hint");
  EXPECT_EQ(changed->fingerprint(), kFingerprint);
  EXPECT_EQ(changed->name(), "pbs.json");
  EXPECT_EQ(*changed->Unlock("a brand new passphrase"), CountingKey());
  EXPECT_EQ(changed->Unlock(kPassphrase).status().code(), Code::kPermissionDenied);

  // To unprotected; a hint is then refused.
  auto plain = changed->ChangePassphrase("a brand new passphrase", "");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->IsProtected());
  EXPECT_EQ(plain->created(), file->created());
  EXPECT_EQ(*plain->Unlock(""), CountingKey());
  EXPECT_EQ(changed->ChangePassphrase("a brand new passphrase", "", "hint").status().code(),
            Code::kInvalidArgument);
  // And back.
  auto again = plain->ChangePassphrase("", kPassphrase, std::nullopt, kFast);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->Unlock(kPassphrase), CountingKey());

  EXPECT_EQ(
      file->ChangePassphrase("wrong passphrase", "whatever1", std::nullopt, kFast).status().code(),
      Code::kPermissionDenied);
}

TEST(KeyFileTest, HintOnlyForProtectedFiles) {
  auto plain = KeyFile::Wrap(CountingKey(), "");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->set_hint("x").code(), Code::kInvalidArgument);
  EXPECT_TRUE(plain->set_hint(std::nullopt).ok());
  auto prot = KeyFile::Wrap(CountingKey(), kPassphrase, kFast);
  ASSERT_TRUE(prot.ok());
  ASSERT_TRUE(prot->set_hint("my dog's name").ok());
  auto back = KeyFile::Parse(prot->ToJson(), "h");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->hint(), "my dog's name");
}

TEST(KeyFileTest, FingerprintMismatchIsCorruption) {
  const std::string other_fp =
      "ff:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:"
      "15:9b";
  for (const char* fixture : {kScryptFile, kPlainFile}) {
    auto file = KeyFile::Parse(Replace(fixture, kFingerprint, other_fp), "fp.json");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto key = file->Unlock(kPassphrase);
    EXPECT_EQ(key.status().code(), Code::kCorruption) << key.status().ToString();
  }
  // A file without a fingerprint opens (PBS tolerates that too) and reports none.
  auto file = KeyFile::Parse(
      Replace(kPlainFile, std::string(R"(,"fingerprint":")") + kFingerprint + "\"", ""), "nofp");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->fingerprint(), "");
  EXPECT_EQ(*file->Unlock(""), CountingKey());
}

TEST(KeyFileTest, DamagedKeyDataIsRefused) {
  // A flipped byte in the encrypted key fails authentication: indistinguishable from a wrong
  // passphrase, so PermissionDenied as in PBS.
  auto flipped = KeyFile::Parse(Replace(kScryptFile, "QEFCQ0RF", "QEFCQ0RG"), "f");
  ASSERT_TRUE(flipped.ok()) << flipped.status().ToString();
  EXPECT_EQ(flipped->Unlock(kPassphrase).status().code(), Code::kPermissionDenied);
  // Wrong lengths are Corruption.
  auto short_data =
      KeyFile::Parse(Replace(kScryptFile,
                             "QEFCQ0RFRkdISUpLTE1OTwoWSFGluvO/"
                             "vxCrSXu5pz7xgyoZTSfdefLleAZLsU7bVFiLklTXWSuUDTXKx0AeGA==",
                             "QEFCQ0RFRkdISUpLTE1OTwoWSFGluvO/vxCrSXu5pz7x"),
                     "s");
  ASSERT_TRUE(short_data.ok()) << short_data.status().ToString();
  EXPECT_EQ(short_data->Unlock(kPassphrase).status().code(), Code::kCorruption);
  auto short_plain = KeyFile::Parse(
      Replace(kPlainFile, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "AAECAwQF"), "p");
  ASSERT_TRUE(short_plain.ok());
  EXPECT_EQ(short_plain->Unlock("").status().code(), Code::kCorruption);
}

TEST(KeyFileTest, MalformedJsonIsInvalidArgument) {
  const std::string good = kScryptFile;
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"empty", ""},
      {"not json", "{kdf: none"},
      {"array", "[1,2]"},
      {"lowercase variant", Replace(good, "\"Scrypt\"", "\"scrypt\"")},
      {"unknown variant", Replace(good, "\"Scrypt\"", "\"Argon2\"")},
      {"kdf string", Replace(kPlainFile, "\"kdf\":null", "\"kdf\":\"scrypt\"")},
      {"kdf two variants", Replace(good, "{\"Scrypt\":", "{\"PBKDF2\":{},\"Scrypt\":")},
      {"n not power of two", Replace(good, "\"n\":65536", "\"n\":65535")},
      {"n huge", Replace(good, "\"n\":65536", "\"n\":1099511627776")},
      {"n negative", Replace(good, "\"n\":65536", "\"n\":-1")},
      {"n string", Replace(good, "\"n\":65536", "\"n\":\"65536\"")},
      {"p huge", Replace(good, "\"p\":1", "\"p\":1000000")},
      {"salt missing padding", Replace(good, "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
                                       "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8")},
      {"data with whitespace", Replace(good, "QEFCQ0RF", "QEFC Q0RF")},
      {"data not base64", Replace(good, "QEFCQ0RF", "QEFC*0RF")},
      {"data missing", Replace(good, "\"data\"", "\"datum\"")},
      {"created missing", Replace(good, "\"created\"", "\"born\"")},
      {"created bad",
       Replace(good, "2020-06-17T11:54:07+02:00\",\"modified", "2020-06-17 11:54:07\",\"modified")},
      {"created bad offset", Replace(good, "2020-06-17T11:54:07+02:00\",\"modified",
                                     "2020-06-17T11:54:07+24:00\",\"modified")},
      {"created fraction", Replace(good, "2020-06-17T11:54:07+02:00\",\"modified",
                                   "2020-06-17T11:54:07.5+02:00\",\"modified")},
      {"fingerprint short", Replace(good, "0e:ab:d4:46:", "0e:ab:d4:")},
      {"fingerprint number", Replace(good, std::string("\"") + kFingerprint + "\"", "42")},
      {"hint number", Replace(good, "\"the usual\"", "7")},
  };
  for (const auto& [what, json] : cases) {
    auto file = KeyFile::Parse(json, "bad.json");
    EXPECT_FALSE(file.ok()) << what;
    EXPECT_EQ(file.status().code(), Code::kInvalidArgument)
        << what << ": " << file.status().ToString();
    EXPECT_NE(file.status().message().find("key file bad.json"), std::string::npos) << what;
  }
  // PBS's Option<kdf>: an absent kdf means unprotected.
  auto no_kdf = KeyFile::Parse(Replace(kPlainFile, R"("kdf":null,)", ""), "nokdf");
  ASSERT_TRUE(no_kdf.ok()) << no_kdf.status().ToString();
  EXPECT_FALSE(no_kdf->IsProtected());
}

TEST(KeyFileTest, SaveAndLoad) {
  testing::TempDir dir;
  const std::string path = dir.Sub("key.json");
  auto file = KeyFile::Wrap(CountingKey(), kPassphrase, kFast);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->Save(path, /*replace=*/false).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(file->Save(path, false).IsAlreadyExists());

  auto loaded = KeyFile::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->name(), path);
  EXPECT_EQ(*loaded->Unlock(kPassphrase), CountingKey());

  auto changed = loaded->ChangePassphrase(kPassphrase, "another passphrase", std::nullopt, kFast);
  ASSERT_TRUE(changed.ok());
  ASSERT_TRUE(changed->Save(path, /*replace=*/true).ok());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto reloaded = KeyFile::Load(path);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(*reloaded->Unlock("another passphrase"), CountingKey());

  EXPECT_TRUE(KeyFile::Load(dir.Sub("missing.json")).status().IsNotFound());
  testing::WriteTestFile(dir.Sub("junk.json"), AsBytes("not json"));
  EXPECT_EQ(KeyFile::Load(dir.Sub("junk.json")).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
