#include "client/benchmark.h"

#include <functional>

#include "base/time.h"
#include "format/crypt_config.h"
#include "format/data_blob.h"
#include "format/digest.h"

namespace cairn {
namespace {

// Rounds of `step` over the buffer for about `seconds`; bytes per second.
Result<double> Measure(double seconds, const std::function<Status()>& step) {
  const double start = MonotonicSeconds();
  uint64_t rounds = 0;
  double elapsed = 0;
  do {
    CAIRN_RETURN_IF_ERROR(step());
    ++rounds;
    elapsed = MonotonicSeconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(rounds * PbsBenchmarkBuffer().size()) / elapsed;
}

}  // namespace

const Bytes& PbsBenchmarkBuffer() {
  static const Bytes buffer = [] {
    Bytes b(1u << 20);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>((i / 4) >> (8 * (i % 4)));
    return b;
  }();
  return buffer;
}

Result<std::vector<SpeedFigure>> MeasureHostSpeeds(double seconds) {
  const Bytes& data = PbsBenchmarkBuffer();
  CAIRN_ASSIGN_OR_RETURN(const Bytes compressed, EncodeBlob(data, nullptr, true));
  const Digest digest = Sha256Of(data);
  EncryptionKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  const CryptConfig crypt(key);
  Bytes out;
  std::vector<SpeedFigure> figures;
  auto add = [&](std::string key, std::string name, double reference,
                 const std::function<Status()>& step) -> Status {
    CAIRN_ASSIGN_OR_RETURN(double speed, Measure(seconds, step));
    figures.push_back({std::move(key), std::move(name), speed, reference});
    return Status::OK();
  };
  CAIRN_RETURN_IF_ERROR(add("sha256", "SHA256 checksum computation speed", 2022e6, [&] {
    volatile uint8_t first = Sha256Of(data)[0];
    (void)first;
    return Status::OK();
  }));
  CAIRN_RETURN_IF_ERROR(add("compress", "ZStd level 1 compression speed", 752e6,
                            [&] { return EncodeBlobInto(data, nullptr, true, &out); }));
  CAIRN_RETURN_IF_ERROR(add("decompress", "ZStd level 1 decompression speed", 1198e6,
                            [&] { return DecodeBlobInto(compressed, nullptr, &out); }));
  CAIRN_RETURN_IF_ERROR(add("verify", "Chunk verification speed", 758e6,
                            [&] { return VerifyChunkBlob(compressed, digest).status(); }));
  CAIRN_RETURN_IF_ERROR(add("aes256_gcm", "AES256 GCM encryption speed", 3645e6, [&] {
    uint8_t iv[16], tag[16];
    return crypt.Encrypt(data, iv, tag, &out);
  }));
  return figures;
}

}  // namespace cairn
