// The pipeline graph of an environment and its text, DOT, Mermaid and JSON forms.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "depctl/render.hpp"

namespace depctl {
namespace {

std::vector<std::string> step_list(const Service& s) {
    std::vector<std::string> steps;
    if (!s.build.empty()) steps.emplace_back("build");
    if (!s.release.empty()) steps.emplace_back("release");
    if (!s.deploy.empty()) steps.emplace_back("deploy");
    if (!s.health.empty()) steps.emplace_back("health");
    return steps;
}

std::string joined_steps(const GraphService& s) {
    std::string out;
    for (const auto& step : s.steps) out += (out.empty() ? "" : " \u2192 ") + step;
    return out.empty() ? "nothing to run" : out;
}

const GraphService& at(const PipelineGraph& g, ServiceAt where) {
    return g.stages[where.stage].services[where.service];
}

std::string node_id(ServiceAt where) {
    return "s" + std::to_string(where.stage + 1) + "_" + std::to_string(where.service);
}

std::string dot_quote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out + "\"";
}

std::string mermaid_text(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "#quot;";
                break;
            case '<':
                out += "#lt;";
                break;
            case '>':
                out += "#gt;";
                break;
            case '#':
                out += "#35;";
                break;
            case '&':
                out += "#amp;";
                break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20) out += c;
        }
    }
    return out;
}

}  // namespace

PipelineGraph pipeline_graph(const Environment& env) {
    PipelineGraph g;
    g.environment = env.name;
    std::unordered_map<std::string, std::size_t> stage_of;
    for (std::size_t k = 0; k < env.stages.size(); ++k) {
        g.stages.push_back({k + 1, env.stages[k].name, {}});
        stage_of.emplace(env.stages[k].id, k);
    }
    std::unordered_map<std::string, ServiceAt> where;
    for (const Service& s : env.services) {
        const auto it = stage_of.find(s.stage_id);
        if (it == stage_of.end()) continue;
        GraphStage& stage = g.stages[it->second];
        where.emplace(s.id, ServiceAt{it->second, stage.services.size()});
        stage.services.push_back({s.name, std::string(to_string(s.type)), step_list(s), s.skipped});
    }
    for (const Service& s : env.services) {
        const auto to = where.find(s.id);
        if (to == where.end()) continue;
        for (const Dependency& dep : s.depends_on) {
            const auto from = where.find(dep.id);
            if (from != where.end())
                g.edges.push_back(
                    {from->second, to->second, std::string(to_string(dep.condition))});
        }
    }
    return g;
}

std::string graph_text(const PipelineGraph& g, bool color) {
    const auto paint = [color](const std::string& text, const char* code) {
        return color ? "\x1b[" + std::string(code) + "m" + text + "\x1b[0m" : text;
    };
    std::vector<std::vector<std::vector<const GraphEdge*>>> incoming(g.stages.size());
    for (std::size_t k = 0; k < g.stages.size(); ++k)
        incoming[k].resize(g.stages[k].services.size());
    for (const auto& e : g.edges) incoming[e.to.stage][e.to.service].push_back(&e);

    std::string out = "environment \"" + g.environment + "\"\n";
    for (std::size_t k = 0; k < g.stages.size(); ++k) {
        const GraphStage& stage = g.stages[k];
        const bool last_stage = k + 1 == g.stages.size();
        out += std::string(last_stage ? "\u2514\u2500 " : "\u251c\u2500 ") +
               paint("stage " + std::to_string(stage.position) + " \"" + stage.name + "\"", "1") +
               (stage.services.empty() ? " (no service: skipped)" : "") + "\n";
        const std::string indent = last_stage ? "   " : "\u2502  ";
        for (std::size_t i = 0; i < stage.services.size(); ++i) {
            const GraphService& s = stage.services[i];
            const bool last = i + 1 == stage.services.size();
            std::string line = s.name + " [" + s.type + "] " + joined_steps(s);
            if (s.skipped) line = paint(line + " (skipped)", "2");
            out += indent + (last ? "\u2514\u2500 " : "\u251c\u2500 ") + line + "\n";
            const auto& deps = incoming[k][i];
            for (std::size_t d = 0; d < deps.size(); ++d) {
                out += indent + (last ? "   " : "\u2502  ") +
                       (d + 1 == deps.size() ? "\u2514\u2500 " : "\u251c\u2500 ") + "after " +
                       at(g, deps[d]->from).name + " " +
                       paint("(" + deps[d]->condition + ")", "36") + "\n";
            }
        }
    }
    return out;
}

