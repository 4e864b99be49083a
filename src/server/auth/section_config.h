// The syntax of PBS section config files (user.cfg here; domains.cfg, remote.cfg elsewhere):
//
//   <type>: <id>
//   	<key> <value>
//   	<key> <value>
//   <blank line>
//
// A header line starts in column 0; property lines start with a space or tab; a value is the
// rest of the line after the key and its separating whitespace, trimmed. Blank lines end a
// section; lines starting with '#' are comments. This layer only splits text into sections;
// what types, ids, keys and values mean is the caller's business.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::server {

struct SectionProperty {
  std::string key;
  std::string value;
  int line = 0;  // 1-based
};

struct Section {
  std::string type;
  std::string id;
  int line = 0;  // of the header
  std::vector<SectionProperty> properties;
};

// Splits `text` into sections. InvalidArgument "line N: ..." on a property outside a section,
// a header without ':' or without an id, a property without a value, or a NUL byte.
Result<std::vector<Section>> ParseSections(std::string_view text);

// Appends one section, properties in the given order, followed by a blank line.
// REQUIRES: no newline in any argument; keys without whitespace; values not empty.
void AppendSection(std::string* out, std::string_view type, std::string_view id,
                   const std::vector<std::pair<std::string, std::string>>& properties);

// Parses a PBS boolean: 1/true/yes/on or 0/false/no/off (case-insensitive).
Result<bool> ParseBool(std::string_view text);

}  // namespace cairn::server
