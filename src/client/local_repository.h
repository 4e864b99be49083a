// LocalRepository is a Repository backed by a Datastore opened in this process.
//
// Ownership: borrows the Datastore, which must outlive the repository and its sessions.
// Thread-safety: as Repository.
#pragma once

#include "client/repository.h"
#include "datastore/datastore.h"

namespace cairn {

std::unique_ptr<Repository> NewLocalRepository(Datastore& store);

}  // namespace cairn
