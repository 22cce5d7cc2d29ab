// DeploymentRecord::from_json on numbers of the wrong kind: a history line is data from
// disk (or etcd), so a float, an out-of-range or a fractional number in an integer field is
// refused as a corrupt record, never converted (1e300 to an integer is undefined behaviour;
// fuzz_history found it).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/record.hpp"

namespace {

nlohmann::json record_with(const char* key, const nlohmann::json& value) {
    nlohmann::json j = {{"id", "dep_a"},
                        {"operation", "deploy"},
                        {"project", "p"},
                        {"environment_id", "env_x"},
                        {"environment", "dev"},
                        {"status", "DEPLOYED"},
                        {"stages", nlohmann::json::array()}};
    j[key] = value;
    return j;
}

}  // namespace

TEST_CASE("a record's integer fields refuse floats and numbers out of range") {
    using depctl::DeploymentRecord;
    for (const auto& bad : {nlohmann::json(1e300), nlohmann::json(-1e300), nlohmann::json(1.5),
                            nlohmann::json(std::uint64_t{18446744073709551615ULL})}) {
        CAPTURE(bad.dump());
        CHECK_THROWS_AS(DeploymentRecord::from_json(record_with("pid", bad)), depctl::Error);
        CHECK_THROWS_AS(DeploymentRecord::from_json(record_with("duration_ms", bad)),
                        depctl::Error);
    }
    CHECK_THROWS_AS(DeploymentRecord::from_json(record_with("parallelism", 4294967296LL)),
                    depctl::Error);
}

TEST_CASE("a record's integer fields read every value in range") {
    using depctl::DeploymentRecord;
    CHECK(DeploymentRecord::from_json(record_with("pid", 4242)).pid == 4242);
    CHECK(DeploymentRecord::from_json(record_with("duration_ms", -5)).duration_ms == -5);
    CHECK(DeploymentRecord::from_json(record_with("parallelism", 2147483647)).parallelism ==
          2147483647);
    const auto big = std::int64_t{9223372036854775807LL};
    CHECK(DeploymentRecord::from_json(record_with("pid", big)).pid == big);
}
