// Micro benchmarks of the per-chunk hot path, on the same 1 MiB buffer as PBS's
// `proxmox-backup-client benchmark` (proxmox-backup-client/src/benchmark.rs): the little-endian
// u32 counter pattern PBS calls "pseudo random". Each benchmark reports bytes/s of input
// processed and, as the counter pbs_ref_MBps, PBS's 2020 reference value (AMD Ryzen 7 2700X;
// 0 = PBS has none).
// bench/micro.sh runs this and prints a table with the ratio.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "client/benchmark.h"
#include "format/chunker.h"
#include "format/crypt_config.h"
#include "format/data_blob.h"
#include "format/digest.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

// The 1 MiB buffer of PBS's benchmark (client/benchmark.h).
const Bytes& PbsBuffer() {
  return PbsBenchmarkBuffer();
}

void Report(benchmark::State& state, size_t bytes_per_iteration, double pbs_ref_mbps) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes_per_iteration));
  state.counters["pbs_ref_MBps"] = pbs_ref_mbps;
}

template <typename T>
const T& CheckOk(const Result<T>& r, benchmark::State& state) {
  if (!r.ok()) {
    state.SkipWithError(r.status().ToString().c_str());
    std::abort();
  }
  return r.value();
}

void BM_Sha256(benchmark::State& state) {
  const Bytes& data = PbsBuffer();
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Of(data));
  Report(state, data.size(), 2022);
}
BENCHMARK(BM_Sha256);

void BM_ZstdCompress(benchmark::State& state) {
  const Bytes& data = PbsBuffer();
  for (auto _ : state) {
    Result<Bytes> blob = EncodeBlob(data, nullptr, /*compress=*/true);
    benchmark::DoNotOptimize(CheckOk(blob, state).data());
  }
  Report(state, data.size(), 752);
}
BENCHMARK(BM_ZstdCompress);

void BM_ZstdDecompress(benchmark::State& state) {
  const Bytes& data = PbsBuffer();
  const Bytes blob = CheckOk(EncodeBlob(data, nullptr, true), state);
  for (auto _ : state) {
    Result<Bytes> plain = DecodeBlob(blob, nullptr);
    benchmark::DoNotOptimize(CheckOk(plain, state).data());
  }
  Report(state, data.size(), 1198);
}
BENCHMARK(BM_ZstdDecompress);

void BM_Aes256GcmEncrypt(benchmark::State& state) {
  const Bytes& data = PbsBuffer();
  EncryptionKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  const CryptConfig crypt(key);
  Bytes out(data.size());
  uint8_t iv[16], tag[16];
  for (auto _ : state) {
    Status s = crypt.Encrypt(data, iv, tag, std::span<uint8_t>(out));
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  Report(state, data.size(), 3645);
}
BENCHMARK(BM_Aes256GcmEncrypt);

// PBS's verify_unencrypted: CRC, decompress and SHA-256 of a compressed chunk.
void BM_ChunkVerify(benchmark::State& state) {
  const Bytes& data = PbsBuffer();
  const Bytes blob = CheckOk(EncodeBlob(data, nullptr, true), state);
  const Digest digest = Sha256Of(data);
  for (auto _ : state) {
    Result<uint64_t> size = VerifyChunkBlob(blob, digest);
    benchmark::DoNotOptimize(CheckOk(size, state));
  }
  Report(state, data.size(), 758);
}
BENCHMARK(BM_ChunkVerify);

// Buzhash over 64 MiB of random data (PBS's benchmark has no chunker test: no reference).
void BM_BuzhashChunk(benchmark::State& state) {
  static const Bytes data = testing::RandomBytes(64u << 20, 1);
  BuzhashChunker chunker = *BuzhashChunker::Create(static_cast<size_t>(state.range(0)));
  size_t chunks = 0;
  for (auto _ : state) chunks = ChunkEnds(chunker, data).size();
  state.counters["chunks"] = static_cast<double>(chunks);
  Report(state, data.size(), 0);
}
BENCHMARK(BM_BuzhashChunk)->Arg(4 << 20)->Arg(64 << 10);

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
