// Fuzzes the server's side of PBS's backup protocol after the upgrade
// (server/protocol/backup_session.h): BackupSession::Handle gets a sequence of requests decoded
// from the input, against a real filesystem Datastore in a scratch directory. The store holds
// one finished snapshot of the group (the session's previous backup: a dynamic and a fixed
// index, a blob); each input starts a new snapshot of that group, sends its requests, and
// destroys the session, finished or not.
//
// Input layout: a sequence of requests, each an op byte (low 4 bits: what, high 4 bits: how)
// and the bytes that op reads (below); the input ends the session early with op 15. Values
// are made by a model of the session that tracks what the server accepted (open writers,
// uploaded chunks, appended entries, stored files), so that a request can carry what a real
// client would send (a wid, the chunks' offsets, the index csum, a manifest listing what was
// stored) or, as the input says, a mutation of it: a parameter omitted, of the wrong type, out
// of range, raw bytes, a flipped byte of a chunk. Chunks are small (at most 255 bytes of data),
// except one zero chunk of the fixed chunk size (4 MiB, stored compressed), at most once per
// input.
//
// With CAIRN_FUZZ_TRACE set in the environment, each request and its answer are printed.
//
// Checked beyond "no crash": the session never answers 500 (the store is healthy); what it
// accepts is what the model expected (a fresh wid in 1..256 for an open, the digest for an
// upload); after the session is destroyed the group is free again, and the snapshot is listed
// exactly when `finish` succeeded: then its manifest loads, every file it lists reads back (a
// blob with its size and csum; an index's size and csum in the manifest are the client's word,
// as in PBS, which neither finish nor reads check), every index parses and every chunk it
// references is in the store; otherwise nothing of it is left, not even an unfinished
// directory. The input's snapshot and new chunks are then removed, so that every input starts
// from the same store.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "base/file_util.h"
#include "base/hex.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/datastore.h"
#include "datastore/index_chunks.h"
#include "datastore/snapshot_writer.h"
#include "format/data_blob.h"
#include "format/dynamic_index.h"
#include "format/fixed_index.h"
#include "format/manifest.h"
#include "fuzz_support.h"
#include "scratch_dir.h"
#include "server/protocol/backup_session.h"
#include "server/protocol/session_test_util.h"

