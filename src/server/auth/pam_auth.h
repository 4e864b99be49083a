// Password checks of realm `pam` through Linux-PAM, as PBS's PamAuthenticator: pam_start with
// the service name, a conversation that answers every prompt (echo off: the password; echo
// on: the user name), pam_authenticate, then pam_acct_mgmt (account expired or locked).
// Cairn's service is `cairn-auth` (/etc/pam.d/cairn-auth, written by packaging); without that
// file PAM uses /etc/pam.d/other.
//
// Thread-safety: may be called concurrently; each call has its own PAM handle. PAM modules
// may block (pam_faildelay, network modules), so call it off latency-critical threads.
#pragma once

#include <string_view>

#include "base/status.h"

namespace cairn::server {

inline constexpr char kPamService[] = "cairn-auth";

// OK if PAM accepts `user` with `password` for `service`. PermissionDenied naming the PAM
// error otherwise (for logs; callers show users a generic message); InvalidArgument if an
// argument is empty or has a NUL byte.
Status PamAuthenticate(std::string_view service, std::string_view user, std::string_view password);

}  // namespace cairn::server
