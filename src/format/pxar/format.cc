#include "format/pxar/format.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "fmt/format.h"

namespace cairn::pxar {
namespace {

// The largest content each item type may have (the limits of pxar's own decoder); unbounded
// types are absent.
std::optional<uint64_t> MaxContentSize(uint64_t type) {
  switch (type) {
    case kEntry: return kEntrySize;
    case kFilename:
    case kSymlink: return kMaxNameSize + 1;
    case kHardlink: return 8 + kMaxNameSize + 1;
    case kDevice:
    case kPayloadRef:
    case kPayloadTailMarker:
    case kPayloadStartMarker: return 16;
    case kXattr:
    case kFcaps: return kMaxXattrNameSize + kMaxXattrValueSize;
    case kAclUser:
    case kAclGroup:
    case kAclDefaultUser:
    case kAclDefaultGroup: return 16;
    case kAclGroupObj:
    case kQuotaProjectId: return 8;
    case kAclDefault: return 32;
    default: return std::nullopt;
  }
}

// The pxar SipHash keys: the first 16 bytes of SHA1("PROXMOX ARCHIVE FORMAT") as two u64 read
// big-endian (k0 = 0x83ac3f1cfbb450db, k1 = 0xaa4f1b6879369fbd), passed to SipHash as k0 LE || k1
// LE.
constexpr uint8_t kHashKey[16] = {0xdb, 0x50, 0xb4, 0xfb, 0x1c, 0x3f, 0xac, 0x83,
                                  0xbd, 0x9f, 0x36, 0x79, 0x68, 0x1b, 0x4f, 0xaa};

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// A SipHash-2-4 context keyed with kHashKey and an 8-byte output, initialised once per thread;
// each hash duplicates it (cheap) so no key schedule is repeated.
const EVP_MAC_CTX* KeyedSipHash() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx = [] {
    std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "SIPHASH", nullptr));
    if (!mac) std::abort();  // OpenSSL without SipHash: the build is broken
    std::unique_ptr<EVP_MAC_CTX, MacDeleter> c(EVP_MAC_CTX_new(mac.get()));
    size_t size = 8;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    if (!c || !EVP_MAC_CTX_set_params(c.get(), params) ||
        !EVP_MAC_init(c.get(), kHashKey, sizeof(kHashKey), nullptr)) {
      std::abort();
    }
    return c;
  }();
  return ctx.get();
}

}  // namespace

void AppendHeader(Bytes& out, uint64_t type, uint64_t content_size) {
  uint8_t header[kHeaderSize];
  PutLE64(header, type);
  PutLE64(header + 8, content_size + kHeaderSize);
  out.insert(out.end(), header, header + kHeaderSize);
}

Result<ItemHeader> ParseHeader(const uint8_t* bytes) {
  ItemHeader header{GetLE64(bytes), GetLE64(bytes + 8)};
  if (header.full_size < kHeaderSize) {
    return Status::Corruption(fmt::format("{} item with size {} (less than its header)",
                                          TypeName(header.type), header.full_size));
  }
  std::optional<uint64_t> max = MaxContentSize(header.type);
  if (max && header.content_size() > *max) {
    return Status::Corruption(fmt::format("{} item of {} bytes (at most {} allowed)",
                                          TypeName(header.type), header.content_size(), *max));
  }
  return header;
}

std::string TypeName(uint64_t type) {
  switch (type) {
    case kFormatVersion: return "FORMAT_VERSION";
    case kEntry: return "ENTRY";
    case kEntryV1: return "ENTRY_V1";
    case kPrelude: return "PRELUDE";
    case kFilename: return "FILENAME";
    case kSymlink: return "SYMLINK";
    case kDevice: return "DEVICE";
    case kXattr: return "XATTR";
    case kAclUser: return "ACL_USER";
    case kAclGroup: return "ACL_GROUP";
    case kAclGroupObj: return "ACL_GROUP_OBJ";
    case kAclDefault: return "ACL_DEFAULT";
    case kAclDefaultUser: return "ACL_DEFAULT_USER";
    case kAclDefaultGroup: return "ACL_DEFAULT_GROUP";
    case kFcaps: return "FCAPS";
    case kQuotaProjectId: return "QUOTA_PROJID";
    case kHardlink: return "HARDLINK";
    case kPayload: return "PAYLOAD";
    case kPayloadRef: return "PAYLOAD_REF";
    case kGoodbye: return "GOODBYE";
    case kPayloadStartMarker: return "PAYLOAD_START_MARKER";
    case kPayloadTailMarker: return "PAYLOAD_TAIL_MARKER";
    default: return fmt::format("unknown type {:#018x}", type);
  }
}

uint64_t HashName(std::string_view name) {
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_dup(KeyedSipHash()));
  uint8_t out[8];
  size_t out_size = 0;
  if (!ctx ||
      !EVP_MAC_update(ctx.get(), reinterpret_cast<const uint8_t*>(name.data()), name.size()) ||
      !EVP_MAC_final(ctx.get(), out, &out_size, sizeof(out)) || out_size != sizeof(out)) {
    std::abort();  // only on allocation failure
  }
  return GetLE64(out);
}

Status ValidateName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty file name");
  if (name.size() > kMaxNameSize) {
    return Status::InvalidArgument(
        fmt::format("file name of {} bytes (at most {})", name.size(), kMaxNameSize));
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("file name '{}' is not allowed", name));
  }
  if (name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("file name '{}' contains '/'", name));
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("file name contains a NUL byte");
  }
  return Status::OK();
}

Status ValidateRelativePath(std::string_view path) {
  if (path.empty() || path.size() > kMaxNameSize) {
    return Status::InvalidArgument(fmt::format("path of {} bytes", path.size()));
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    Status s = ValidateName(path.substr(start, end - start));
    if (!s.ok()) return Status::InvalidArgument(fmt::format("path '{}': {}", path, s.message()));
    start = end + 1;
  }
  return Status::OK();
}

uint64_t DeviceMajor(uint64_t dev) {
  return ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xfffff000);
}
uint64_t DeviceMinor(uint64_t dev) {
  return (dev & 0xff) | ((dev >> 12) & 0xffffff00);
}
uint64_t MakeDevice(uint64_t major, uint64_t minor) {
  return ((major & 0xfff) << 8) | ((major & ~uint64_t{0xfff}) << 32) | (minor & 0xff) |
         ((minor & ~uint64_t{0xff}) << 12);
}

}  // namespace cairn::pxar
