// The deploy engine through its core API (deploy.cpp), without the CLI: a file store in a
// temp directory, real processes, and an observer that records what it is told.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
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

    DeployOutcome deploy(const std::string& version, Recorder& recorder) {
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
