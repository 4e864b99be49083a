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
