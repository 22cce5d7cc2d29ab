// Why each recorded step started when it did: its prerequisites in the plan (its previous
// step, the stage barrier, its dependencies) and, after the last of them, a free worker.
// The critical path follows, backwards from the step that ended last, whatever each step
// waited for last.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "depctl/timeline.hpp"

namespace depctl {
namespace {

// Gaps shorter than this between "ready" and "started" are the executor's own overhead
// and rounding to whole milliseconds, not a wait worth naming.
constexpr long long k_min_wait_ms = 2;

struct Ended {
    long long end_ms;
    StepRef ref;
};

class Analysis {
public:
    explicit Analysis(const DeploymentTimeline& t) : m_t(t) {
        for (std::size_t s = 0; s < t.services.size(); ++s) {
            for (std::size_t j = 0; j < t.services[s].steps.size(); ++j) {
                const TimelineStep& step = t.services[s].steps[j];
                if (!step.ran()) continue;
                m_starts.push_back(step.start_ms);
                m_ends.push_back({step.end_ms(), {s, j}});
            }
        }
        std::sort(m_starts.begin(), m_starts.end());
        std::sort(m_ends.begin(), m_ends.end(),
                  [](const Ended& a, const Ended& b) { return a.end_ms < b.end_ms; });
        stage_barriers();
    }

    StepExplanation explain(StepRef ref) const {
        const TimelineService& svc = m_t.services[ref.service];
        const TimelineStep& step = svc.steps[ref.step];
        std::vector<Wait> prereqs;
        if (ref.step > 0) {
            const TimelineStep& before = svc.steps[ref.step - 1];
            if (before.ran())
                prereqs.push_back({WaitKind::step, before.step, {}, 0, before.end_ms()});
        }
        if (is_first_rollout(svc, ref.step)) {
            const Barrier& b = m_barrier[svc.stage];
            if (b.stage)
                prereqs.push_back({WaitKind::stage, m_t.stages[*b.stage].name, {}, 0, b.end_ms});
            for (const TimelineDependency& dep : svc.depends_on) {
                if (const auto last = awaited_ran(dep))
                    prereqs.push_back({WaitKind::dependency, m_t.services[dep.service].name,
                                       dep.condition, 0,
                                       m_t.services[dep.service].steps[*last].end_ms()});
            }
        }
        std::stable_sort(prereqs.begin(), prereqs.end(),
                         [](const Wait& a, const Wait& b) { return a.until_ms < b.until_ms; });
        StepExplanation out{ref, m_t.steps_from_ms, {}};
        for (Wait& w : prereqs) {
            if (w.until_ms <= out.ready_ms) continue;
            w.from_ms = out.ready_ms;
            out.ready_ms = w.until_ms;
            out.waits.push_back(w);
        }
        if (step.start_ms - out.ready_ms >= k_min_wait_ms &&
            running_at((out.ready_ms + step.start_ms) / 2.0) >= m_t.parallelism)
            out.waits.push_back({WaitKind::worker, {}, {}, out.ready_ms, step.start_ms});
        return out;
    }

    // The step whose end let `ref` start, following its last wait; none for a first step.
    std::optional<StepRef> predecessor(const StepExplanation& e) const {
        if (e.waits.empty()) return std::nullopt;
        const Wait& w = e.waits.back();
        const TimelineService& svc = m_t.services[e.ref.service];
        switch (w.kind) {
            case WaitKind::step:
                return StepRef{e.ref.service, e.ref.step - 1};
            case WaitKind::stage:
                return m_barrier[svc.stage].last;
            case WaitKind::dependency:
                for (const TimelineDependency& dep : svc.depends_on)
                    if (m_t.services[dep.service].name == w.what)
                        if (const auto last = awaited_ran(dep)) return StepRef{dep.service, *last};
                return std::nullopt;
            case WaitKind::worker:
                return freed_worker(svc.steps[e.ref.step].start_ms, e.ref);
            case WaitKind::start:
                break;
        }
        return std::nullopt;
    }

    const std::vector<Ended>& ends() const { return m_ends; }

private:
    struct Barrier {
        long long end_ms = 0;
        std::optional<StepRef> last;       // the step that ended last before the stage
        std::optional<std::size_t> stage;  // the stage of that step
    };

    static bool is_first_rollout(const TimelineService& svc, std::size_t j) {
        for (std::size_t k = 0; k < svc.steps.size(); ++k)
            if (svc.steps[k].step != "build") return k == j;
        return false;
    }

    // The step a dependency edge waited for (the plan's awaited_step): a `started` edge
    // waits for the last step before the health check, any other for the last step.
    std::optional<std::size_t> awaited_ran(const TimelineDependency& dep) const {
        if (dep.condition != to_string(EdgeCondition::started)) return last_ran(dep.service);
        const auto& steps = m_t.services[dep.service].steps;
        for (std::size_t k = steps.size(); k-- > 0;)
            if (steps[k].ran() && steps[k].step != to_string(StepKind::health)) return k;
        return std::nullopt;
    }

