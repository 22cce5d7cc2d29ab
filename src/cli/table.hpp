// Plain-text tables in the Qovery CLI's "Type | Name" style.
#pragma once

#include <string>
#include <vector>

namespace depctl::cli {

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace depctl::cli
