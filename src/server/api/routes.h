// The REST API's routes, one function per resource file; AddAllRoutes builds the whole table.
//
// Thread-safety: call once at server start.
#pragma once

#include "server/rest/router.h"

namespace cairn::server {

void AddNodeRoutes(Router& router);           // node_api.cc: version, ping, identity, tasks
void AddAccessRoutes(Router& router);         // access_api.cc: tickets, users, tokens, ACLs
void AddDatastoreListRoutes(Router& router);  // datastore_list_api.cc: groups, snapshots, …
void AddDatastoreFileRoutes(Router& router);  // datastore_file_api.cc: catalog, file download
void AddDatastoreEditRoutes(Router& router);  // datastore_edit_api.cc: notes, forget, …
void AddDatastoreJobRoutes(Router& router);   // datastore_job_api.cc: gc, verify, prune, …
void AddConfigRoutes(Router& router);         // config_api.cc: config/datastore, config/s3
void AddProtocolRoutes(Router& router);       // protocol_api.cc: the backup and reader protocols

inline void AddAllRoutes(Router& router) {
  AddNodeRoutes(router);
  AddAccessRoutes(router);
  AddDatastoreListRoutes(router);
  AddDatastoreFileRoutes(router);
  AddDatastoreEditRoutes(router);
  AddDatastoreJobRoutes(router);
  AddConfigRoutes(router);
  AddProtocolRoutes(router);
}

}  // namespace cairn::server
