// Helpers shared by the unit tests that run commands (test_command_words.cpp,
// test_step_guard.cpp): run one collecting its output, compare outputs line by line.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/process.hpp"

namespace depctl::testing {

inline ProcessResult run_collecting(const ProcessSpec& spec, std::string& output,
                                    const CancelSignal* cancel = nullptr) {
    return run_process(
        spec, [&](std::string_view chunk) { output.append(chunk); }, cancel);
}

// The lines of `text` in sorted order: stdout and stderr share one pipe, so two runs may
// interleave them differently.
inline std::string sorted_lines(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

inline void write_script(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

}  // namespace depctl::testing
