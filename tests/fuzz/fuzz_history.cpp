// libFuzzer target: any bytes as a history file (.depctl/history/<env>.jsonl) through the
// record reader (FileStore::query_history, newest first, with and without filters), the
// typed record (DeploymentRecord::from_json) and what the read commands make of a record
// (summary row, log files). Nothing may crash, leak or hang; a line that is not a record
// is skipped, a record of the wrong shape is refused with depctl::Error, and a record
// that reads must read back the same from its own JSON (no field lost or changed).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "depctl/error.hpp"
#include "depctl/file_store.hpp"
#include "depctl/history.hpp"
#include "depctl/record.hpp"
#include "util/files.hpp"

namespace {

namespace fs = std::filesystem;

// The fuzzer's project; removed when the fuzzer or the replay exits normally (a crash
// leaves it, beside the input).
fs::path g_project_dir;

void remove_project_dir() {
    std::error_code ignored;
    fs::remove_all(g_project_dir, ignored);
}

const fs::path& project_dir() {
    static const bool made = [] {
        char pattern[] = "/tmp/depctl-fuzz-history-XXXXXX";
        const char* dir = ::mkdtemp(pattern);
        if (!dir) std::abort();
        g_project_dir = dir;
        fs::create_directories(g_project_dir / ".depctl" / "history");
        return std::atexit(remove_project_dir) == 0;
    }();
    (void)made;
    return g_project_dir;
}

void check_record(const nlohmann::json& stored) {
    depctl::DeploymentRecord record;
    try {
        record = depctl::DeploymentRecord::from_json(stored);
    } catch (const depctl::Error&) {
        return;  // refused with a message: what the read commands print
    }
    const nlohmann::json once = record.to_json();
    if (depctl::DeploymentRecord::from_json(once).to_json() != once) {
        std::fputs("a record does not read back the same from its own JSON\n", stderr);
        std::abort();
    }
    try {
        (void)depctl::deployment_summary(record);
        (void)depctl::deployment_logs(record, "", "");
        (void)depctl::deployment_logs(record, "api", "deploy");  // refused when there is none
    } catch (const depctl::Error&) {
    }
}

void read_records(depctl::FileStore& store, const depctl::HistoryFilter& filter) {
    for (const auto& stored : store.query_history("env_fuzz", filter)) check_record(stored);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fs::path history = project_dir() / ".depctl" / "history" / "env_fuzz.jsonl";
    depctl::write_file_atomic(history, std::string_view(reinterpret_cast<const char*>(data), size));
    depctl::FileStore store(project_dir() / ".depctl" / "state.json", {});
    read_records(store, {});
    read_records(store, {"dep_", 1});
    read_records(store, {"\"status\"", 3});
    return 0;
}
