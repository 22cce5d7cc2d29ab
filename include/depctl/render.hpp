// Pictures (DESIGN §10): the pipeline graph of an environment (text tree, DOT, Mermaid,
// a self-drawn SVG) and the timeline of a recorded deployment (Gantt SVG, Chrome trace).
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/timeline.hpp"

namespace depctl {

struct GraphService {
    std::string name;
    std::string type;
    std::vector<std::string> steps;  // build, release, deploy, health: those with a command
    bool skipped = false;
};

struct GraphStage {
    std::size_t position = 0;  // 1-based
    std::string name;
    std::vector<GraphService> services;
};

struct ServiceAt {
    std::size_t stage = 0;
    std::size_t service = 0;  // index into GraphStage::services
    bool operator==(const ServiceAt&) const = default;
};

struct GraphEdge {
    ServiceAt from;  // the dependency
    ServiceAt to;    // the service that waits for it
    std::string condition;
};

struct PipelineGraph {
    std::string environment;
    std::vector<GraphStage> stages;
    std::vector<GraphEdge> edges;
};

// Every stage in order with every service (skipped ones marked) and each depends_on edge.
PipelineGraph pipeline_graph(const Environment& env);

std::string graph_text(const PipelineGraph& graph, bool color);
std::string graph_dot(const PipelineGraph& graph);
std::string graph_mermaid(const PipelineGraph& graph);
std::string graph_svg(const PipelineGraph& graph);
nlohmann::json graph_json(const PipelineGraph& graph);

// A Gantt chart: a row per service, a bar per step that ran, stage bands, the critical path
// outlined; every bar has a <title> with its exact times.
std::string timeline_svg(const DeploymentTimeline& timeline, const Explanation& explanation);
// Chrome trace-event JSON ({"traceEvents": [...]}): one thread per service, complete
// ("ph": "X") events in microseconds, durations exactly those of the record.
nlohmann::json timeline_chrome_trace(const DeploymentTimeline& timeline);

}  // namespace depctl
