#include "client/remote/api_client.h"

#include <gtest/gtest.h>

namespace cairn::client {
namespace {

TEST(RemoteRepositoryTest, ParsesPbsRepositorySpecs) {
  auto store_only = RemoteRepository::Parse("store1");
  ASSERT_TRUE(store_only.ok());
  EXPECT_EQ(store_only->host, "localhost");
  EXPECT_EQ(store_only->port, 8007);
  EXPECT_EQ(store_only->auth_id, "root@pam");
  EXPECT_EQ(store_only->store, "store1");

  auto full = RemoteRepository::Parse("alice@pbs@backup.example:8443:store1");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->auth_id, "alice@pbs");
  EXPECT_EQ(full->host, "backup.example");
  EXPECT_EQ(full->port, 8443);
  EXPECT_EQ(full->ServerKey(), "backup.example:8443");

  auto token = RemoteRepository::Parse("alice@pbs!nightly@10.0.0.5:store1");
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(token->is_token());
  EXPECT_EQ(token->host, "10.0.0.5");
  EXPECT_EQ(token->port, 8007);

  auto v6 = RemoteRepository::Parse("[::1]:9000:st1");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9000);
  EXPECT_EQ(v6->ServerKey(), "[::1]:9000");

  for (const char* bad :
       {"", "host:", ":store", "host:0:st1", "host:99999:st1", "host:x:st1", "host::st1",
        "alice@host:st1", "[::1:st1", "h/x:st1", "host:../etc", "[::1]x:st1", "[::1]::st1"}) {
    EXPECT_EQ(RemoteRepository::Parse(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::client
