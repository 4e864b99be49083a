#include "datastore/index_chunks.h"

#include "format/dynamic_index.h"
#include "format/fixed_index.h"

namespace cairn {

bool IsIndexFileName(std::string_view name) {
  return name.ends_with(".fidx") || name.ends_with(".didx");
}

Status ForEachIndexChunk(ByteView data, std::string_view name, uint64_t* data_bytes,
                         const std::function<Status(const Digest&)>& visit) {
  if (name.ends_with(".fidx")) {
    CAIRN_ASSIGN_OR_RETURN(FixedIndex index, FixedIndex::Parse(data, name));
    if (data_bytes != nullptr) *data_bytes += index.size();
    for (const Digest& digest : index.digests()) CAIRN_RETURN_IF_ERROR(visit(digest));
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, DynamicIndex::Parse(data, name));
  if (data_bytes != nullptr) *data_bytes += index.size();
  for (size_t i = 0; i < index.chunk_count(); ++i) CAIRN_RETURN_IF_ERROR(visit(index.digest(i)));
  return Status::OK();
}

}  // namespace cairn
