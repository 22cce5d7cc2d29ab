#include "table.hpp"

#include <algorithm>

#include "depctl/names.hpp"

namespace depctl::cli {

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(headers.size());
    for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = display_length(headers[c]);
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], display_length(row[c]));
    }
    std::string out;
    const auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < headers.size(); ++c) {
            const std::string& cell = c < cells.size() ? cells[c] : std::string();
            out += cell;
            if (c + 1 < headers.size()) {
                out.append(widths[c] - display_length(cell), ' ');
                out += " | ";
            }
        }
        out += '\n';
    };
    line(headers);
    for (const auto& row : rows) line(row);
    return out;
}

}  // namespace depctl::cli
