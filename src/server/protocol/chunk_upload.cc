#include "server/protocol/chunk_upload.h"

#include <fmt/format.h>

#include "format/data_blob.h"

namespace cairn::server {

Status CheckUploadedChunk(const ChunkUploadInfo& info, ByteView body) {
  if (body.size() > info.encoded_size) {
    return Status::InvalidArgument("uploaded chunk is larger than announced.");
  }
  if (body.size() != info.encoded_size) {
    return Status::InvalidArgument("uploaded chunk has unexpected size.");
  }
  auto kind = InspectBlob(body);
  if (!kind.ok()) return Status::InvalidArgument("wrong magic");
  CAIRN_ASSIGN_OR_RETURN(uint64_t plain_size, VerifyChunkBlob(body, info.digest));
  if (!IsEncrypted(*kind) && plain_size != info.size) {
    return Status::Corruption(fmt::format("chunk {} has {} bytes, not the announced {}",
                                          DigestToHex(info.digest), plain_size, info.size));
  }
  return Status::OK();
}

}  // namespace cairn::server
