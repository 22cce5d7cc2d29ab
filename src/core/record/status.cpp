// The one table of status strings (see depctl/status.hpp).
#include "depctl/status.hpp"

#include <array>
#include <utility>

namespace depctl {
namespace {

template <typename Enum, std::size_t N>
using Table = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Table<DeploymentStatus, 10> k_deployment{{
    {DeploymentStatus::running, "RUNNING"},
    {DeploymentStatus::deployed, "DEPLOYED"},
    {DeploymentStatus::build_error, "BUILD_ERROR"},
    {DeploymentStatus::deployment_error, "DEPLOYMENT_ERROR"},
    {DeploymentStatus::canceled, "CANCELED"},
    {DeploymentStatus::stopped, "STOPPED"},
    {DeploymentStatus::stop_error, "STOP_ERROR"},
    {DeploymentStatus::rolled_back, "ROLLED_BACK"},
    {DeploymentStatus::interrupted, "INTERRUPTED"},
    {DeploymentStatus::lock_lost, "LOCK_LOST"},
}};

constexpr Table<StepStatus, 8> k_step{{
    {StepStatus::not_started, "NOT_STARTED"},
    {StepStatus::running, "RUNNING"},
    {StepStatus::succeeded, "SUCCEEDED"},
    {StepStatus::failed, "FAILED"},
    {StepStatus::timed_out, "TIMED_OUT"},
    {StepStatus::canceled, "CANCELED"},
    {StepStatus::skipped, "SKIPPED"},
    {StepStatus::reused, "REUSED"},
}};

constexpr Table<ServiceStatus, 12> k_service{{
    {ServiceStatus::never_deployed, "NEVER_DEPLOYED"},
    {ServiceStatus::not_started, "NOT_STARTED"},
    {ServiceStatus::deployed, "DEPLOYED"},
    {ServiceStatus::build_error, "BUILD_ERROR"},
    {ServiceStatus::deployment_error, "DEPLOYMENT_ERROR"},
    {ServiceStatus::failed, "FAILED"},
    {ServiceStatus::canceled, "CANCELED"},
    {ServiceStatus::stopped, "STOPPED"},
    {ServiceStatus::stop_error, "STOP_ERROR"},
    {ServiceStatus::rolled_back, "ROLLED_BACK"},
    {ServiceStatus::interrupted, "INTERRUPTED"},
    {ServiceStatus::lock_lost, "LOCK_LOST"},
}};

template <typename Enum, std::size_t N>
std::string_view name_in(const Table<Enum, N>& table, Enum value) {
    for (const auto& [e, text] : table)
        if (e == value) return text;
    return table.front().second;  // unreachable: every enumerator is in its table
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_in(const Table<Enum, N>& table, std::string_view text) {
    for (const auto& [e, name] : table)
        if (name == text) return e;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(DeploymentStatus status) {
    return name_in(k_deployment, status);
}
std::string_view to_string(StepStatus status) {
    return name_in(k_step, status);
}
std::string_view to_string(ServiceStatus status) {
    return name_in(k_service, status);
}

std::optional<DeploymentStatus> parse_deployment_status(std::string_view text) {
    return value_in(k_deployment, text);
}
std::optional<StepStatus> parse_step_status(std::string_view text) {
    return value_in(k_step, text);
}
std::optional<ServiceStatus> parse_service_status(std::string_view text) {
    return value_in(k_service, text);
}

ServiceStatus service_status_of(DeploymentStatus status) {
    // Same spelling by construction: the service table holds every deployment end state.
    return parse_service_status(to_string(status)).value_or(ServiceStatus::not_started);
}

}  // namespace depctl
