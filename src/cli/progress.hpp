// Renders deploy progress: one line per event without a TTY (CI logs), a live per-stage
// view on a TTY (progress_live.hpp), JSON lines with -o json; --follow streams step output
// by whole lines. Every text mode ends with a summary: per-service durations and the log
// of whatever failed.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "depctl/deploy.hpp"
#include "progress_live.hpp"

namespace depctl::cli {

enum class ProgressMode { lines, live, json };

struct ProgressOptions {
    ProgressMode mode = ProgressMode::lines;
    bool follow = false;
    bool color = false;
    bool unicode = false;
    bool quiet = false;
};

// Chooses the mode from the output format and whether stdout is a terminal; colour only
// on a terminal and never with --no-color or NO_COLOR (https://no-color.org).
// What the command line asked for (four flags, named at the call site).
struct ProgressRequest {
    bool json = false;
    bool follow = false;
    bool quiet = false;
    bool no_color = false;
};
ProgressOptions progress_options_for(const ProgressRequest& request);

class Progress final : public DeployObserver {
public:
    explicit Progress(ProgressOptions options);
    void deployment_started(const Plan& plan, const std::string& deployment_id,
                            const std::string& version) override;
    void step_started(const Plan& plan, std::size_t step) override;
    void step_finished(const Plan& plan, std::size_t step, const StepReport& report) override;
    void hook_finished(const std::string& name, const StepReport& report) override;
    bool wants_output() const override { return m_options.follow; }
    void step_output(const Plan& plan, std::size_t step, std::string_view line) override;
    void cancel_requested(CancelLevel level) override;
    void rollback_started(const Plan& redeploy, const Plan& stop) override;
    void rollback_finished(DeploymentStatus status) override;
    // The final summary, after the record is written.
    void deployment_finished(const DeployOutcome& outcome);

private:
    std::string elapsed() const;
    std::string paint(const std::string& text, const char* code) const;
    void emit_json(nlohmann::json event);
    std::string summary(const DeployOutcome& outcome) const;

    ProgressOptions m_options;
    Style m_style;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_start;
    std::unique_ptr<LiveView> m_live;  // live mode, once the deployment started
};

}  // namespace depctl::cli
