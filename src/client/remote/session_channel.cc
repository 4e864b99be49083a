#include "client/remote/session_channel.h"

#include <fmt/format.h>

#include "client/remote/api_client.h"
#include "http/answer_status.h"

namespace cairn::client {

using nlohmann::json;

SessionChannel::SessionChannel(std::unique_ptr<http::H2Client> connection)
    : connection_(std::move(connection)) {}

SessionChannel::~SessionChannel() {
  Close();
}

void SessionChannel::Close() {
  connection_->Close();
}

Result<http::Response> SessionChannel::Send(const std::string& method, const std::string& path,
                                            const json& params, http::OutgoingBytes body,
                                            const char* content_type, bool query) {
  std::string target = "/" + path;  // relative to the session, as PBS's client sends it
  http::HeaderList headers;
  if (query) {
    const std::string text = QueryString(params);
    if (!text.empty()) target += "?" + text;
  } else {
    body = http::OutgoingBytes(params.dump());
  }
  if (content_type != nullptr) headers.emplace_back("content-type", content_type);
  auto answer = connection_->Call(method, target, std::move(headers), std::move(body));
  if (!answer.ok()) return answer.status().WithContext(method + " " + path);
  if (answer->status < 200 || answer->status > 299) {
    Status error = http::StatusForAnswer(answer->status,
                                         std::string(answer->body.begin(), answer->body.end()));
    return error.WithContext(method + " " + path);
  }
  return std::move(answer).value();
}

namespace {

Result<json> DataOf(const http::Response& answer, const std::string& what) {
  if (answer.body.empty()) return json();
  json parsed = json::parse(answer.body.begin(), answer.body.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("data")) {
    return Status::Corruption(what + ": got result without data property");
  }
  return std::move(parsed["data"]);
}

}  // namespace

Result<json> SessionChannel::Call(const std::string& method, const std::string& path,
                                  const json& params) {
  const bool query = method == "GET" || method == "DELETE";
  CAIRN_ASSIGN_OR_RETURN(
      http::Response answer,
      Send(method, path, params, {},
           query ? "application/x-www-form-urlencoded" : "application/json", query));
  return DataOf(answer, method + " " + path);
}

Result<json> SessionChannel::Upload(const std::string& path, const json& params, ByteView body) {
  CAIRN_ASSIGN_OR_RETURN(http::Response answer,
                         Send("POST", path, params, http::OutgoingBytes::Borrow(body),
                              "application/octet-stream", true));
  return DataOf(answer, "POST " + path);
}

Result<Bytes> SessionChannel::Download(const std::string& path, const json& params) {
  CAIRN_ASSIGN_OR_RETURN(http::Response answer, Send("GET", path, params, {}, nullptr, true));
  return std::move(answer.body);
}

}  // namespace cairn::client
