#include "server/auth/pam_auth.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

// A test machine has no /etc/pam.d/cairn-auth, so PAM uses /etc/pam.d/other (usually
// pam_unix or pam_deny). Either way a made-up user with a wrong password must be refused,
// cleanly, without crashing or leaking the handle.
TEST(PamAuthTest, WrongPasswordOfUnknownUserFails) {
  Status st = PamAuthenticate(kPamService, "cairn-no-such-user-x7", "wrong-password");
  EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.ToString();
  st = PamAuthenticate("cairn-test-no-such-service", "cairn-no-such-user-x7", "pw");
  EXPECT_FALSE(st.ok());
}

TEST(PamAuthTest, RefusesEmptyAndNulArguments) {
  EXPECT_EQ(PamAuthenticate(kPamService, "", "pw").code(), Code::kInvalidArgument);
  EXPECT_EQ(PamAuthenticate(kPamService, "root", "").code(), Code::kInvalidArgument);
  EXPECT_EQ(PamAuthenticate(kPamService, std::string("ro\0ot", 5), "pw").code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::server
