// The live view of a deployment on a terminal: one section per stage, one row per service
// with its current step and the time spent in it, redrawn in place by a ticker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "depctl/deploy.hpp"

namespace depctl::cli {

// How text is decorated on this terminal.
struct Style {
    bool color = false;
    bool unicode = false;
    std::string paint(const std::string& text, const char* sgr) const;
};

// SGR colour of a step or deployment status (green, yellow, red).
const char* status_color(std::string_view status);
// A service's steps of a record, for summaries: "build 1.2s, deploy 3.0s FAILED".
std::string steps_text(const ServiceRecord& service, std::chrono::milliseconds* busy);
// "1.2s", "1m05s".
std::string duration_text(std::chrono::milliseconds d);
// True when the locale (LC_ALL, LC_CTYPE, LANG) says UTF-8.
bool locale_is_utf8();

class LiveView {
public:
    explicit LiveView(Style style);
    ~LiveView();
    LiveView(const LiveView&) = delete;
    LiveView& operator=(const LiveView&) = delete;

    // Draws the first frame and starts the ticker. Must be called after the signal watcher
    // exists, so the ticker thread inherits the blocked signal mask.
    void start(const Plan& plan);
    void step_started(const Plan& plan, std::size_t step);
    void step_finished(const Plan& plan, std::size_t step, const StepReport& report);
    // Prints permanent text above the live rows (hook results, cancel notices).
    void print_above(const std::string& text, std::FILE* stream);
    // Stops the ticker and draws the last frame with each service's final status and the
    // time it spent in its steps; the rows stay on screen as the summary.
    void finish(const DeploymentRecord& record);

private:
    enum class Phase { waiting, running, between, done, failed, ended };
    struct Row {
        std::string name;
        std::size_t stage = 0;
        Phase phase = Phase::waiting;
        std::string step;    // the current step, or the last one that ran
        std::string note;    // "built 0.4s", "exit code 1", the final step list
        std::string status;  // final status once known
        std::chrono::steady_clock::time_point since;
        std::chrono::milliseconds busy{0};  // time spent in finished steps
    };
    void tick();
    void stop_ticker();
    void draw_locked();
    void erase_locked();
    std::vector<std::string> frame_locked(std::size_t width, std::size_t height) const;
    std::string row_text(const Row& row, std::size_t width) const;

    Style m_style;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    bool m_finished = false;
    std::thread m_ticker;
    std::vector<std::string> m_stages;  // "# deployment stage N: "NAME""
    std::vector<Row> m_rows;            // in stage order
    std::vector<std::size_t> m_row_of;  // plan service index -> index into m_rows
    std::size_t m_name_width = 4;
    std::size_t m_drawn_lines = 0;
    std::size_t m_frame = 0;  // spinner position
    std::chrono::steady_clock::time_point m_start;
};

}  // namespace depctl::cli
