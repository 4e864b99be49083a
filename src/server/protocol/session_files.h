// What the backup and reader sessions share: their request parameters (checked like the REST
// API's, with the flags PBS's clients add to every request dropped), reading a snapshot's file
// as PBS's `previous` and `download` answer it, and the raw answer for file and chunk bytes.
//
// Thread-safety: pure functions (ReadSessionFile reads the store).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "datastore/datastore.h"
#include "http/server.h"
#include "server/rest/params.h"

namespace cairn::server {

// `raw` checked against `specs` after dropping `debug` and `benchmark`. InvalidArgument
// "parameter verification failed - 'name': message ..." otherwise.
Result<Params> CheckSessionParams(nlohmann::json raw, const std::vector<ParamSpec>& specs);

// File `name` of finished snapshot `snap` (the manifest included), raw. InvalidArgument for a
// bad name; a missing blob NotFound, a missing index InvalidArgument (PBS: opening it fails).
Result<Bytes> ReadSessionFile(const Datastore& store, const BackupNamespace& ns,
                              const SnapshotRef& snap, const std::string& name);

// A 200 answer with `data` as application/octet-stream.
http::ServerResponse OctetStream(Bytes data);

}  // namespace cairn::server
