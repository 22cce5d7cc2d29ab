#include "depctl/open_store.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "depctl/etcd_store.hpp"
#include "depctl/file_store.hpp"

namespace depctl {
namespace fs = std::filesystem;

std::unique_ptr<StateStore> open_store(const std::string& location, const StoreOptions& options) {
    if (is_etcd_location(location))
        return std::make_unique<EtcdStore>(parse_etcd_location(location), options);
    fs::path path = fs::absolute(location);
    std::error_code ignored;
    if (fs::is_directory(path, ignored)) path /= "state.json";  // --state DIR means DIR/state.json
    return std::make_unique<FileStore>(path, options);
}

}  // namespace depctl
