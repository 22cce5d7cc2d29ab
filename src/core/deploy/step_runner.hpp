// Runs one planned step: its command through run_process with the DEPCTL_* variables, its
// output into its log file (and to the observer when it follows), health attempts.
#pragma once

#include <filesystem>
#include <string>

#include "depctl/deploy_types.hpp"
#include "depctl/plan.hpp"
#include "util/cancel.hpp"

namespace depctl {

class StepGuard;

struct StepRunContext {
    std::string project;
    std::string environment;
    std::string deployment_id;
    std::string version;
    std::filesystem::path project_dir;
    std::filesystem::path log_dir;  // this deployment's log directory
    std::chrono::milliseconds grace{10000};
    // Resolved secrets per planned service (empty for builds), and every value to mask.
    std::vector<std::vector<std::pair<std::string, std::string>>> secrets;
    std::vector<std::string> mask;
    // Variables that are the sources of secrets (env:VAR): never inherited by any step,
    // so a secret reaches only the steps it is meant for, under its own key.
    std::vector<std::string> scrub;
    // The deployment's steps' guard (util/step_guard.hpp), which holds the environment's
    // steps lock (deploy/interrupted.hpp) while any step runs; null: no guard.
    StepGuard* guard = nullptr;
    std::int64_t fencing_token = 0;  // DEPCTL_FENCING_TOKEN
};

inline constexpr int k_default_build_timeout_s = 1800;
inline constexpr int k_default_deploy_timeout_s = 600;

class StepRunner {
public:
    StepRunner(const Plan& plan, StepRunContext context, DeployObserver& observer);
    StepReport run(std::size_t step, const CancelSignal& cancel);
    // A project-level command (pre-deploy / post-deploy hook), run in the project directory.
    StepReport run_hook(const std::string& name, const std::string& command,
                        const CancelSignal& cancel);

private:
    StepReport run_command(std::size_t step, const std::string& command,
                           const std::filesystem::path& workdir,
                           std::vector<std::pair<std::string, std::string>> env,
                           std::chrono::milliseconds timeout, const std::filesystem::path& log_path,
                           const CancelSignal& cancel);
    StepReport run_health(std::size_t step, const CancelSignal& cancel);
    StepReport run_with_retries(std::size_t step, const std::string& command, StepKind kind,
                                std::chrono::milliseconds timeout, const CancelSignal& cancel);
    std::filesystem::path workdir_of(const Service& service) const;
    std::vector<std::pair<std::string, std::string>> variables(const PlannedService& ps,
                                                               StepKind kind) const;
    std::filesystem::path log_path(const PlannedService& ps, StepKind kind) const;

    const Plan& m_plan;
    StepRunContext m_context;
    DeployObserver& m_observer;
};

}  // namespace depctl
