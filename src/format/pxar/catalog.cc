#include "format/pxar/catalog.h"

#include <algorithm>
#include <cstring>

#include "fmt/format.h"

namespace cairn {
namespace {

constexpr size_t kMaxCatalogName = 4095;
constexpr uint64_t kMaxBlockSize = uint64_t{256} << 20;

bool ValidType(uint8_t t) {
  return std::strchr("dflhbcps", t) != nullptr && t != 0;
}

}  // namespace

void AppendCatalogU64(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void AppendCatalogI64(std::string& out, int64_t v) {
  if (v >= 0) return AppendCatalogU64(out, static_cast<uint64_t>(v));
  // Negative: the magnitude with 0x80 on every byte, then a terminating 0x00.
  uint64_t m = v == INT64_MIN ? uint64_t{1} << 63 : static_cast<uint64_t>(-v);
  while (m > 0) {
    out.push_back(static_cast<char>((m & 0x7f) | 0x80));
    m >>= 7;
  }
  out.push_back(0);
}

Result<uint64_t> ReadCatalogU64(std::string_view in, size_t* pos) {
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= in.size()) return Status::Corruption("catalog: truncated number");
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    if (i == 9 && b > 1) return Status::Corruption("catalog: number overflows 64 bits");
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return Status::Corruption("catalog: number longer than 10 bytes");
}

Result<int64_t> ReadCatalogI64(std::string_view in, size_t* pos) {
  uint64_t v = 0;
  for (int i = 0; i < 11; ++i) {
    if (*pos >= in.size()) return Status::Corruption("catalog: truncated number");
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    if (b == 0) {
      if (i == 0) return int64_t{0};
      if (v > (uint64_t{1} << 63)) return Status::Corruption("catalog: number overflows");
      return v == (uint64_t{1} << 63) ? INT64_MIN : -static_cast<int64_t>(v);
    }
    if (i == 10) return Status::Corruption("catalog: number longer than 11 bytes");
    if (i == 9 && (b & 0x7f) > 1) return Status::Corruption("catalog: number overflows");
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (v > static_cast<uint64_t>(INT64_MAX)) return Status::Corruption("catalog: overflow");
      return static_cast<int64_t>(v);
    }
  }
  return Status::Corruption("catalog: number longer than 11 bytes");
}

Result<std::unique_ptr<CatalogWriter>> CatalogWriter::Create(ByteSink* out) {
  std::unique_ptr<CatalogWriter> w(new CatalogWriter(out));
  CAIRN_RETURN_IF_ERROR(out->Write(ByteView(kCatalogMagic.data(), kCatalogMagic.size())));
  w->pos_ = kCatalogMagic.size();
  return w;
}

void CatalogWriter::StartDirectory(std::string_view name) {
  frames_.push_back(Frame{std::string(name), {}});
}

void CatalogWriter::AddFile(std::string_view name, uint64_t size, int64_t mtime) {
  frames_.back().entries.push_back(
      CatalogEntry{CatalogType::kFile, std::string(name), size, mtime, 0});
}

void CatalogWriter::AddEntry(CatalogType type, std::string_view name) {
  frames_.back().entries.push_back(CatalogEntry{type, std::string(name), 0, 0, 0});
}

Status CatalogWriter::WriteBlock(const Frame& frame, uint64_t* block_start) {
  *block_start = pos_;
  std::string table;
  AppendCatalogU64(table, frame.entries.size());
  for (const CatalogEntry& e : frame.entries) {
    table.push_back(static_cast<char>(e.type));
    AppendCatalogU64(table, e.name.size());
    table += e.name;
    if (e.type == CatalogType::kDirectory) AppendCatalogU64(table, pos_ - e.block_offset);
    if (e.type == CatalogType::kFile) {
      AppendCatalogU64(table, e.size);
      AppendCatalogI64(table, e.mtime);
    }
  }
  std::string block;
  AppendCatalogU64(block, table.size());
  block += table;
  CAIRN_RETURN_IF_ERROR(out_->Write(AsBytes(block)));
  pos_ += block.size();
  return Status::OK();
}

Status CatalogWriter::EndDirectory() {
  if (frames_.size() < 2) return Status::InvalidArgument("catalog: no directory to end");
  Frame frame = std::move(frames_.back());
  frames_.pop_back();
  uint64_t start = 0;
  CAIRN_RETURN_IF_ERROR(WriteBlock(frame, &start));
  frames_.back().entries.push_back(
      CatalogEntry{CatalogType::kDirectory, std::move(frame.name), 0, 0, start});
  return Status::OK();
}

