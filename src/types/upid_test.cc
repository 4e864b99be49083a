#include "types/upid.h"

#include <gtest/gtest.h>

#include "base/time.h"

namespace cairn {
namespace {

TEST(UpidTest, ParsesPbsExample) {
  auto upid =
      Upid::Parse("UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:");
  ASSERT_TRUE(upid.ok()) << upid.status().ToString();
  EXPECT_EQ(upid->node, "elsa");
  EXPECT_EQ(upid->pid, 0x4F37u);
  EXPECT_EQ(upid->pstart, 0x39E469u);
  EXPECT_EQ(upid->task_id, 0u);
  EXPECT_EQ(upid->starttime, 0x5CA78B83);
  EXPECT_EQ(upid->worker_type, "garbage_collection");
  EXPECT_EQ(upid->worker_id, "");
  EXPECT_EQ(upid->auth_id, "root@pam");
  EXPECT_EQ(upid->ToString(),
            "UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:");
}

TEST(UpidTest, ThisProcessRoundTripsAndEscapesTheWorkerId) {
  const int64_t before = NowEpoch();
  Upid upid = Upid::ForThisProcess("host1", "verify", "store1:vm/100", "root@pam");
  EXPECT_EQ(upid.worker_id, "store1\\x3avm-100");
  EXPECT_GE(upid.starttime, before);
  auto parsed = Upid::Parse(upid.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->ToString(), upid.ToString());
  EXPECT_EQ(parsed->starttime, upid.starttime);
  EXPECT_NE(Upid::ForThisProcess("h", "verify", "", "root@pam").task_id,
            Upid::ForThisProcess("h", "verify", "", "root@pam").task_id);
}

TEST(UpidTest, RejectsMalformedText) {
  for (const char* bad : {
           "", "UPID:", "upid:elsa:00004F37:0039E469:00000000:5CA78B83:gc::root@pam:",
           "UPID:elsa:00004F37:0039E469:00000000:5CA78B83:gc::root@pam",      // no final ':'
           "UPID:elsa:4F37:0039E469:00000000:5CA78B83:gc::root@pam:",         // short pid
           "UPID:elsa:00004F37:0039E469:00000000:5CA78B8Z:gc::root@pam:",     // not hex
           "UPID:elsa:00004F37:0039E469:00000000:5CA78B83:gc:a:b:root@pam:",  // extra field
           "UPID::00004F37:0039E469:00000000:5CA78B83:gc::root@pam:",         // no node
           "UPID:elsa:00004F37:0039E469:00000000:5CA78B83:g c::root@pam:",    // space
       }) {
    EXPECT_FALSE(Upid::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cairn
