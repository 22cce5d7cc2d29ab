// Worker threads pull ready steps from one priority queue under one mutex; the calling
// thread sleeps in poll() on the external cancel fds and a wake-up eventfd, so a Ctrl-C
// is forwarded to running steps at once without any periodic polling. It also delivers
// the events, which the workers queue: no callback runs under the mutex.
#include "depctl/executor.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <thread>
#include <utility>

#include "depctl/error.hpp"
#include "util/fd.hpp"

namespace depctl {

namespace {

using Clock = std::chrono::steady_clock;

StepState state_of(StepOutcome outcome) {
    switch (outcome) {
        case StepOutcome::succeeded:
            return StepState::succeeded;
        case StepOutcome::failed:
            return StepState::failed;
        case StepOutcome::canceled:
            return StepState::canceled;
        case StepOutcome::skipped:
            return StepState::skipped;
    }
    return StepState::failed;
}

// A throwing step is a failed step; nothing may escape a worker thread.
StepOutcome run_step(const ExecStep& step, const CancelSignal& signal) {
    StepContext context{signal};
    try {
        return step.run(context);
    } catch (...) {
        return StepOutcome::failed;
    }
}

// Fail-fast lets running deploy work finish; a broken event callback stops everything.
enum class StopScope { builds, all };

// Ready-queue order: deploy before build, then higher priority, then lower index.
struct ReadyOrder {
    const std::vector<ExecStep>* steps;
    bool operator()(std::size_t a, std::size_t b) const {  // true if a runs after b
        const ExecStep& x = (*steps)[a];
        const ExecStep& y = (*steps)[b];
        if (x.cls != y.cls) return x.cls == StepClass::build;
        if (x.priority != y.priority) return x.priority < y.priority;
        return a > b;
    }
};

class Run {
public:
    Run(const std::vector<ExecStep>& steps, const ExecOptions& options, CancelSignal& cancel,
        const std::function<void(const ExecEvent&)>& on_event)
        : m_steps(steps),
          m_external(cancel),
          m_on_event(on_event),
          m_parallelism(options.parallelism),
          m_caps(options.group_caps),
          m_held(options.group_caps.size(), 0),
          m_parked(options.group_caps.size()),
          m_states(steps.size(), StepState::not_started),
          m_ready(ReadyOrder{&steps}) {
        validate_steps(steps, options, m_dependents, m_waiting);
        m_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!m_wake) throw_errno("eventfd", errno);
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    ExecResult run() {
        for (std::size_t i = 0; i < m_steps.size(); ++i)
            if (m_waiting[i] == 0) m_ready.push(i);
        const std::size_t count = std::min<std::size_t>(m_parallelism, m_steps.size());
        m_running.reserve(count);
        std::vector<std::thread> threads;
        try {
            for (std::size_t k = 0; k < count; ++k) threads.emplace_back([this] { worker(); });
        } catch (const std::system_error&) {
            // Fewer threads only means less parallelism; none at all means no run.
            if (threads.empty()) throw;
        }
        coordinate();
        for (auto& t : threads) t.join();
        if (m_event_error) std::rethrow_exception(m_event_error);
        return ExecResult{m_states, m_failed, m_canceled};
    }

private:
    void worker() {
        // Termination signals belong to the thread that waits for them, not to us.
        sigset_t block;
        sigemptyset(&block);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, sig);
        pthread_sigmask(SIG_BLOCK, &block, nullptr);

