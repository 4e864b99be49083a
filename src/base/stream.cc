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
