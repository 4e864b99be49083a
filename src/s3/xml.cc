#include "s3/xml.h"

#include <fmt/format.h>

#include <charconv>
#include <pugixml.hpp>
#include <sstream>

#include "base/time.h"

namespace cairn::s3 {
namespace {

// Elements are matched by local name so replies with and without the S3 namespace prefix
// parse alike.
pugi::xml_node Child(pugi::xml_node node, std::string_view name) {
  for (pugi::xml_node child : node.children()) {
    std::string_view child_name = child.name();
    size_t colon = child_name.find(':');
    if (colon != std::string_view::npos) child_name.remove_prefix(colon + 1);
    if (child_name == name) return child;
  }
  return {};
}

std::string Text(pugi::xml_node node, std::string_view name) {
  return Child(node, name).text().get();
}

template <typename F>
void ForEachChild(pugi::xml_node node, std::string_view name, F&& f) {
  for (pugi::xml_node child : node.children()) {
    std::string_view child_name = child.name();
    size_t colon = child_name.find(':');
    if (colon != std::string_view::npos) child_name.remove_prefix(colon + 1);
    if (child_name == name) f(child);
  }
}

Result<pugi::xml_node> Root(pugi::xml_document& doc, std::string_view body,
                            std::string_view root_name, std::string_view what) {
  pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) {
    return Status::Corruption(fmt::format("{} reply is not XML: {}", what, parsed.description()));
  }
  pugi::xml_node root = Child(doc, root_name);
  if (!root) return Status::Corruption(fmt::format("{} reply has no <{}>", what, root_name));
  return root;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::Corruption("bad %-escape in a listed key");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<uint64_t> ParseUint(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::Corruption(fmt::format("ListObjectsV2 reply: bad {} '{}'", what, text));
  }
  return value;
}

}  // namespace

std::string StripQuotes(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return std::string(text);
}

Result<int64_t> ParseIsoTime(std::string_view text) {
  // "YYYY-MM-DDTHH:MM:SS[.fff]Z": drop the fraction and reuse the strict RFC 3339 parser.
  std::string whole(text);
  size_t dot = whole.find('.');
  if (dot != std::string::npos && !whole.empty() && whole.back() == 'Z') {
    whole = whole.substr(0, dot) + "Z";
  }
  Result<int64_t> epoch = ParseRfc3339Utc(whole);
  if (!epoch.ok()) return Status::Corruption(fmt::format("bad S3 timestamp '{}'", text));
  return epoch;
}

ErrorReply ParseErrorReply(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  pugi::xml_node root = Child(doc, "Error");
  if (!root) return {};
  return {Text(root, "Code"), Text(root, "Message")};
}

Result<std::vector<BucketInfo>> ParseListBuckets(std::string_view body) {
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         Root(doc, body, "ListAllMyBucketsResult", "ListBuckets"));
  std::vector<BucketInfo> buckets;
  ForEachChild(Child(root, "Buckets"), "Bucket", [&](pugi::xml_node node) {
    BucketInfo info;
    info.name = Text(node, "Name");
    Result<int64_t> created = ParseIsoTime(Text(node, "CreationDate"));
    if (created.ok()) info.created = *created;
    buckets.push_back(std::move(info));
  });
  return buckets;
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, body, "ListBucketResult", "ListObjectsV2"));
  bool url_encoded = Text(root, "EncodingType") == "url";
  auto decode = [&](std::string text) -> Result<std::string> {
    if (!url_encoded) return text;
    return UrlDecode(text);
  };
  ListPage page;
  page.truncated = Text(root, "IsTruncated") == "true";
  page.next_continuation_token = Text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Status::Corruption("ListObjectsV2 reply is truncated but has no continuation token");
  }
  Status status;
  ForEachChild(root, "Contents", [&](pugi::xml_node node) {
    if (!status.ok()) return;
    ObjectInfo info;
    if (!Child(node, "Key")) {
      status = Status::Corruption("ListObjectsV2 reply: an object without <Key>");
      return;
    }
    Result<std::string> key = decode(Text(node, "Key"));
    Result<uint64_t> size = ParseUint(Text(node, "Size"), "Size");
    Result<int64_t> modified = ParseIsoTime(Text(node, "LastModified"));
    if (!key.ok() || !size.ok() || !modified.ok()) {
      status = !key.ok() ? key.status() : !size.ok() ? size.status() : modified.status();
      return;
    }
    info.key = std::move(*key);
    info.size = *size;
    info.last_modified = *modified;
    info.etag = StripQuotes(Text(node, "ETag"));
    page.objects.push_back(std::move(info));
  });
  ForEachChild(root, "CommonPrefixes", [&](pugi::xml_node node) {
    if (!status.ok()) return;
    Result<std::string> prefix = decode(Text(node, "Prefix"));
    if (!prefix.ok()) {
      status = prefix.status();
      return;
    }
    page.common_prefixes.push_back(std::move(*prefix));
  });
  CAIRN_RETURN_IF_ERROR(status);
  return page;
}

Result<std::vector<DeleteError>> ParseDeleteResult(std::string_view body) {
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, body, "DeleteResult", "DeleteObjects"));
  std::vector<DeleteError> errors;
  ForEachChild(root, "Error", [&](pugi::xml_node node) {
    errors.push_back({Text(node, "Key"), Text(node, "Code"), Text(node, "Message")});
  });
  return errors;
}

std::string BuildDeleteRequest(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const std::string& key : keys) {
    root.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  root.append_child("Quiet").text().set("true");
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace cairn::s3
