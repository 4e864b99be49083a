#include "server/protocol/index_writers.h"

#include <fmt/format.h>

namespace cairn::server {
namespace {

Status CheckCounts(std::string_view kind, uint64_t got_count, uint64_t want_count,
                   uint64_t got_size, uint64_t want_size) {
  if (got_count != want_count) {
    return Status::InvalidArgument(fmt::format(
        "{} index close failed - unexpected chunk count ({} != {})", kind, got_count, want_count));
  }
  if (got_size != want_size) {
    return Status::InvalidArgument(fmt::format(
        "{} index close failed - unexpected file size ({} != {})", kind, got_size, want_size));
  }
  return Status::OK();
}

Status CheckCsum(std::string_view kind, const Digest& got, const Digest& want) {
  if (got != want) {
    return Status::InvalidArgument(
        fmt::format("{} index close failed - got unexpected checksum ({} != {})", kind,
                    DigestToHex(got), DigestToHex(want)));
  }
  return Status::OK();
}

}  // namespace

Result<DynamicIndexWriter> DynamicIndexWriter::Create() {
  CAIRN_ASSIGN_OR_RETURN(DynamicIndexBuilder builder, DynamicIndexBuilder::Create());
  return DynamicIndexWriter(std::move(builder));
}

Status DynamicIndexWriter::Append(uint64_t offset, const Digest& digest, uint64_t size) {
  if (offset != builder_.size()) {
    return Status::InvalidArgument(
        fmt::format("got strange chunk offset ({} != {})", offset, builder_.size()));
  }
  return builder_.Append(size, digest);
}

Result<Bytes> DynamicIndexWriter::Close(uint64_t chunk_count, uint64_t size,
                                        const Digest& csum) const {
  CAIRN_RETURN_IF_ERROR(
      CheckCounts("dynamic", chunk_count, builder_.chunk_count(), size, builder_.size()));
  DynamicIndexBuilder::Output output = builder_.Finish();
  CAIRN_RETURN_IF_ERROR(CheckCsum("dynamic", csum, output.csum));
  return std::move(output.bytes);
}

Result<FixedIndexWriter> FixedIndexWriter::Create(std::optional<uint64_t> size,
                                                  uint64_t chunk_size) {
  if (chunk_size == 0 || (chunk_size & (chunk_size - 1)) != 0) {
    return Status::InvalidArgument(fmt::format("bad fixed index chunk size {}", chunk_size));
  }
  if (size && (*size == 0 || (*size - 1) / chunk_size + 1 > kMaxFixedIndexChunks)) {
    return Status::InvalidArgument(fmt::format("bad fixed index size {}", *size));
  }
  FixedIndexWriter writer(chunk_size, size.value_or(0), !size.has_value());
  writer.announced_ = size.has_value();
  return writer;
}

Result<FixedIndexWriter> FixedIndexWriter::CreateIncremental(const FixedIndex& base,
                                                             std::optional<uint64_t> size) {
  if (size && *size != base.size()) {
    return Status::InvalidArgument(
        fmt::format("reused index has a different size ({} != {})", base.size(), *size));
  }
  CAIRN_ASSIGN_OR_RETURN(FixedIndexWriter writer, Create(base.size(), base.chunk_size()));
  writer.announced_ = size.has_value();
  writer.incremental_ = true;
  for (size_t i = 0; i < base.chunk_count(); ++i) writer.slots_.emplace(i, base.digest(i));
  return writer;
}

Status FixedIndexWriter::Append(uint64_t offset, const Digest& digest, uint64_t size) {
  if (size == 0 || size > chunk_size_) {
    return Status::InvalidArgument(fmt::format("fixed index chunk of invalid size {}", size));
  }
  if (offset % chunk_size_ != 0) {
    return Status::InvalidArgument(
        fmt::format("fixed index chunk offset {} is not a multiple of {}", offset, chunk_size_));
  }
  if (offset > UINT64_MAX - size) {
    return Status::InvalidArgument(fmt::format("fixed index chunk offset {} too large", offset));
  }
  uint64_t end = offset + size;
  if (growable_ && end > size_) {
    if ((end - 1) / chunk_size_ + 1 > kMaxFixedIndexChunks) {
      return Status::InvalidArgument(fmt::format("fixed index chunk end {} too large", end));
    }
    if (size_ % chunk_size_ != 0) {  // cannot happen: a short chunk stops the growth
      return Status::InvalidArgument("fixed index grows past a short chunk");
    }
    size_ = end;
  }
  if (end > size_) {
    return Status::InvalidArgument(
        fmt::format("write chunk failed - got unexpected chunk end ({} > {})", end, size_));
  }
  if (size != chunk_size_ && end != size_) {
    return Status::InvalidArgument(fmt::format(
        "write chunk failed - chunk of {} bytes at {} does not end the image", size, offset));
  }
  if (size != chunk_size_) growable_ = false;  // a short chunk ends the image
  slots_[offset / chunk_size_] = digest;
  ++appends_;
  return Status::OK();
}

Result<Bytes> FixedIndexWriter::Close(uint64_t chunk_count, uint64_t size, const Digest& csum) {
  if (chunk_count != appends_) {
    return Status::InvalidArgument(fmt::format(
        "fixed index close failed - unexpected chunk count ({} != {})", chunk_count, appends_));
  }
  if (incremental_ && !announced_ && size > size_) {  // PBS: an incremental index may grow
    size_ = size;
  }
  CAIRN_RETURN_IF_ERROR(CheckCounts("fixed", chunk_count,
                                    incremental_ ? appends_ : uint64_t(SlotCount()), size, size_));
  if (size_ == 0) return Status::InvalidArgument("fixed index close failed - empty image");
  // Every slot written, checked before the index is built: its size is then paid for by as
  // many appends.
  if (slots_.size() != SlotCount()) {
    uint64_t missing = 0;
    while (slots_.count(missing) != 0) ++missing;
    return Status::InvalidArgument(
        fmt::format("fixed index close failed - chunk {} (offset {}) was never written", missing,
                    missing * chunk_size_));
  }
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder builder,
                         FixedIndexBuilder::CreateWithSize(size_, chunk_size_));
  for (const auto& [slot, digest] : slots_) {
    CAIRN_RETURN_IF_ERROR(builder.SetDigest(static_cast<size_t>(slot), digest));
  }
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder::Output output, builder.Finish());
  CAIRN_RETURN_IF_ERROR(CheckCsum("fixed", csum, output.csum));
  return std::move(output.bytes);
}

}  // namespace cairn::server
