#include "depctl/model.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl {

std::string_view to_string(ServiceType type) {
    switch (type) {
        case ServiceType::application:
            return "APPLICATION";
        case ServiceType::container:
            return "CONTAINER";
        case ServiceType::database:
            return "DATABASE";
        case ServiceType::job:
            return "JOB";
        case ServiceType::helm:
            return "HELM";
    }
    return "APPLICATION";
}

std::optional<ServiceType> parse_service_type(std::string_view text) {
    for (ServiceType type : k_service_types) {
        if (iequals(text, to_string(type))) return type;
    }
    return std::nullopt;
}

std::string_view to_string(EnvironmentType type) {
    switch (type) {
        case EnvironmentType::development:
            return "development";
        case EnvironmentType::staging:
            return "staging";
        case EnvironmentType::production:
            return "production";
    }
    return "development";
}

std::optional<EnvironmentType> parse_environment_type(std::string_view text) {
    for (auto type :
         {EnvironmentType::development, EnvironmentType::staging, EnvironmentType::production}) {
        if (iequals(text, to_string(type))) return type;
    }
    return std::nullopt;
}

std::string_view to_string(EdgeCondition condition) {
    switch (condition) {
        case EdgeCondition::healthy:
            return "healthy";
        case EdgeCondition::started:
            return "started";
        case EdgeCondition::completed:
            return "completed";
    }
    return "healthy";
}

std::optional<EdgeCondition> parse_edge_condition(std::string_view text) {
    for (EdgeCondition condition : k_edge_conditions) {
        if (iequals(text, to_string(condition))) return condition;
    }
    return std::nullopt;
}

std::string_view to_string(VersionFrom from) {
    return from == VersionFrom::git_tree ? "git-tree" : "project";
}

std::optional<VersionFrom> parse_version_from(std::string_view text) {
    for (VersionFrom from : {VersionFrom::project, VersionFrom::git_tree}) {
        if (iequals(text, to_string(from))) return from;
    }
    return std::nullopt;
}

const Stage* Environment::find_stage_by_id(std::string_view wanted) const {
    for (const auto& stage : stages) {
        if (stage.id == wanted) return &stage;
    }
    return nullptr;
}

const Service* Environment::find_service_by_id(std::string_view wanted) const {
    for (const auto& service : services) {
        if (service.id == wanted) return &service;
    }
    return nullptr;
}

Service* Environment::find_service_by_id(std::string_view wanted) {
    for (auto& service : services) {
        if (service.id == wanted) return &service;
    }
    return nullptr;
}

std::size_t Environment::stage_index(std::string_view stage_id) const {
    for (std::size_t i = 0; i < stages.size(); ++i) {
        if (stages[i].id == stage_id) return i;
    }
    return std::string::npos;
}

const Environment* State::find_environment_by_id(std::string_view id) const {
    for (const auto& env : environments) {
        if (env.id == id) return &env;
    }
    return nullptr;
}

Environment* State::find_environment_by_id(std::string_view id) {
    for (auto& env : environments) {
        if (env.id == id) return &env;
    }
    return nullptr;
}

const Environment* State::find_environment_by_name(std::string_view name) const {
    for (const auto& env : environments) {
        if (iequals(env.name, name)) return &env;
    }
    return nullptr;
}

std::string new_id(std::string_view prefix) {
    // 64 random bits: collisions within one project are not a practical concern.
    static thread_local std::mt19937_64 generator{[] {
        std::random_device device;
        return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
               static_cast<std::uint64_t>(::getpid());
    }()};
    static const char* k_alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::uint64_t bits = generator();
    std::string id(prefix);
    for (int i = 0; i < 12; ++i) {
        id += k_alphabet[bits % 36];
        bits /= 36;
    }
    return id;
}

}  // namespace depctl
