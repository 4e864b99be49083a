#include "format/chunk_stream.h"

namespace cairn {

ChunkStream::ChunkStream(Chunker& chunker, ChunkFn on_chunk, BufferFn take_buffer,
                         InjectFn on_inject)
    : chunker_(chunker),
      on_chunk_(std::move(on_chunk)),
      take_buffer_(std::move(take_buffer)),
      on_inject_(std::move(on_inject)) {
  chunker_.Reset();
  StartChunk();
}

void ChunkStream::StartChunk() {
  current_ = take_buffer_ ? take_buffer_() : Bytes();
  current_.clear();
}

Status ChunkStream::Emit() {
  Status s = on_chunk_(std::move(current_));
  StartChunk();
  if (!s.ok()) failed_ = s;
  return s;
}

Status ChunkStream::Write(ByteView data) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::InvalidArgument("ChunkStream::Write after Finish");
  position_ += data.size();
  while (!data.empty()) {
    size_t cut = chunker_.Scan(data);
    if (cut == 0) {
      current_.insert(current_.end(), data.begin(), data.end());
      return Status::OK();
    }
    current_.insert(current_.end(), data.begin(), data.begin() + cut);
    CAIRN_RETURN_IF_ERROR(Emit());
    data = data.subspan(cut);
  }
  return Status::OK();
}

Status ChunkStream::CutIfAtLeast(size_t min_bytes) {
  if (!failed_.ok()) return failed_;
  if (current_.empty() || current_.size() < min_bytes) return Status::OK();
  chunker_.Reset();
  return Emit();
}

Status ChunkStream::Inject(uint64_t length, const Digest& digest) {
  if (!failed_.ok()) return failed_;
  if (!on_inject_) return Status::InvalidArgument("ChunkStream::Inject without an inject callback");
  if (finished_) return Status::InvalidArgument("ChunkStream::Inject after Finish");
  CAIRN_RETURN_IF_ERROR(CutIfAtLeast(0));
  Status s = on_inject_(length, digest);
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  position_ += length;
  return Status::OK();
}

Status ChunkStream::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::OK();
  finished_ = true;
  if (current_.empty()) return Status::OK();
  chunker_.Reset();
  return Emit();
}

}  // namespace cairn