        std::unique_ptr<CancelSignal> spare;
        std::unique_lock lock(m_mutex);
        for (;;) {
            if (!spare) {
                // Made unlocked so the critical section stays syscall-free; a failure
                // fails the next step rather than the worker.
                lock.unlock();
                try {
                    spare = std::make_unique<CancelSignal>();
                } catch (...) {
                }
                lock.lock();
            }
            m_cv.wait(lock, [this] { return m_over || (!m_stop && !m_ready.empty()); });
            if (m_over) return;
            forward_external_locked();  // a Ctrl-C may beat the coordinator's wake-up
            if (m_stop) continue;

            const std::size_t i = m_ready.top();
            m_ready.pop();
            if (!take_slot_locked(i)) continue;  // parked until its group frees a slot
            m_states[i] = StepState::running;
            if (!spare) {
                emit_locked(ExecEventKind::started, i);
                finish_locked(i, StepOutcome::failed);
                continue;
            }
            const CancelSignal& signal = *spare;
            // Registered before the event, so a stop caused by the callback reaches it.
            m_running.emplace_back(i, std::move(spare));
            // Not waiting for the event's delivery: a callback blocked on a full stdout
            // must not hold up the start of any step (core/deploy/execution.cpp keeps a
            // step's output behind its start).
            emit_locked(ExecEventKind::started, i);
            lock.unlock();
            const StepOutcome outcome = run_step(m_steps[i], signal);
            lock.lock();
            for (auto it = m_running.begin(); it != m_running.end(); ++it)
                if (it->first == i) {
                    m_running.erase(it);
                    break;
                }
            finish_locked(i, outcome);
        }
    }

    // Until the run is over: delivers the queued events and forwards every rise of the
    // external cancel level, sleeping in between.
    void coordinate() {
        std::vector<ExecEvent> batch;
        for (;;) {
            CancelLevel seen;
            {
                std::lock_guard guard(m_mutex);
                if (!m_over) forward_external_locked();
                batch.swap(m_events);
                if (batch.empty() && m_over) return;
                seen = m_forwarded;
            }
            if (!batch.empty()) {
                deliver(batch);
                batch.clear();
            } else {
                sleep_until_woken(seen);
            }
        }
    }

    // Outside the mutex, so a callback that blocks (stdout a full pipe) does not stop the
    // workers from finishing steps and starting others. A throwing callback stops the
    // run; execute() rethrows at the end.
    void deliver(const std::vector<ExecEvent>& batch) {
        for (const ExecEvent& event : batch) {
            try {
                m_on_event(event);
            } catch (...) {
                std::lock_guard guard(m_mutex);
                if (!m_event_error) m_event_error = std::current_exception();
                stop_locked(StopScope::all);
            }
        }
    }

    // Until an event is queued, the run is over or the external cancel level rises.
    void sleep_until_woken(CancelLevel seen) {
        if (!m_poll_failed) {
            pollfd fds[2];
            nfds_t n = 0;
            fds[n++] = {m_wake.get(), POLLIN, 0};
            // The cancel fds never go unreadable, so watch only the next level up.
            if (seen == CancelLevel::none) fds[n++] = {m_external.fd(), POLLIN, 0};
            if (seen == CancelLevel::graceful) fds[n++] = {m_external.immediate_fd(), POLLIN, 0};
            if (::poll(fds, n, -1) >= 0 || errno == EINTR) {
                std::uint64_t count = 0;
                if (fds[0].revents != 0) (void)!::read(m_wake.get(), &count, sizeof count);
                return;
            }
        }
        // Cannot watch fds any more: the workers' notifications still wake us.
        std::unique_lock lock(m_mutex);
        m_poll_failed = true;
        m_cv.wait(lock, [this] { return m_over || !m_events.empty(); });
    }

    // False (and the step parked) when its cap group is full.
    bool take_slot_locked(std::size_t i) {
        const ExecStep& step = m_steps[i];
        if (!step.takes_slot || step.cap_group < 0) return true;
        const auto g = static_cast<std::size_t>(step.cap_group);
        if (m_held[g] >= m_caps[g]) {
            m_parked[g].push_back(i);
            return false;
        }
        ++m_held[g];
        return true;
    }

    void free_slot_locked(std::size_t i) {
        const ExecStep& step = m_steps[i];
        if (!step.frees_slot || step.cap_group < 0) return;
        const auto g = static_cast<std::size_t>(step.cap_group);
        if (m_held[g] > 0) --m_held[g];
        for (std::size_t parked : m_parked[g]) m_ready.push(parked);
        if (!m_parked[g].empty()) m_cv.notify_all();
        m_parked[g].clear();
    }

