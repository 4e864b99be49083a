// HeaderList: HTTP header fields in the order they are sent or were received, as (name, value)
// pairs. Names keep their case when sent; replies are stored with names lowercased.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cairn::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

}  // namespace cairn::http
