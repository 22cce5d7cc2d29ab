// Renders deploy progress: one line per event without a TTY (CI logs), a live per-stage
// view on a TTY, JSON lines with -o json; --follow streams step output by whole lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "depctl/deploy.hpp"

namespace depctl::cli {

enum class ProgressMode { lines, live, json };

struct ProgressOptions {
    ProgressMode mode = ProgressMode::lines;
    bool follow = false;
    bool color = false;
    bool quiet = false;
};

class Progress final : public DeployObserver {
public:
    explicit Progress(ProgressOptions options);
    void deployment_started(const Plan& plan, const std::string& deployment_id, const std::string& version) override;
    void step_started(const Plan& plan, std::size_t step) override;
    void step_finished(const Plan& plan, std::size_t step, const StepReport& report) override;
    void hook_finished(const std::string& name, const StepReport& report) override;
    bool wants_output() const override { return m_options.follow; }
    void step_output(const Plan& plan, std::size_t step, std::string_view line) override;
    void cancel_requested(CancelLevel level) override;
    // The final summary, after the record is written.
    void deployment_finished(const DeployOutcome& outcome);

private:
    struct Row {
        std::string stage;
        std::string service;
        std::string step = "waiting";
        std::string status;
        std::chrono::steady_clock::time_point since;
    };
    std::string elapsed() const;
    std::string paint(const std::string& text, const char* code) const;
    void redraw();
    void emit_json(nlohmann::json event);

    ProgressOptions m_options;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_start;
    std::vector<Row> m_rows;  // live mode: one per planned service
    std::size_t m_drawn_lines = 0;
    std::size_t m_name_width = 8;
};

}  // namespace depctl::cli