    void finish_locked(std::size_t i, StepOutcome outcome) {
        const StepState state = state_of(outcome);
        m_states[i] = state;
        free_slot_locked(i);
        emit_locked(ExecEventKind::finished, i);
        if (state == StepState::failed) m_failed = true;
        if (state == StepState::succeeded || state == StepState::skipped) {
            std::size_t released = 0;
            for (std::size_t d : m_dependents[i])
                if (--m_waiting[d] == 0) {
                    m_ready.push(d);
                    ++released;
                }
            // This worker takes one itself when it loops; wake others for the rest.
            for (std::size_t k = 1; k < released; ++k) m_cv.notify_one();
        } else if (!m_stop) {
            // Failed, or canceled on its own: fail fast.
            m_failed = true;
            stop_locked(StopScope::builds);
        }
        update_over_locked();
    }

    // No new steps; running steps in scope get a graceful cancel.
    void stop_locked(StopScope scope) {
        m_stop = true;
        for (auto& [i, signal] : m_running)
            if (scope == StopScope::all || m_steps[i].cls == StepClass::build)
                signal->request(CancelLevel::graceful);
        update_over_locked();
    }

    void forward_external_locked() {
        const CancelLevel level = m_external.level();
        if (level <= m_forwarded) return;
        m_forwarded = level;
        m_stop = true;
        m_canceled = true;
        for (auto& [i, signal] : m_running) signal->request(level);
        update_over_locked();
    }

    void update_over_locked() {
        if (m_over || !m_running.empty() || !(m_stop || m_ready.empty())) return;
        m_over = true;
        m_cv.notify_all();
        wake_locked();
    }

    void wake_locked() {
        if (m_poll_failed) m_cv.notify_all();
        const std::uint64_t one = 1;
        while (::write(m_wake.get(), &one, sizeof one) < 0 && errno == EINTR) {
        }
    }

    // Queued under the mutex, so events keep their causal order (a step's start follows
    // its deps' finish); the coordinating thread delivers them.
    void emit_locked(ExecEventKind kind, std::size_t i) {
        if (!m_on_event) return;
        m_events.push_back(ExecEvent{kind, i, m_states[i], Clock::now()});
        wake_locked();
    }

    const std::vector<ExecStep>& m_steps;
    CancelSignal& m_external;
    const std::function<void(const ExecEvent&)>& m_on_event;
    const int m_parallelism;
    const std::vector<int> m_caps;
    std::vector<int> m_held;                         // slots taken per cap group
    std::vector<std::vector<std::size_t>> m_parked;  // ready steps waiting for a slot

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<StepState> m_states;
    std::vector<std::vector<std::size_t>> m_dependents;
    std::vector<std::size_t> m_waiting;  // deps not yet succeeded/skipped
    std::priority_queue<std::size_t, std::vector<std::size_t>, ReadyOrder> m_ready;
    std::vector<std::pair<std::size_t, std::unique_ptr<CancelSignal>>> m_running;
    bool m_stop = false;  // start nothing new
    bool m_over = false;  // nothing running and nothing will start
    bool m_failed = false;
    bool m_canceled = false;
    CancelLevel m_forwarded = CancelLevel::none;
    std::exception_ptr m_event_error;
    std::vector<ExecEvent> m_events;  // queued for the coordinating thread
    bool m_poll_failed = false;       // the coordinator waits on m_cv instead of poll()
    UniqueFd m_wake;
};

}  // namespace

ExecResult execute(const std::vector<ExecStep>& steps, const ExecOptions& options,
                   CancelSignal& cancel, const std::function<void(const ExecEvent&)>& on_event) {
    Run run(steps, options, cancel, on_event);
    if (steps.empty()) return ExecResult{{}, false, false};
    return run.run();
}

}  // namespace depctl
