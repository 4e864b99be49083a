#include "base/stream.h"

#include <algorithm>
#include <cstring>

namespace cairn {

Result<size_t> ByteViewSource::Read(std::span<uint8_t> buf) {
  size_t n = std::min(buf.size(), data_.size() - pos_);
  if (n > 0) std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<uint64_t> ByteViewSource::Skip(uint64_t n) {
  uint64_t skipped = std::min<uint64_t>(n, data_.size() - pos_);
  pos_ += static_cast<size_t>(skipped);
  return skipped;
}

Result<uint64_t> ByteSource::Skip(uint64_t n) {
  uint8_t scratch[64 << 10];
  uint64_t done = 0;
  while (done < n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(scratch), n - done));
    CAIRN_ASSIGN_OR_RETURN(size_t got, Read(std::span<uint8_t>(scratch, want)));
    if (got == 0) break;
    done += got;
  }
  return done;
}

Status ByteViewRandomAccess::ReadAt(uint64_t offset, std::span<uint8_t> buf) {
  if (offset > data_.size() || buf.size() > data_.size() - offset) {
    return Status::Corruption("read past the end of the data");
  }
  if (!buf.empty()) std::memcpy(buf.data(), data_.data() + offset, buf.size());
  return Status::OK();
}

Result<size_t> RangeSource::Read(std::span<uint8_t> buf) {
  uint64_t limit = std::min<uint64_t>(end_, source_.size());
  size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), pos_ < limit ? limit - pos_ : 0));
  if (n == 0) return size_t{0};
  CAIRN_RETURN_IF_ERROR(source_.ReadAt(pos_, buf.first(n)));
  pos_ += n;
  return n;
}

Result<uint64_t> RangeSource::Skip(uint64_t n) {
  uint64_t limit = std::min<uint64_t>(end_, source_.size());
  uint64_t skipped = std::min<uint64_t>(n, pos_ < limit ? limit - pos_ : 0);
  pos_ += skipped;
  return skipped;
}

Result<size_t> ReadFull(ByteSource& source, std::span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, source.Read(buf.subspan(done)));
    if (n == 0) break;
    done += n;
  }
  return done;
}

}  // namespace cairn