std::string graph_dot(const PipelineGraph& g) {
    std::string out = "digraph pipeline {\n";
    out += "  graph [rankdir=LR, newrank=true, fontname=\"Helvetica\", labelloc=t, label=" +
           dot_quote("Pipeline of environment \"" + g.environment + "\"") + "];\n";
    out +=
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f5f7\", "
        "fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n";
    std::vector<std::string> anchors;  // one node per stage, to keep stages left to right
    for (std::size_t k = 0; k < g.stages.size(); ++k) {
        const GraphStage& stage = g.stages[k];
        out += "  subgraph cluster_" + std::to_string(k + 1) +
               " {\n    label=" + dot_quote(std::to_string(stage.position) + ". " + stage.name) +
               ";\n";
        if (stage.services.empty()) {
            const std::string id = "empty_" + std::to_string(k + 1);
            out += "    " + id + " [label=\"(no service)\", shape=plaintext, style=\"\"];\n";
            anchors.push_back(id);
        }
        for (std::size_t i = 0; i < stage.services.size(); ++i) {
            const GraphService& s = stage.services[i];
            out += "    " + node_id({k, i}) + " [label=" +
                   dot_quote(s.name + "\n" + s.type + "\n" + joined_steps(s) +
                             (s.skipped ? "\n(skipped)" : "")) +
                   (s.skipped ? ", style=\"rounded,dashed\"" : "") + "];\n";
            if (i == 0) anchors.push_back(node_id({k, i}));
        }
        out += "  }\n";
    }
    for (std::size_t k = 1; k < anchors.size(); ++k)
        out += "  " + anchors[k - 1] + " -> " + anchors[k] + " [style=invis];\n";
    for (const auto& e : g.edges)
        out += "  " + node_id(e.from) + " -> " + node_id(e.to) +
               " [label=" + dot_quote(e.condition) + "];\n";
    return out + "}\n";
}

std::string graph_mermaid(const PipelineGraph& g) {
    std::string out = "flowchart LR\n";
    for (std::size_t k = 0; k < g.stages.size(); ++k) {
        const GraphStage& stage = g.stages[k];
        out += "  subgraph st" + std::to_string(k + 1) + "[\"" +
               mermaid_text(std::to_string(stage.position) + ". " + stage.name) + "\"]\n";
        if (stage.services.empty())
            out += "    empty_" + std::to_string(k + 1) + "[\"(no service)\"]\n";
        for (std::size_t i = 0; i < stage.services.size(); ++i) {
            const GraphService& s = stage.services[i];
            out += "    " + node_id({k, i}) + "[\"" + mermaid_text(s.name) + "<br/>" +
                   mermaid_text(s.type + " \u00b7 " + joined_steps(s)) +
                   (s.skipped ? "<br/>(skipped)" : "") + "\"]\n";
        }
        out += "  end\n";
    }
    for (std::size_t k = 1; k < g.stages.size(); ++k)
        out += "  st" + std::to_string(k) + " ~~~ st" + std::to_string(k + 1) + "\n";
    for (const auto& e : g.edges)
        out += "  " + node_id(e.from) + " -->|" + mermaid_text(e.condition) + "| " + node_id(e.to) +
               "\n";
    return out;
}

nlohmann::json graph_json(const PipelineGraph& g) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& stage : g.stages) {
        nlohmann::json services = nlohmann::json::array();
        for (const auto& s : stage.services)
            services.push_back(
                {{"name", s.name}, {"type", s.type}, {"steps", s.steps}, {"skipped", s.skipped}});
        stages.push_back(
            {{"position", stage.position}, {"name", stage.name}, {"services", services}});
    }
    nlohmann::json edges = nlohmann::json::array();
    for (const auto& e : g.edges)
        edges.push_back(
            {{"from", at(g, e.from).name}, {"to", at(g, e.to).name}, {"condition", e.condition}});
    return {{"environment", g.environment}, {"stages", stages}, {"edges", edges}};
}

}  // namespace depctl