Status CatalogWriter::Finish() {
  if (frames_.size() != 1) return Status::InvalidArgument("catalog: directories still open");
  uint64_t start = 0;
  CAIRN_RETURN_IF_ERROR(WriteBlock(frames_[0], &start));
  uint8_t offset[8];
  PutLE64(offset, start);
  return out_->Write(ByteView(offset, 8));
}

Result<std::unique_ptr<CatalogReader>> CatalogReader::Open(RandomAccessSource* source) {
  std::unique_ptr<CatalogReader> r(new CatalogReader(source));
  if (source->size() < 16) return Status::Corruption("catalog: too short");
  uint8_t magic[8];
  CAIRN_RETURN_IF_ERROR(source->ReadAt(0, magic));
  if (std::memcmp(magic, kCatalogMagic.data(), 8) != 0)
    return Status::Corruption("catalog: bad magic");
  uint8_t offset[8];
  CAIRN_RETURN_IF_ERROR(source->ReadAt(source->size() - 8, offset));
  r->root_ = GetLE64(offset);
  if (r->root_ < 8 || r->root_ >= source->size() - 8) {
    return Status::Corruption(fmt::format("catalog: root offset {} out of range", r->root_));
  }
  return r;
}

Result<std::vector<CatalogEntry>> CatalogReader::List(uint64_t block_offset) {
  auto bad = [block_offset](std::string_view what) {
    return Status::Corruption(fmt::format("catalog block at {}: {}", block_offset, what));
  };
  if (block_offset < 8 || block_offset >= source_->size()) return bad("offset out of range");
  // The length varint is at most 10 bytes.
  std::string head(static_cast<size_t>(std::min<uint64_t>(10, source_->size() - block_offset)),
                   '\0');
  CAIRN_RETURN_IF_ERROR(source_->ReadAt(
      block_offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(head.data()), head.size())));
  size_t pos = 0;
  CAIRN_ASSIGN_OR_RETURN(uint64_t length, ReadCatalogU64(head, &pos));
  if (length == 0 || length > kMaxBlockSize || length > source_->size() - block_offset - pos) {
    return bad(fmt::format("length {} out of range", length));
  }
  std::string table(length, '\0');
  CAIRN_RETURN_IF_ERROR(source_->ReadAt(
      block_offset + pos, std::span<uint8_t>(reinterpret_cast<uint8_t*>(table.data()), length)));
  pos = 0;
  CAIRN_ASSIGN_OR_RETURN(uint64_t count, ReadCatalogU64(table, &pos));
  if (count > length) return bad("entry count larger than the block");
  std::vector<CatalogEntry> out;
  for (uint64_t i = 0; i < count; ++i) {
    if (pos >= table.size()) return bad("truncated entry");
    CatalogEntry e;
    uint8_t type = static_cast<uint8_t>(table[pos++]);
    if (!ValidType(type)) return bad(fmt::format("unknown entry type {:#04x}", type));
    e.type = static_cast<CatalogType>(type);
    CAIRN_ASSIGN_OR_RETURN(uint64_t name_len, ReadCatalogU64(table, &pos));
    if (name_len == 0 || name_len > kMaxCatalogName || name_len > table.size() - pos) {
      return bad("bad name length");
    }
    e.name = table.substr(pos, name_len);
    pos += name_len;
    if (e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos ||
        e.name.find('\0') != std::string::npos) {
      return bad(fmt::format("invalid name '{}'", e.name));
    }
    if (e.type == CatalogType::kDirectory) {
      CAIRN_ASSIGN_OR_RETURN(uint64_t back, ReadCatalogU64(table, &pos));
      if (back == 0 || back > block_offset - 8) return bad("child block offset out of range");
      e.block_offset = block_offset - back;
    } else if (e.type == CatalogType::kFile) {
      CAIRN_ASSIGN_OR_RETURN(e.size, ReadCatalogU64(table, &pos));
      CAIRN_ASSIGN_OR_RETURN(e.mtime, ReadCatalogI64(table, &pos));
    }
    out.push_back(std::move(e));
  }
  if (pos != table.size()) return bad("trailing bytes");
  return out;
}

Result<CatalogEntry> CatalogReader::Lookup(std::string_view path) {
  CatalogEntry current{CatalogType::kDirectory, "", 0, 0, root_};
  size_t start = 0;
  while (start < path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    if (current.type != CatalogType::kDirectory) {
      return Status::NotFound(fmt::format("'{}' is not in the catalog", path));
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<CatalogEntry> entries, List(current.block_offset));
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const CatalogEntry& e) { return e.name == name; });
    if (it == entries.end())
      return Status::NotFound(fmt::format("'{}' is not in the catalog", path));
    current = *it;
  }
  return current;
}

}  // namespace cairn