    std::optional<std::size_t> last_ran(std::size_t service) const {
        const auto& steps = m_t.services[service].steps;
        for (std::size_t k = steps.size(); k-- > 0;)
            if (steps[k].ran()) return k;
        return std::nullopt;
    }

    // The barrier before each stage: the latest end of any step of an earlier stage.
    void stage_barriers() {
        m_barrier.assign(m_t.stages.size(), {});
        Barrier running;
        for (std::size_t st = 0; st < m_t.stages.size(); ++st) {
            m_barrier[st] = running;
            for (std::size_t s : m_t.stages[st].services) {
                const auto last = last_ran(s);
                if (!last) continue;
                const long long end = m_t.services[s].steps[*last].end_ms();
                if (!running.last || end > running.end_ms) running = {end, StepRef{s, *last}, st};
            }
        }
    }

    long long running_at(double t) const {
        const auto started =
            std::upper_bound(m_starts.begin(), m_starts.end(), t) - m_starts.begin();
        const auto ended = std::upper_bound(m_ends.begin(), m_ends.end(), t,
                                            [](double x, const Ended& e) { return x < e.end_ms; }) -
                           m_ends.begin();
        return started - ended;
    }

    std::optional<StepRef> freed_worker(long long start_ms, StepRef self) const {
        auto it = std::upper_bound(m_ends.begin(), m_ends.end(), start_ms,
                                   [](long long x, const Ended& e) { return x < e.end_ms; });
        while (it != m_ends.begin()) {
            --it;
            if (it->ref.service != self.service || it->ref.step != self.step) return it->ref;
        }
        return std::nullopt;
    }

    const DeploymentTimeline& m_t;
    std::vector<long long> m_starts;
    std::vector<Ended> m_ends;
    std::vector<Barrier> m_barrier;
};

}  // namespace

std::string_view to_string(WaitKind kind) {
    switch (kind) {
        case WaitKind::start:
            return "start";
        case WaitKind::step:
            return "step";
        case WaitKind::stage:
            return "stage";
        case WaitKind::dependency:
            return "dependency";
        case WaitKind::worker:
            return "worker";
    }
    return "start";
}

Explanation explain_deployment(const DeploymentTimeline& t) {
    Analysis analysis(t);
    Explanation out;
    std::vector<std::vector<std::size_t>> index(t.services.size());
    for (std::size_t s = 0; s < t.services.size(); ++s) {
        index[s].assign(t.services[s].steps.size(), SIZE_MAX);
        for (std::size_t j = 0; j < t.services[s].steps.size(); ++j) {
            if (!t.services[s].steps[j].ran()) continue;
            index[s][j] = out.steps.size();
            out.steps.push_back(analysis.explain({s, j}));
        }
    }
    out.pool.parallelism = t.parallelism;
    if (analysis.ends().empty()) return out;
    long long first = analysis.ends().back().end_ms;
    for (const auto& e : out.steps) {
        const TimelineStep& step = t.services[e.ref.service].steps[e.ref.step];
        first = std::min(first, step.start_ms);
        out.pool.busy_ms += step.duration_ms;
    }
    out.pool.wall_ms = analysis.ends().back().end_ms - first;
    out.pool.idle_ms = std::max(0LL, out.pool.wall_ms * t.parallelism - out.pool.busy_ms);

    // Backwards from the step that ended last, through what each one waited for last.
    std::optional<StepRef> at = analysis.ends().back().ref;
    out.critical_ms = analysis.ends().back().end_ms;
    std::vector<bool> seen(out.steps.size(), false);
    while (at) {
        const std::size_t k = index[at->service][at->step];
        if (k == SIZE_MAX || seen[k]) break;  // a defensive stop: the chain must go back in time
        seen[k] = true;
        const StepExplanation& e = out.steps[k];
        Wait via = e.waits.empty() ? Wait{WaitKind::start, {}, {}, t.steps_from_ms, e.ready_ms}
                                   : e.waits.back();
        out.critical_path.push_back({*at, via});
        at = analysis.predecessor(e);
    }
    std::reverse(out.critical_path.begin(), out.critical_path.end());
    std::sort(out.steps.begin(), out.steps.end(), [&](const auto& a, const auto& b) {
        const long long x = t.services[a.ref.service].steps[a.ref.step].start_ms;
        const long long y = t.services[b.ref.service].steps[b.ref.step].start_ms;
        if (x != y) return x < y;
        return a.ref.service != b.ref.service ? a.ref.service < b.ref.service
                                              : a.ref.step < b.ref.step;
    });
    return out;
}

}  // namespace depctl
