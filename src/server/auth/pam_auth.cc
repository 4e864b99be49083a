#include "server/auth/pam_auth.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace cairn::server {
namespace {

struct Credentials {
  const std::string* user;
  const std::string* password;
};

// Answers PAM's prompts. PAM frees the replies (and each resp) with free(3).
int Converse(int num_msg, const struct pam_message** msg, struct pam_response** resp,
             void* appdata) {
  if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
  const auto* creds = static_cast<const Credentials*>(appdata);
  auto* replies =
      static_cast<pam_response*>(std::calloc(static_cast<size_t>(num_msg), sizeof(pam_response)));
  if (replies == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < num_msg; ++i) {
    const std::string* answer = nullptr;
    switch (msg[i]->msg_style) {
      case PAM_PROMPT_ECHO_OFF: answer = creds->password; break;
      case PAM_PROMPT_ECHO_ON: answer = creds->user; break;
      default: break;  // PAM_ERROR_MSG, PAM_TEXT_INFO: nothing to answer
    }
    if (answer == nullptr) continue;
    replies[i].resp = strdup(answer->c_str());
    if (replies[i].resp == nullptr) {
      for (int j = 0; j < i; ++j) {
        if (replies[j].resp != nullptr) {
          std::memset(replies[j].resp, 0, std::strlen(replies[j].resp));
          std::free(replies[j].resp);
        }
      }
      std::free(replies);
      return PAM_BUF_ERR;
    }
  }
  *resp = replies;
  return PAM_SUCCESS;
}

}  // namespace

Status PamAuthenticate(std::string_view service, std::string_view user, std::string_view password) {
  for (std::string_view arg : {service, user, password}) {
    if (arg.empty() || arg.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("PAM service, user and password must be non-empty text");
    }
  }
  const std::string service_str(service);
  const std::string user_str(user);
  std::string password_str(password);
  Credentials creds{&user_str, &password_str};
  const struct pam_conv conv = {&Converse, &creds};
  pam_handle_t* handle = nullptr;
  int rc = pam_start(service_str.c_str(), user_str.c_str(), &conv, &handle);
  if (rc != PAM_SUCCESS) {
    std::memset(password_str.data(), 0, password_str.size());
    return Status::PermissionDenied("pam_start failed: " + std::string(pam_strerror(handle, rc)));
  }
  std::string step = "pam_authenticate";
  rc = pam_authenticate(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (rc == PAM_SUCCESS) {
    step = "pam_acct_mgmt";
    rc = pam_acct_mgmt(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  }
  Status result = rc == PAM_SUCCESS
                      ? Status::OK()
                      : Status::PermissionDenied(step + ": " + pam_strerror(handle, rc));
  pam_end(handle, rc);
  std::memset(password_str.data(), 0, password_str.size());
  return result;
}

}  // namespace cairn::server
