// The deploy engine through its core API (deploy.cpp), without the CLI: a file store in a
// temp directory, real processes, and an observer that records what it is told.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "depctl/deploy.hpp"
#include "depctl/error.hpp"
#include "depctl/file_store.hpp"
#include "depctl/pipeline.hpp"
#include "test_support.hpp"
#include "util/cancel.hpp"

using namespace depctl;

namespace {

class Recorder : public DeployObserver {
public:
    void step_finished(const Plan& plan, std::size_t step, const StepReport& report) override {
        std::lock_guard lock(m_mutex);
        const PlanStep& s = plan.steps[step];
        finished.push_back(plan.services[s.service].service.name + " " +
                           std::string(to_string(s.kind)) + " " +
                           std::string(to_string(report.status.value_or(StepStatus::not_started))));
    }
    std::vector<std::string> finished;

private:
    std::mutex m_mutex;
};

// Until `path` exists; false after 30 s (a deadline only, so a broken build fails).
bool wait_for_file(const std::filesystem::path& path) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(path)) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::string service_of(const Plan& plan, std::size_t step) {
    return plan.services[plan.steps[step].service].service.name;
}

struct TempProject {
    testing::TempDir dir;
    FileStore store{dir.path() / ".depctl" / "state.json", {}};
    std::string env_id;

    explicit TempProject(
        const std::vector<std::tuple<std::string, ServiceType, std::string>>& services) {
        store.initialize(new_state("demo"));
        store.transact([&](State& s) {
            Environment& env =
                create_environment(s, {"dev", EnvironmentType::development, std::nullopt});
            env_id = env.id;
            for (const auto& [name, type, deploy] : services) {
                ServiceChanges changes;
                changes.deploy = deploy;
                create_service(env, name, type, changes);
            }
        });
    }

    DeployOutcome deploy(const std::string& version, DeployObserver& recorder) {
        CancelSignal cancel;
        DeployRequest request;
        request.environment_id = env_id;
        request.version = version;
        const State state = store.load();
        return deploy_environment(store, state, request, cancel, recorder);
    }

    const Service& service(const std::string& name) {
        m_loaded = store.load();
        const Environment& env = *m_loaded.find_environment_by_id(env_id);
        return *std::find_if(env.services.begin(), env.services.end(),
                             [&](const Service& s) { return s.name == name; });
    }

private:
    State m_loaded;
};

}  // namespace

TEST_CASE("deploy: every step runs, the outcome is recorded in history and in the state") {
    TempProject project({{"DB", ServiceType::database, "echo db > db.out"},
                         {"Api", ServiceType::application, "true"}});
    Recorder recorder;
    const DeployOutcome outcome = project.deploy("v1", recorder);
    CHECK(outcome.exit_code == 0);
    CHECK(outcome.record.status == DeploymentStatus::deployed);
    CHECK(recorder.finished ==
          std::vector<std::string>{"DB deploy SUCCEEDED", "Api deploy SUCCEEDED"});
    // The step really ran, in the project directory.
    std::ifstream out(project.dir.path() / "db.out");
    std::string line;
    REQUIRE(std::getline(out, line));
    CHECK(line == "db");
    CHECK(project.service("Api").current.version == "v1");
    CHECK(project.service("Api").current.status == "DEPLOYED");
    const auto history = project.store.list_history(project.env_id);
    REQUIRE(history.size() == 1);
    CHECK(history.front()["status"] == "DEPLOYED");
    CHECK(history.front()["version"] == "v1");
}

TEST_CASE("deploy: a failure in the first stage leaves the next one unstarted") {
    TempProject project({{"DB", ServiceType::database, "exit 4"},
                         {"Api", ServiceType::application, "touch api.ran"}});
    Recorder recorder;
    const DeployOutcome outcome = project.deploy("v1", recorder);
    CHECK(outcome.exit_code == 1);
    CHECK(outcome.record.status == DeploymentStatus::deployment_error);
    CHECK(recorder.finished ==
          std::vector<std::string>{"DB deploy FAILED"});  // Api's never started
    // The record says so, step by step.
    std::vector<std::string> recorded;
    const nlohmann::json record = outcome.record.to_json();  // as stored
    for (const auto& stage : record["stages"]) {
        for (const auto& service : stage["services"]) {
            for (const auto& step : service["steps"]) {
                recorded.push_back(service["name"].get<std::string>() + " " +
                                   step["step"].get<std::string>() + " " +
                                   step["status"].get<std::string>());
            }
        }
    }
    CHECK(recorded == std::vector<std::string>{"DB deploy FAILED", "Api deploy NOT_STARTED"});
    CHECK_FALSE(std::filesystem::exists(project.dir.path() / "api.ran"));
    // Its deploy step ran: the state says FAILED at the attempted version (DESIGN §9).
    CHECK(project.service("DB").current.status == "FAILED");
    CHECK(project.service("DB").current.version == "v1");
    CHECK(project.service("Api").current.version.empty());  // never deployed
}

