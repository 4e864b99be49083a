#include "client/payload_reuse.h"

#include <algorithm>

#include "base/log.h"

namespace cairn {
namespace {

constexpr size_t kCachedDirectories = 64;
// Dead bytes (parts of injected chunks no entry references) may reach a tenth of the payload
// bytes referenced, plus one average chunk.
constexpr uint64_t kPaddingSlack = 4u << 20;

}  // namespace

Result<const std::map<std::string, pxar::Entry>*> PayloadReuse::PreviousDirectory(
    const std::string& dir) {
  for (auto it = directories_.begin(); it != directories_.end(); ++it) {
    if (it->first == dir) {
      directories_.splice(directories_.begin(), directories_, it);
      return &directories_.front().second;
    }
  }
  std::map<std::string, pxar::Entry> entries;
  auto entry = previous_.Lookup(dir);
  if (entry.ok() && entry->kind == pxar::EntryKind::kDirectory) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<pxar::Entry> children, previous_.List(*entry));
    for (auto& child : children) {
      size_t slash = child.path.rfind('/');
      std::string name = slash == std::string::npos ? child.path : child.path.substr(slash + 1);
      entries.emplace(std::move(name), std::move(child));
    }
  } else if (!entry.ok() && !entry.status().IsNotFound() &&
             entry.status().code() != Code::kInvalidArgument) {
    return entry.status();  // a damaged previous archive
  }
  directories_.emplace_front(dir, std::move(entries));
  if (directories_.size() > kCachedDirectories) directories_.pop_back();
  return &directories_.front().second;
}

Result<std::optional<uint64_t>> PayloadReuse::Reuse(const std::string& path,
                                                    const pxar::Metadata& metadata, uint64_t size,
                                                    const FileIdentity& identity,
                                                    pxar::Encoder& encoder) {
  if (previous_state_ && previous_state_->Find(path) != identity) {
    return std::optional<uint64_t>();  // replaced or rewritten, whatever its mtime says
  }
  if (damaged_) return std::optional<uint64_t>();
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto listed = PreviousDirectory(dir);
  if (!listed.ok()) {
    if (!listed.status().IsCorruption() && !listed.status().IsNotFound()) return listed.status();
    spdlog::warn("the previous archive is damaged ({}); the remaining files are read",
                 listed.status().ToString());
    damaged_ = true;
    return std::optional<uint64_t>();
  }
  const auto* entries = *listed;
  auto it = entries->find(name);
  if (it == entries->end()) return std::optional<uint64_t>();
  const pxar::Entry& prev = it->second;
  if (prev.kind != pxar::EntryKind::kFile || !prev.payload_offset || prev.file_size != size ||
      !(prev.metadata == metadata)) {
    return std::optional<uint64_t>();
  }
  const uint64_t old_offset = *prev.payload_offset;
  const uint64_t old_end = old_offset + pxar::kHeaderSize + size;
  if (old_end > previous_payload_.size()) return std::optional<uint64_t>();
  CAIRN_ASSIGN_OR_RETURN(size_t first, previous_payload_.ChunkAt(old_offset));
  CAIRN_ASSIGN_OR_RETURN(size_t last, previous_payload_.ChunkAt(old_end - 1));
  if (lost_ != nullptr && !lost_->empty()) {
    for (size_t i = first; i <= last; ++i) {
      if (lost_->count(previous_payload_.digest(i)) != 0) return std::optional<uint64_t>();
    }
  }

  const bool extends = run_ && old_offset >= run_->old_end &&
                       (first == run_->last_chunk || first == run_->last_chunk + 1);
  if (!extends) {
    const uint64_t span_start = previous_payload_.chunk_range(first).start;
    const uint64_t head_padding = old_offset - span_start;
    if (padding_bytes_ + head_padding >
        (referenced_bytes_ + (old_end - old_offset)) / 10 + kPaddingSlack) {
      return std::optional<uint64_t>();  // cheaper in stream bytes to read the file again
    }
    CAIRN_RETURN_IF_ERROR(Flush(encoder));  // the previous run ends here
    run_ = Run{first, last, encoder.payload_position(), span_start, old_end, 0};
  } else {
    run_->last_chunk = std::max(run_->last_chunk, last);
    run_->old_end = old_end;
  }
  run_->referenced += old_end - old_offset;
  ++reused_files_;
  reused_bytes_ += size;
  return std::optional<uint64_t>(run_->new_base + (old_offset - run_->old_base));
}

Status PayloadReuse::Flush(pxar::Encoder& encoder) {
  if (!run_) return Status::OK();
  uint64_t injected = 0;
  for (size_t i = run_->first_chunk; i <= run_->last_chunk; ++i) {
    const uint64_t length = previous_payload_.chunk_range(i).length();
    CAIRN_RETURN_IF_ERROR(stream_.Inject(length, previous_payload_.digest(i)));
    injected += length;
    ++injected_chunks_;
  }
  referenced_bytes_ += run_->referenced;
  padding_bytes_ += injected - run_->referenced;
  run_.reset();
  return encoder.AdvancePayload(injected);
}

}  // namespace cairn
