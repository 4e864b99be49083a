// SessionChannel is the request layer of an upgraded backup or reader session (PBS's H2Client
// in pbs-client/src/http_client.rs): each request is one HTTP/2 stream on the session's
// connection, shaped as proxmox-backup-client shapes it: parameters of a GET (and of an upload,
// whose body is the payload) in the query string, those of any other request as a JSON body.
// Answers follow PBS's h2api rule: a 2xx with an empty body is null, else a JSON object whose
// "data" is the result; an error is the status with the server's plain-text message.
//
// Ownership: owns the connection; destroying the channel closes it. Thread-safety: thread-safe
// (requests from many threads run on their own streams at once).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/result.h"
#include "http/h2_client.h"

namespace cairn::client {

class SessionChannel {
 public:
  explicit SessionChannel(std::unique_ptr<http::H2Client> connection);
  ~SessionChannel();

  // `method` `path` (relative to the session: "previous", "dynamic_chunk", ...) with `params`;
  // returns the answer's "data" (null for an empty answer).
  // Errors: the status mapped by http::StatusForAnswer with the server's message, prefixed
  // with the request; Unavailable if the connection ended; Corruption for a 2xx answer that
  // is not JSON with a "data" member.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const nlohmann::json& params = nlohmann::json::object());
  // POST `path` with `params` in the query and `body` (application/octet-stream), sent from
  // the caller's bytes (no copy).
  Result<nlohmann::json> Upload(const std::string& path, const nlohmann::json& params,
                                ByteView body);
  // GET `path` with `params`; the answer's body as is.
  Result<Bytes> Download(const std::string& path, const nlohmann::json& params);

  // Ends the session's connection; requests in flight fail. Idempotent.
  void Close();

 private:
  Result<http::Response> Send(const std::string& method, const std::string& path,
                              const nlohmann::json& params, http::OutgoingBytes body,
                              const char* content_type, bool query);

  std::unique_ptr<http::H2Client> connection_;
};

}  // namespace cairn::client
