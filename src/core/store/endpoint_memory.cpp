#include "core/store/endpoint_memory.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

#include "util/files.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

std::string home_directory() {
    if (const char* home = std::getenv("HOME"); home && *home) return home;
    if (const passwd* entry = ::getpwuid(::getuid())) return entry->pw_dir;
    return fs::temp_directory_path().string();
}

std::string joined(const std::vector<std::string>& endpoints) {
    std::string out;
    for (const std::string& endpoint : endpoints) out += (out.empty() ? "" : ",") + endpoint;
    return out;
}

// One small file per endpoint list, named by a hash of the list; the file repeats the list,
// so two lists that share a hash never share a memory.
fs::path memory_file(const std::string& list) {
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
    for (const char c : list) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    char name[32];
    std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(hash));
    return user_state_home() / "depctl" / "etcd-endpoints" / name;
}

}  // namespace

fs::path user_state_home() {
    if (const char* state_home = std::getenv("XDG_STATE_HOME"); state_home && *state_home == '/')
        return state_home;
    return fs::path(home_directory()) / ".local" / "state";
}

std::size_t recall_endpoint(const std::vector<std::string>& endpoints) {
    if (endpoints.size() < 2) return 0;
    const std::string list = joined(endpoints);
    try {
        const std::optional<std::string> text = read_file(memory_file(list), 4096);
        if (!text) return 0;
        const std::size_t newline = text->find('\n');
        if (newline == std::string::npos || text->substr(newline + 1) != list + "\n") return 0;
        char* end = nullptr;
        const unsigned long index = std::strtoul(text->c_str(), &end, 10);
        if (end != text->c_str() + newline || index >= endpoints.size()) return 0;
        return index;
    } catch (const std::exception&) {  // unreadable, a link, a FIFO: start at the first
        return 0;
    }
}

void remember_endpoint(const std::vector<std::string>& endpoints, std::size_t index) {
    if (endpoints.size() < 2) return;
    const std::string list = joined(endpoints);
    try {
        const fs::path file = memory_file(list);
        ensure_directory(file.parent_path());
        write_file_atomic(file, std::to_string(index) + "\n" + list + "\n");
    } catch (const std::exception&) {  // a read-only home: the next process starts at the first
    }
}

}  // namespace depctl
