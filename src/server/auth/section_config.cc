#include "server/auth/section_config.h"

#include <algorithm>
#include <cctype>

#include "base/quote.h"

namespace cairn::server {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

Status LineError(int line, const std::string& what) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<std::vector<Section>> ParseSections(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("config contains a NUL byte");
  }
  std::vector<Section> sections;
  bool in_section = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string_view line = Trim(raw);
    if (line.empty()) {
      in_section = false;
      continue;
    }
    if (line.front() == '#') continue;
    if (IsBlank(raw.front())) {
      if (!in_section) return LineError(line_no, "property outside of a section");
      size_t split = 0;
      while (split < line.size() && !IsBlank(line[split])) ++split;
      const std::string_view key = line.substr(0, split);
      const std::string_view value = Trim(line.substr(split));
      if (value.empty())
        return LineError(line_no, "property " + QuoteForMessage(key) + " has no value");
      sections.back().properties.push_back({std::string(key), std::string(value), line_no});
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return LineError(line_no,
                       "expected a section header '<type>: <id>', got " + QuoteForMessage(line));
    }
    const std::string_view type = Trim(line.substr(0, colon));
    const std::string_view id = Trim(line.substr(colon + 1));
    if (type.empty() || id.empty() ||
        std::any_of(id.begin(), id.end(), [](char c) { return IsBlank(c); })) {
      return LineError(line_no, "malformed section header " + QuoteForMessage(line));
    }
    sections.push_back({std::string(type), std::string(id), line_no, {}});
    in_section = true;
  }
  return sections;
}

void AppendSection(std::string* out, std::string_view type, std::string_view id,
                   const std::vector<std::pair<std::string, std::string>>& properties) {
  out->append(type).append(": ").append(id).append("\n");
  for (const auto& [key, value] : properties) {
    out->append("\t").append(key).append(" ").append(value).append("\n");
  }
  out->append("\n");
}

Result<bool> ParseBool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  return Status::InvalidArgument("expected a boolean, got " + QuoteForMessage(text));
}

}  // namespace cairn::server
