// The page's files, embedded at build time from src/ui/assets/ (cmake/embed_assets.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace depctl::ui {

struct Asset {
    std::string_view path;  // "/app.js"
    std::string_view content_type;
    std::string_view body;
};

const std::vector<Asset>& embedded_assets();

}  // namespace depctl::ui