TEST_CASE("deploy: refusals come before anything runs or is written") {
    TempProject project({{"DB", ServiceType::database, "touch db.ran"}});
    Recorder recorder;
    CancelSignal cancel;
    DeployRequest request;
    request.environment_id = project.env_id;
    request.version = "bad\nversion";
    const State state = project.store.load();
    CHECK_THROWS_AS(deploy_environment(project.store, state, request, cancel, recorder), Error);
    CHECK(recorder.finished.empty());
    CHECK_FALSE(std::filesystem::exists(project.dir.path() / "db.ran"));
    CHECK(project.store.list_history(project.env_id).empty());
}

namespace {

// Like the CLI's progress: one lock around every callback, all of them writing to one
// stdout. Its first line of A's output blocks (a full pipe, a stopped pager) until
// a file that B's step writes exists.
class BlockedStdout : public DeployObserver {
public:
    explicit BlockedStdout(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    void step_started(const Plan&, std::size_t) override { std::lock_guard lock(m_mutex); }
    void step_finished(const Plan&, std::size_t, const StepReport&) override {
        std::lock_guard lock(m_mutex);
    }
    bool wants_output() const override { return true; }
    void step_output(const Plan& plan, std::size_t step, std::string_view) override {
        std::lock_guard lock(m_mutex);
        if (service_of(plan, step) != "A" || m_blocked) return;
        m_blocked = true;
        std::ofstream(m_dir / "a.blocked").put('\n');
        b_started_meanwhile = wait_for_file(m_dir / "b.started");
    }
    bool b_started_meanwhile = false;

private:
    std::filesystem::path m_dir;
    std::mutex m_mutex;
    bool m_blocked = false;
};

// Records starts and output lines in the order the observer is told them; a step's start
// is told only once the step has written its line and finished its command.
class SlowStart : public DeployObserver {
public:
    explicit SlowStart(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    void step_started(const Plan& plan, std::size_t step) override {
        const std::string name = service_of(plan, step);
        const bool said = wait_for_file(m_dir / (name + ".said"));
        std::lock_guard lock(m_mutex);
        told.push_back("start " + name + (said ? "" : " (its step never ran)"));
    }
    bool wants_output() const override { return true; }
    void step_output(const Plan& plan, std::size_t step, std::string_view line) override {
        std::lock_guard lock(m_mutex);
        told.push_back("output " + service_of(plan, step) + " " + std::string(line));
    }
    std::vector<std::string> told;

private:
    std::filesystem::path m_dir;
    std::mutex m_mutex;
};

// An observer that cannot show output (a closed terminal): it throws at the first line.
class RefusesOutput : public DeployObserver {
public:
    bool wants_output() const override { return true; }
    void step_output(const Plan&, std::size_t, std::string_view) override {
        throw std::runtime_error("terminal gone");
    }
};

}  // namespace

TEST_CASE("deploy: an observer blocked on a step's output holds up no other step") {
    // A, C and B share a stage; B depends on C, and C waits until A's output blocks. So B
    // can start only while the observer is blocked: were step starts held until the
    // observer was told (it waits for its lock), B would never start and the wait would
    // time out.
    TempProject project(
        {{"A", ServiceType::application, "echo from A"},
         {"C", ServiceType::application,
          "i=0; while [ ! -e a.blocked ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done"},
         {"B", ServiceType::application, "touch b.started"}});
    project.store.transact([&](State& s) {
        add_dependency(*s.find_environment_by_id(project.env_id), "B", "C",
                       EdgeCondition::completed);
    });
    BlockedStdout observer(project.dir.path());
    const DeployOutcome outcome = project.deploy("v1", observer);
    CHECK(observer.b_started_meanwhile);
    CHECK(outcome.exit_code == 0);
}

TEST_CASE("deploy: a step's output reaches the observer after its start, even when late") {
    // The step runs while its start is still being told (SlowStart waits for the step's
    // file); the line it wrote meanwhile is told after the start, not before.
    TempProject project(
        {{"A", ServiceType::application, "echo first; echo second; touch A.said; echo third"}});
    SlowStart observer(project.dir.path());
    const DeployOutcome outcome = project.deploy("v1", observer);
    CHECK(outcome.exit_code == 0);
    CHECK(observer.told == std::vector<std::string>{"start A", "output A first", "output A second",
                                                    "output A third"});
}

TEST_CASE("deploy: a step whose output the observer refuses fails with the exception's text") {
    TempProject project({{"A", ServiceType::application, "echo hello; sleep 0.2"}});
    RefusesOutput observer;
    const DeployOutcome outcome = project.deploy("v1", observer);
    CHECK(outcome.exit_code == 1);
    REQUIRE(outcome.record.failed_step);
    CHECK(outcome.record.failed_step->service == "A");
    CHECK(outcome.record.failed_step->error == "terminal gone");
}
