#include "datastore/backend/content_path.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ContentPathTest, AcceptsWhatADatastoreWrites) {
  auto marker = ParseContentPath("ns/a/ns/b/.namespace");
  ASSERT_TRUE(marker.ok());
  EXPECT_EQ(marker->kind, ContentKind::kNamespaceMarker);
  EXPECT_EQ(marker->dir, "ns/a/ns/b");
  EXPECT_EQ(marker->file, "");

  auto owner = ParseContentPath("ns/a/vm/100/owner");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->kind, ContentKind::kGroupFile);
  EXPECT_EQ(owner->dir, "ns/a/vm/100");
  EXPECT_EQ(owner->file, "ns/a/vm/100/owner");
  EXPECT_TRUE(ParseContentPath("host/web-1/notes").ok());

  for (const char* name : {"index.json.blob", "drive-scsi0.img.fidx", "root.pxar.didx",
                           "client.log.blob", ".protected"}) {
    auto file = ParseContentPath(std::string("ct/7/2026-11-23T10:00:00Z/") + name);
    ASSERT_TRUE(file.ok()) << name;
    EXPECT_EQ(file->kind, ContentKind::kSnapshotFile);
    EXPECT_EQ(file->dir, "ct/7/2026-11-23T10:00:00Z");
  }
  // A namespace may be called like a backup type.
  EXPECT_TRUE(ParseContentPath("ns/vm/vm/1/owner").ok());
}

TEST(ContentPathTest, RefusesEverythingElse) {
  for (const char* bad : {"",
                          ".namespace",
                          "ns/.namespace",
                          "ns/a",
                          "ns/a/ns/.namespace",
                          "ns/../vm/1/owner",
                          "ns/a/b/.namespace",
                          "vm",
                          "vm/100",
                          "vm/100/",
                          "vm/100/owner/x",
                          "vm/100/evil",
                          "vm/../owner",
                          "vm/..",
                          "vm/1 0/owner",
                          "xx/100/owner",
                          "vm/100/2026-11-23T10:00:00Z",
                          "vm/100/2026-11-23T10:00:00Z/",
                          "vm/100/2026-11-23T10:00:00Z/.hidden",
                          "vm/100/2026-11-23T10:00:00Z/run.sh",
                          "vm/100/2026-11-23T10:00:00Z/../owner",
                          "vm/100/2026-11-23T10:00:00Z/a/b.blob",
                          "vm/100/2026-11-23T11:00:00+01:00/a.blob",
                          "vm/100/not-a-time/a.blob",
                          "vm/100/1970-01-01T00:00:00Z/a.blob",
                          "ns/a/ns/b/ns/c/ns/d/ns/e/ns/f/ns/g/ns/h/.namespace",
                          "vm//owner",
                          "/vm/1/owner"}) {
    auto parsed = ParseContentPath(bad);
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << "'" << bad << "' accepted";
  }
  std::string with_nul = std::string("vm/1\0x/owner", 12);
  EXPECT_FALSE(ParseContentPath(with_nul).ok());
}

}  // namespace
}  // namespace cairn