namespace cairn::server {
namespace {

using json = nlohmann::json;

constexpr int64_t kBaseTime = 1000;  // the store's finished snapshot
constexpr int64_t kTime = 2000;      // each input's
constexpr uint64_t kFixedChunk = 4u << 20;
constexpr size_t kMaxRequests = 64;

// The fuzz input, read front to back; past its end every read gives zero bytes.
class Source {
 public:
  Source(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // One byte (0..127), or with its top bit set a 1 to 8 byte little-endian number.
  uint64_t Number() {
    uint8_t b = Byte();
    if (b < 0x80) return b;
    uint64_t n = 0;
    for (int i = 0; i <= (b & 7); ++i) n |= uint64_t(Byte()) << (8 * i);
    return n;
  }
  // A length byte and up to that many bytes.
  std::string Text() {
    size_t n = std::min<size_t>(Byte(), size_ - std::min(pos_, size_));
    std::string text(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return text;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct Chunk {
  Digest digest{};
  uint64_t size = 0;
  Bytes encoded;
};

Chunk MakeChunk(ByteView plain, bool compress) {
  Chunk chunk{Sha256Of(plain), plain.size(), {}};
  chunk.encoded = *EncodeBlob(plain, nullptr, compress);
  return chunk;
}

std::string Str(ByteView bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// What the client side knows of the session: writers, chunks and files the server accepted.
struct Model {
  struct Writer {
    bool fixed = false;
    std::string name;
    std::vector<DynamicIndexEntry> entries;  // dynamic
    std::map<uint64_t, Digest> slots;        // fixed: digest per written slot
    uint64_t size = 0;                       // fixed: image size so far
    uint64_t appends = 0;                    // fixed
    bool incremental = false;
  };
  std::map<uint64_t, Writer> writers;         // by wid
  std::vector<Chunk> chunks;                  // may be appended (uploaded or registered)
  std::map<std::string, ManifestFile> files;  // stored archives and blobs
  std::set<Digest> uploaded;                  // chunks this input stored
  bool zero_chunk_sent = false;
};

// The store and what its previous snapshot holds, made once.
struct Env {
  std::string root;
  std::unique_ptr<Datastore> store;
  BackupGroup group;
  std::vector<Chunk> base_chunks;  // of root.pxar.didx, then disk.img.fidx
  std::set<Digest> base_digests;
  Digest base_fidx_csum{};
};

http::ServerResponse Call(BackupSession& session, std::string method, std::string path,
                          std::string query, std::string body, bool json_body) {
  http::ServerRequest request =
      SessionRequest(std::move(method), path, std::move(query), std::move(body), json_body);
  http::ServerResponse response = session.Handle(request);
  static const bool trace = std::getenv("CAIRN_FUZZ_TRACE") != nullptr;
  if (trace) {
    std::fprintf(stderr, "%s %s -> %d %.200s\n", request.method.c_str(), request.target.c_str(),
                 response.status, response.body.c_str());
  }
  return response;
}

json Data(const http::ServerResponse& response) {
  json body = json::parse(response.body, nullptr, false);
  FUZZ_CHECK(body.is_object() && body.contains("data"), "a success without JSON data");
  return body["data"];
}

// JSON text of `value`; bytes that are not UTF-8 become U+FFFD (raw bytes reach the server
// through the query and the payloads).
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(char(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// The query string of `params` (arrays as repeated keys, other non-strings as their JSON).
std::string Query(const json& params) {
  std::string query;
  auto add = [&](const std::string& key, const json& value) {
    if (!query.empty()) query += '&';
    query += PercentEncode(key) + "=" +
             PercentEncode(value.is_string() ? value.get<std::string>() : Dump(value));
  };
  for (const auto& [key, value] : params.items()) {
    if (value.is_array()) {
      for (const json& item : value) add(key, item);
    } else {
      add(key, value);
    }
  }
  return query;
}

// Replaces `value` by what the input says: itself, nothing, or something wrong.
void Mutate(Source& in, json& params, const std::string& key) {
  uint8_t m = in.Byte();
  switch (m % 8) {
    case 0: params.erase(key); break;
    case 1: params[key] = in.Text(); break;
    case 2: {
      static const json kEdges[] = {0,     -1,     1,    256,  257,  INT64_MAX, INT64_MIN,
                                    1e30,  2.5,    "",   "x",  true, nullptr,   json::array(),
                                    "012", "0x10", " 1", "1 ", "+1", UINT64_MAX};
      params[key] = kEdges[(m >> 3) % std::size(kEdges)];
      break;
    }
    case 3: params[key] = in.Number(); break;
    case 4: params[key] = Dump(params[key]); break;  // a number as a string, a string quoted
    case 5: params[key] = json::array({params[key], params[key]}); break;
    default: break;  // unchanged
  }
}

class Driver {
 public:
  Driver(Env& env, BackupSession& session, Source& in) : env_(env), session_(session), in_(in) {}

  // Runs requests until the input ends or says to stop.
  void Run() {
    for (size_t i = 0; i < kMaxRequests && !in_.empty(); ++i) {
      uint8_t op = in_.Byte();
      if ((op & 15) == 15) return;
      Request(op & 15, op >> 4);
    }
  }

  const Model& model() const { return model_; }

 private:
  // A name as the input picks it: one the session knows, one of the wrong kind, a hostile one.
  std::string Name(std::string_view suffix) {
    static const char* const kNames[] = {
        "root.pxar",  "disk.img", "other.img", "catalog.pcat1", "qemu-server.conf",
        "index.json", "../x",     ".hidden",   "a/b",           "",
        "client.log", "x"};
    uint8_t b = in_.Byte();
    if (b == 0xff) return in_.Text();
    std::string name = kNames[b % std::size(kNames)];
    static const char* const kSuffixes[] = {"", ".didx", ".fidx", ".blob", ".img"};
    return name + (b & 0x80 ? kSuffixes[(b >> 4) % 5] : std::string(suffix));
  }

  uint64_t Wid(bool fixed) {
    uint8_t b = in_.Byte();
    std::vector<uint64_t> wids;
    for (const auto& [wid, writer] : model_.writers) {
      if (writer.fixed == fixed || (b & 0x80)) wids.push_back(wid);
    }
    if (wids.empty() || (b & 0x40)) return b & 0x3f;
    return wids[b % wids.size()];
  }

  // A chunk to upload, as the input makes it.
  Chunk NewChunk(bool fixed) {
    uint8_t how = in_.Byte();
    Chunk chunk;
    switch (how % 6) {
      case 0:
      case 1:
      case 2: {
        std::string plain = in_.Text();
        if (plain.empty()) plain = "c";
        chunk = MakeChunk(AsBytes(plain), how & 0x10);
        break;
      }
      case 3:
        if (!model_.chunks.empty()) {
          chunk = model_.chunks[in_.Byte() % model_.chunks.size()];
          break;
        }
        chunk = MakeChunk(AsBytes("again"), false);
        break;
      case 4: {  // encrypted: only its CRC can be checked, so any digest passes
        static const CryptConfig crypt(fuzz::kKey);
        std::string plain = in_.Text();
        chunk.size = plain.size();
        chunk.encoded = *EncodeBlob(AsBytes(plain), &crypt, how & 0x10);
        chunk.digest =
            how & 0x20 ? Sha256Of(AsBytes(in_.Text())) : crypt.ComputeDigest(AsBytes(plain));
        break;
      }
      case 5:
        if (fixed && !model_.zero_chunk_sent) {
          static const Chunk zero = MakeChunk(Bytes(kFixedChunk, 0), true);
          model_.zero_chunk_sent = true;
          chunk = zero;
          break;
        }
        chunk = MakeChunk(AsBytes(std::string(in_.Byte() + 1, 'z')), how & 0x10);
        break;
    }
    return chunk;
  }

  void Request(int what, int how) {
    switch (what) {
      case 0: return Simple("GET", "previous_backup_time", how);
      case 1: return Previous(how);
      case 2:
      case 3: return Open(what == 2, how);
      case 4:
      case 5: return Upload(what == 4, how);
      case 6:
      case 7: return Append(what == 6, how);
      case 8:
      case 9: return Close(what == 8, how);
      case 10: return Blob(how);
      case 11: return Finish(how);
      case 12: return Send("POST", "speedtest", json::object(), how, in_.Text());
      case 13: return SendManifest(how);
      case 14: return Raw(how);
    }
  }

  // Sends `params` (query, or JSON body if `how` says so and the route has no payload),
  // mutated as the input says; returns the answer after the common checks.
  http::ServerResponse Exchange(const std::string& method, const std::string& path, json params,
                                int how, std::optional<std::string> payload) {
    if (how & 1) {
      std::vector<std::string> keys;
      for (const auto& [key, value] : params.items()) keys.push_back(key);
      keys.push_back(how & 2 ? "debug" : "unknown");
      Mutate(in_, params, keys[in_.Byte() % keys.size()]);
    }
    bool json_body = !payload && (how & 4);
    std::string query = json_body ? std::string() : Query(params);
    std::string body = payload ? *payload : json_body ? Dump(params) : std::string();
    if (how & 8) (json_body ? body : query) += in_.Text();  // raw bytes, as they come
    http::ServerResponse response = Call(session_, method, path, query, body, json_body);
    FUZZ_CHECK(
        response.status == 200 || response.status == 400 || response.status == 404,
        ("unexpected status " + std::to_string(response.status) + ": " + response.body).c_str());
    return response;
  }

  void Send(const std::string& method, const std::string& path, json params, int how,
            std::optional<std::string> payload = std::nullopt) {
    (void)Exchange(method, path, std::move(params), how, std::move(payload));
  }

  void Simple(const std::string& method, const std::string& path, int how) {
    auto response = Exchange(method, path, json::object(), how, std::nullopt);
    if (response.status == 200) FUZZ_CHECK(Data(response) == kBaseTime, "not the previous time");
  }

  void Previous(int how) {
    std::string name = Name(".didx");
    auto response = Exchange("GET", "previous", {{"archive-name", name}}, how, std::nullopt);
    if (response.status != 200 || !IsIndexFileName(name)) return;
    // The previous index's chunks may now be appended without uploading them.
    for (const Chunk& chunk : env_.base_chunks) model_.chunks.push_back(chunk);
  }

  void Open(bool fixed, int how) {
    json params = {{"archive-name", Name(fixed ? ".fidx" : ".didx")}};
    uint8_t b = in_.Byte();
    std::optional<uint64_t> size;
    bool reuse = false;
    if (fixed && (b & 1)) size = (b & 2) ? kFixedChunk + 1 : in_.Number() + 1;
    if (fixed && (b & 4)) {
      size = 3000;  // the previous disk.img.fidx
      reuse = true;
      params["reuse-csum"] = b & 8 ? DigestToHex(env_.base_fidx_csum) : in_.Text();
    }
    if (size) params["size"] = *size;
    auto response =
        Exchange("POST", fixed ? "fixed_index" : "dynamic_index", params, how, std::nullopt);
    if (response.status != 200) return;
    json wid = Data(response);
    FUZZ_CHECK(wid.is_number_unsigned() && wid.get<uint64_t>() >= 1 && wid.get<uint64_t>() <= 256,
               "an open answered no wid");
    FUZZ_CHECK(model_.writers.count(wid.get<uint64_t>()) == 0, "a wid given twice");
    Model::Writer writer;
    writer.fixed = fixed;
    writer.name = params.value("archive-name", std::string());
    if (size) writer.size = *size;
    if (reuse) {
      writer.incremental = true;
      writer.slots = {{0, env_.base_chunks.back().digest}};
    }
    model_.writers[wid.get<uint64_t>()] = std::move(writer);
  }

  void Upload(bool fixed, int how) {
    uint64_t wid = Wid(fixed);
    Chunk chunk = NewChunk(fixed);
    json params = {{"wid", wid},
                   {"digest", DigestToHex(chunk.digest)},
                   {"size", chunk.size},
                   {"encoded-size", chunk.encoded.size()}};
    uint8_t damage = in_.Byte();
    if (damage % 8 == 7 && !chunk.encoded.empty()) {
      chunk.encoded[in_.Byte() % chunk.encoded.size()] ^= uint8_t(1 + (damage >> 3));
    }
    auto response =
        Exchange("POST", fixed ? "fixed_chunk" : "dynamic_chunk", params, how, Str(chunk.encoded));
    if (response.status != 200) return;
    FUZZ_CHECK(Data(response) == params["digest"], "an upload answered another digest");
    model_.uploaded.insert(chunk.digest);
    model_.chunks.push_back(chunk);
  }

  void Append(bool fixed, int how) {
    uint64_t wid = Wid(fixed);
    auto it = model_.writers.find(wid);
    Model::Writer* writer = it == model_.writers.end() ? nullptr : &it->second;
    size_t n = in_.Byte() % 4 + 1;
    json digests = json::array(), offsets = json::array();
    std::vector<std::pair<uint64_t, Chunk>> appended;
    uint64_t end = writer && !writer->entries.empty() ? writer->entries.back().end : 0;
    for (size_t i = 0; i < n; ++i) {
      Chunk chunk = model_.chunks.empty() ? MakeChunk(AsBytes("unknown"), false)
                                          : model_.chunks[in_.Byte() % model_.chunks.size()];
      uint64_t offset = end;
      if (fixed) offset = uint64_t(in_.Byte() % 3) * kFixedChunk;
      end += chunk.size;
      digests.push_back(DigestToHex(chunk.digest));
      offsets.push_back(offset);
      appended.emplace_back(offset, chunk);
    }
    json params = {{"wid", wid}, {"digest-list", digests}, {"offset-list", offsets}};
    auto response =
        Exchange("PUT", fixed ? "fixed_index" : "dynamic_index", params, how, std::nullopt);
    if (response.status != 200 || writer == nullptr) return;
    for (const auto& [offset, chunk] : appended) {
      if (!fixed) {
        writer->entries.push_back({offset + chunk.size, chunk.digest});
        continue;
      }
      writer->slots[offset / kFixedChunk] = chunk.digest;
      writer->size = std::max(writer->size, offset + chunk.size);
      ++writer->appends;
    }
  }

  void Close(bool fixed, int how) {
    uint64_t wid = Wid(fixed);
    auto it = model_.writers.find(wid);
    uint64_t count = 0, size = 0;
    Digest csum{};
    if (it != model_.writers.end()) {
      const Model::Writer& w = it->second;
      if (w.fixed) {
        const uint64_t slot_count = (w.size + kFixedChunk - 1) / kFixedChunk;
        count = w.incremental ? w.appends : slot_count;
        size = w.size;
        if (w.slots.size() == slot_count) {  // else the server refuses: a slot never written
          std::vector<Digest> digests;
          for (const auto& [slot, digest] : w.slots) digests.push_back(digest);
          csum = FixedIndexCsum(digests);
        }
      } else {
        count = w.entries.size();
        size = w.entries.empty() ? 0 : w.entries.back().end;
        csum = DynamicIndexCsum(w.entries);
      }
    }
    json params = {
        {"wid", wid}, {"chunk-count", count}, {"size", size}, {"csum", DigestToHex(csum)}};
    auto response =
        Exchange("POST", fixed ? "fixed_close" : "dynamic_close", params, how, std::nullopt);
    if (response.status != 200 || it == model_.writers.end()) return;
    model_.files[it->second.name] = {it->second.name, CryptMode::kNone, size, csum};
    model_.writers.erase(it);
  }

  void Blob(int how) {
    std::string name = Name(".blob");
    bool compress = in_.Byte() & 1;
    Bytes blob = *EncodeBlob(AsBytes(in_.Text()), nullptr, compress);
    json params = {{"file-name", name}, {"encoded-size", blob.size()}};
    auto response = Exchange("POST", "blob", params, how, Str(blob));
    if (response.status == 200 && name != kManifestName) {
      model_.files[name] = {name, CryptMode::kNone, blob.size(), Sha256Of(blob)};
    }
  }

  // The manifest blob of what the server stored, or (as the input says) of something else.
  void SendManifest(int how) {
    auto manifest = Manifest::Create("host", "fuzz", kTime);
    FUZZ_CHECK(manifest.ok(), "no manifest");
    uint8_t b = in_.Byte();
    for (const auto& [name, file] : model_.files) {
      ManifestFile entry = file;
      if ((b & 3) == 1) entry.size += 1;
      if ((b & 3) == 2) entry.csum[0] ^= 1;
      (void)manifest->AddOrReplaceFile(entry);
    }
    if (b & 4) (void)manifest->AddOrReplaceFile({"missing.blob", CryptMode::kNone, 1, {}});
    std::string text = b & 8 ? in_.Text() : *manifest->ToJson();
    Bytes blob = *EncodeBlob(AsBytes(text), nullptr, b & 16);
    Send("POST", "blob", {{"file-name", kManifestName}, {"encoded-size", blob.size()}}, how,
         Str(blob));
  }

  void Finish(int how) {
    auto response = Exchange("POST", "finish", json::object(), how, std::nullopt);
    if (response.status == 200) FUZZ_CHECK(session_.finished(), "finish did not finish");
  }

  // Any method and path, raw parameters and body.
  void Raw(int how) {
    static const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "", "get"};
    static const char* const kPaths[] = {"",
                                         "/",
                                         "finish/",
                                         "//blob",
                                         "previous_backup_time?",
                                         "nonsense",
                                         "fixed_index/1",
                                         "dynamic_close/.."};
    uint8_t b = in_.Byte();
    std::string path = b & 0x80 ? in_.Text() : kPaths[b % std::size(kPaths)];
    std::string query = in_.Text();
    std::string body = in_.Text();
    auto response =
        Call(session_, kMethods[(b >> 3) % std::size(kMethods)], path, query, body, how & 1);
    FUZZ_CHECK(
        response.status == 200 || response.status == 400 || response.status == 404,
        ("unexpected status " + std::to_string(response.status) + ": " + response.body).c_str());
  }

  Env& env_;
  BackupSession& session_;
  Source& in_;
  Model model_;
};

// Drives a whole backup through `session` (the store's previous snapshot); aborts on failure.
void MakeBase(Env& env) {
  auto writer =
      SnapshotWriter::Begin(*env.store, BackupNamespace(), env.group, kBaseTime, "root@pam");
  FUZZ_CHECK(writer.ok(), "cannot start the base snapshot");
  BackupSession session(*env.store, std::move(*writer), JobControl());
  auto ok = [](const http::ServerResponse& response) {
    FUZZ_CHECK(response.status == 200, response.body.c_str());
    return Data(response);
  };
  auto manifest = *Manifest::Create("host", "fuzz", kBaseTime);
  std::vector<DynamicIndexEntry> entries;
  int64_t wid =
      ok(Call(session, "POST", "dynamic_index", "archive-name=root.pxar.didx", "", false));
  for (std::string_view text : {"alpha", "beta"}) {
    Chunk chunk = MakeChunk(AsBytes(text), true);
    ok(Call(session, "POST", "dynamic_chunk",
            "wid=" + std::to_string(wid) + "&digest=" + DigestToHex(chunk.digest) +
                "&size=" + std::to_string(chunk.size) +
                "&encoded-size=" + std::to_string(chunk.encoded.size()),
            Str(chunk.encoded), false));
    uint64_t offset = entries.empty() ? 0 : entries.back().end;
    json body = {
        {"wid", wid}, {"digest-list", {DigestToHex(chunk.digest)}}, {"offset-list", {offset}}};
    ok(Call(session, "PUT", "dynamic_index", "", body.dump(), true));
    entries.push_back({offset + chunk.size, chunk.digest});
    env.base_chunks.push_back(chunk);
  }
  Digest csum = DynamicIndexCsum(entries);
  ok(Call(session, "POST", "dynamic_close",
          "wid=" + std::to_string(wid) + "&chunk-count=2&size=" +
              std::to_string(entries.back().end) + "&csum=" + DigestToHex(csum),
          "", false));
  (void)manifest.AddOrReplaceFile({"root.pxar.didx", CryptMode::kNone, entries.back().end, csum});

  wid = ok(Call(session, "POST", "fixed_index", "archive-name=disk.img.fidx&size=3000", "", false));
  Chunk disk = MakeChunk(AsBytes(std::string(3000, 'd')), true);
  ok(Call(session, "POST", "fixed_chunk",
          "wid=" + std::to_string(wid) + "&digest=" + DigestToHex(disk.digest) +
              "&size=3000&encoded-size=" + std::to_string(disk.encoded.size()),
          Str(disk.encoded), false));
  json body = {{"wid", wid}, {"digest-list", {DigestToHex(disk.digest)}}, {"offset-list", {0}}};
  ok(Call(session, "PUT", "fixed_index", "", body.dump(), true));
  std::vector<Digest> digests = {disk.digest};
  env.base_fidx_csum = FixedIndexCsum(digests);
  ok(Call(session, "POST", "fixed_close",
          "wid=" + std::to_string(wid) +
              "&chunk-count=1&size=3000&csum=" + DigestToHex(env.base_fidx_csum),
          "", false));
  (void)manifest.AddOrReplaceFile({"disk.img.fidx", CryptMode::kNone, 3000, env.base_fidx_csum});
  env.base_chunks.push_back(disk);

  Bytes conf = *EncodeBlob(AsBytes("memory: 512\n"), nullptr, false);
  ok(Call(session, "POST", "blob",
          "file-name=qemu-server.conf.blob&encoded-size=" + std::to_string(conf.size()), Str(conf),
          false));
  (void)manifest.AddOrReplaceFile(
      {"qemu-server.conf.blob", CryptMode::kNone, conf.size(), Sha256Of(conf)});
  Bytes blob = *EncodeBlob(AsBytes(*manifest.ToJson()), nullptr, true);
  ok(Call(session, "POST", "blob",
          "file-name=index.json.blob&encoded-size=" + std::to_string(blob.size()), Str(blob),
          false));
  ok(Call(session, "POST", "finish", "", "", false));
  for (const Chunk& chunk : env.base_chunks) env.base_digests.insert(chunk.digest);
}

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env();
    e->root = fuzz::ScratchDir() + "/store";
    auto store = Datastore::CreateFilesystem(e->root);
    FUZZ_CHECK(store.ok(), store.status().ToString().c_str());
    e->store = std::move(*store);
    e->group = *BackupGroup::Parse("host/fuzz");
    MakeBase(*e);
    return e;
  }();
  return *env;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// The snapshot of a finished session: listed, readable, every chunk present.
void CheckFinished(Env& env, const SnapshotRef& snap) {
  const BackupNamespace ns;
  auto manifest = env.store->LoadManifest(ns, snap);
  FUZZ_CHECK(manifest.ok(), "a finished snapshot's manifest does not load");
  for (const ManifestFile& file : manifest->files()) {
    auto data = env.store->ReadSnapshotFile(ns, snap, file.filename);
    FUZZ_CHECK(data.ok(),
               ("a listed file does not read back: " + data.status().ToString()).c_str());
    std::vector<Digest> digests;
    if (file.filename.ends_with(".didx")) {
      auto index = DynamicIndex::Parse(*data, file.filename);
      FUZZ_CHECK(index.ok(), "a stored dynamic index does not parse");
      for (size_t i = 0; i < index->chunk_count(); ++i) digests.push_back(index->digest(i));
    } else if (file.filename.ends_with(".fidx")) {
      auto index = FixedIndex::Parse(*data, file.filename);
      FUZZ_CHECK(index.ok(), "a stored fixed index does not parse");
      for (size_t i = 0; i < index->chunk_count(); ++i) digests.push_back(index->digest(i));
    }
    for (const Digest& digest : digests) {
      FUZZ_CHECK(Exists(JoinPath(env.root, ChunkStore::RelativeChunkPath(digest))),
                 "a finished snapshot references a chunk the store does not hold");
    }
  }
}

void FuzzBackupSession(const uint8_t* data, size_t size) {
  Env& env = TheEnv();
  const BackupNamespace ns;
  const SnapshotRef snap = *SnapshotRef::Make(env.group, kTime);
  auto writer = SnapshotWriter::Begin(*env.store, ns, env.group, kTime, "root@pam");
  FUZZ_CHECK(writer.ok(), ("the group is not free: " + writer.status().ToString()).c_str());
  auto session = std::make_unique<BackupSession>(*env.store, std::move(*writer), JobControl());
  Source in(data, size);
  Driver driver(env, *session, in);
  driver.Run();
  const bool finished = session->finished();
  session.reset();

  auto snapshots = env.store->ListSnapshots(ns, env.group);
  FUZZ_CHECK(snapshots.ok(), "the group does not list");
  FUZZ_CHECK(snapshots->size() == (finished ? 2u : 1u), "the snapshot is listed iff finished");
  FUZZ_CHECK(snapshots->front().ref.time == kBaseTime && snapshots->front().error.empty(),
             "the previous snapshot changed");
  const std::string dir = JoinPath(env.root, Datastore::SnapshotRelPath(ns, snap));
  if (finished) {
    FUZZ_CHECK(snapshots->back().ref.time == kTime && snapshots->back().error.empty(),
               "the finished snapshot does not list as good");
    CheckFinished(env, snap);
    Status forgotten = env.store->ForgetSnapshot(ns, snap);
    FUZZ_CHECK(forgotten.ok(), forgotten.ToString().c_str());
  }
  FUZZ_CHECK(!Exists(dir), "the snapshot's directory is left behind");
  // Back to the store the input started from: new chunks removed, the previous snapshot's as
  // they were (an upload may have replaced one with a smaller encoding).
  for (const Digest& digest : driver.model().uploaded) {
    const std::string path = JoinPath(env.root, ChunkStore::RelativeChunkPath(digest));
    if (env.base_digests.count(digest) == 0) {
      (void)::unlink(path.c_str());
      continue;
    }
    for (const Chunk& chunk : env.base_chunks) {
      if (chunk.digest != digest) continue;
      Status restored = WriteFileAtomic(path, chunk.encoded, 0644, SyncMode::kNone);
      FUZZ_CHECK(restored.ok(), restored.ToString().c_str());
    }
  }
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // the session logs every refused request
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::server::FuzzBackupSession(data, size);
  return 0;
}
