#include "format/archive_name.h"

#include <array>
#include <cstdio>

namespace cairn {
namespace {

struct ExtensionMapping {
  std::string_view client_extension;  // including the dot
  ArchiveType type;
};

constexpr std::array<ExtensionMapping, 9> kClientExtensions = {{
    {".img", ArchiveType::kFixedIndex},
    {".pxar", ArchiveType::kDynamicIndex},
    {".mpxar", ArchiveType::kDynamicIndex},
    {".ppxar", ArchiveType::kDynamicIndex},
    {".pcat1", ArchiveType::kDynamicIndex},
    {".conf", ArchiveType::kBlob},
    {".json", ArchiveType::kBlob},
    {".key", ArchiveType::kBlob},
    {".log", ArchiveType::kBlob},
}};

// The name for an error message: printable ASCII kept, everything else as \xNN, cut at 80 bytes.
std::string Quote(std::string_view name) {
  std::string out = "'";
  for (size_t i = 0; i < name.size() && i < 80; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (name.size() > 80) out += "...";
  out += "'";
  return out;
}

Status Invalid(std::string_view name, std::string_view why) {
  return Status::InvalidArgument("archive name " + Quote(name) + ": " + std::string(why));
}

// The rules shared by client and server names.
Status CheckSafe(std::string_view name) {
  if (name.empty()) return Invalid(name, "empty");
  if (name.size() > kMaxArchiveNameLength) {
    return Invalid(name, "longer than 255 bytes (" + std::to_string(name.size()) + ")");
  }
  if (name == "." || name == "..") return Invalid(name, "not a file name");
  if (name.front() == '.') return Invalid(name, "starts with '.'");
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '/') return Invalid(name, "contains '/'");
    if (c == 0) return Invalid(name, "contains NUL");
    if (c < 0x20 || c == 0x7f) return Invalid(name, "contains a control character");
  }
  return Status::OK();
}

// The type named by a server extension at the end of `name`, if any.
bool ServerExtension(std::string_view name, ArchiveType* type) {
  for (ArchiveType t : {ArchiveType::kFixedIndex, ArchiveType::kDynamicIndex, ArchiveType::kBlob}) {
    std::string ext = "." + std::string(ArchiveTypeExtension(t));
    if (name.size() > ext.size() && name.ends_with(ext)) {
      *type = t;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view ArchiveTypeExtension(ArchiveType type) {
  switch (type) {
    case ArchiveType::kFixedIndex: return "fidx";
    case ArchiveType::kDynamicIndex: return "didx";
    case ArchiveType::kBlob: return "blob";
  }
  return "blob";
}

Status ValidateArchiveFileName(std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckSafe(name));
  ArchiveType type;
  if (!ServerExtension(name, &type)) return Invalid(name, "does not end in .fidx, .didx or .blob");
  return Status::OK();
}

Result<ArchiveType> ArchiveTypeOf(std::string_view server_name) {
  CAIRN_RETURN_IF_ERROR(ValidateArchiveFileName(server_name));
  ArchiveType type = ArchiveType::kBlob;
  ServerExtension(server_name, &type);
  return type;
}

Result<std::string> ServerArchiveName(std::string_view client_name) {
  CAIRN_RETURN_IF_ERROR(CheckSafe(client_name));
  ArchiveType type;
  if (ServerExtension(client_name, &type)) return std::string(client_name);
  for (const ExtensionMapping& m : kClientExtensions) {
    if (client_name.size() > m.client_extension.size() &&
        client_name.ends_with(m.client_extension)) {
      std::string out = std::string(client_name) + "." + std::string(ArchiveTypeExtension(m.type));
      if (out.size() > kMaxArchiveNameLength) {
        return Invalid(client_name, "server name would exceed 255 bytes");
      }
      return out;
    }
  }
  return Invalid(client_name,
                 "unknown archive type (expected .img, .pxar, .mpxar, .ppxar, .pcat1, .conf, "
                 ".json, .key, .log, or a server name ending in .fidx, .didx or .blob)");
}

Result<std::string> ClientArchiveName(std::string_view server_name) {
  CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(server_name));
  size_t ext_len = 1 + ArchiveTypeExtension(type).size();
  return std::string(server_name.substr(0, server_name.size() - ext_len));
}

}  // namespace cairn
