#include "format/archive_name.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ArchiveNameTest, ClientToServer) {
  struct {
    const char* client;
    const char* server;
  } cases[] = {
      {"disk.img", "disk.img.fidx"},
      {"drive-scsi0.img", "drive-scsi0.img.fidx"},
      {"root.pxar", "root.pxar.didx"},
      {"root.mpxar", "root.mpxar.didx"},
      {"root.ppxar", "root.ppxar.didx"},
      {"catalog.pcat1", "catalog.pcat1.didx"},
      {"qemu-server.conf", "qemu-server.conf.blob"},
      {"index.json", "index.json.blob"},
      {"rsa-encrypted.key", "rsa-encrypted.key.blob"},
      {"client.log", "client.log.blob"},
      // Already a server name: unchanged.
      {"disk.img.fidx", "disk.img.fidx"},
      {"root.pxar.didx", "root.pxar.didx"},
      {"fw.conf.blob", "fw.conf.blob"},
  };
  for (const auto& c : cases) {
    auto server = ServerArchiveName(c.client);
    ASSERT_TRUE(server.ok()) << c.client << ": " << server.status().ToString();
    EXPECT_EQ(*server, c.server);
  }
}

TEST(ArchiveNameTest, ServerToClientAndType) {
  EXPECT_EQ(*ClientArchiveName("disk.img.fidx"), "disk.img");
  EXPECT_EQ(*ClientArchiveName("root.pxar.didx"), "root.pxar");
  EXPECT_EQ(*ClientArchiveName("qemu-server.conf.blob"), "qemu-server.conf");
  EXPECT_EQ(*ArchiveTypeOf("disk.img.fidx"), ArchiveType::kFixedIndex);
  EXPECT_EQ(*ArchiveTypeOf("root.pxar.didx"), ArchiveType::kDynamicIndex);
  EXPECT_EQ(*ArchiveTypeOf("index.json.blob"), ArchiveType::kBlob);
  EXPECT_EQ(ArchiveTypeExtension(ArchiveType::kFixedIndex), "fidx");
  for (const char* client : {"disk.img", "root.pxar", "a.conf", "catalog.pcat1"}) {
    EXPECT_EQ(*ClientArchiveName(*ServerArchiveName(client)), client);
  }
}

TEST(ArchiveNameTest, RejectsHostileAndUnknownNames) {
  const std::string nul_name("a\0b.img", 7);
  const std::string long_name = std::string(252, 'a') + ".img";    // 256 bytes
  const std::string long_server = std::string(250, 'a') + ".img";  // .fidx makes it 260
  const std::string hostile[] = {
      "",       ".",        "..",        "../x.img",    "a/b.img",  "/etc/passwd.blob",
      nul_name, long_name,  long_server, ".hidden.img", "a\nb.img", "a\x7f.img",
      "noext",  "disk.raw", ".fidx",     "img",         "x.fidx/",  "..fidx",
  };
  for (const std::string& name : hostile) {
    auto r = ServerArchiveName(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << name;
  }
  const std::string hostile_server[] = {
      "",      ".",       "..",    "../x.fidx", "a/b.fidx", nul_name + ".blob",
      ".fidx", ".x.didx", "x.img", "x.pxar",    "x.fidx.",  std::string(251, 'a') + ".blob",
  };
  for (const std::string& name : hostile_server) {
    EXPECT_EQ(ValidateArchiveFileName(name).code(), Code::kInvalidArgument) << name;
    EXPECT_FALSE(ArchiveTypeOf(name).ok()) << name;
    EXPECT_FALSE(ClientArchiveName(name).ok()) << name;
  }
  // 255 bytes is the limit, inclusive.
  EXPECT_TRUE(ValidateArchiveFileName(std::string(250, 'a') + ".blob").ok());
}

TEST(ArchiveNameTest, ErrorNamesTheInputSafely) {
  auto r = ServerArchiveName(std::string("bad\0name/..", 11));
  ASSERT_FALSE(r.ok());
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("bad\\x00name"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\0'), std::string::npos);
}

}  // namespace
}  // namespace cairn
