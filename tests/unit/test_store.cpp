#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/file_store.hpp"
#include "depctl/pipeline.hpp"
#include "test_support.hpp"
#include "util/files.hpp"

using namespace depctl;

TEST_CASE("file store: initialize, transact, load round trip") {
    testing::TempDir dir;
    FileStore store(dir.path() / ".depctl" / "state.json", {});
    store.initialize(new_state("demo"));
    CHECK_THROWS_AS(store.initialize(new_state("again")), Error);
    store.transact([](State& s) {
        create_environment(s, {"dev", EnvironmentType::development, std::nullopt});
    });
    const State loaded = store.load();
    REQUIRE(loaded.environments.size() == 1);
    CHECK(loaded.environments.front().stages.size() == 4);
    struct stat info {};
    REQUIRE(::stat((dir.path() / ".depctl" / "state.json").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir.path() / ".depctl").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    CHECK(store.project_dir() == dir.path());
}

TEST_CASE("file store: a throwing or invalid change writes nothing") {
    testing::TempDir dir;
    const auto path = dir.path() / "state.json";
    FileStore store(path, {});
    store.initialize(new_state("demo"));
    const auto before = read_file(path);
    CHECK_THROWS(store.transact([](State& s) {
        create_environment(s, {"dev", EnvironmentType::development, std::nullopt});
        throw Error(ErrorKind::Refused, "no");
    }));
    CHECK_THROWS(store.transact([](State& s) { s.project.name = ""; }));
    CHECK(read_file(path) == before);
}

TEST_CASE("file store: the state lock times out with Busy") {
    testing::TempDir dir;
    const auto path = dir.path() / "state.json";
    FileStore store(path, {std::chrono::milliseconds(50)});
    store.initialize(new_state("demo"));
    // flock locks belong to open file descriptions, so a second open conflicts even in-process.
    FileLock held = FileLock::acquire(dir.path() / "state.lock", std::nullopt);
    REQUIRE(held.locked());
    try {
        store.transact([](State&) {});
        FAIL("no Busy error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Busy);
    }
}

TEST_CASE("file store: environment lock names its holder") {
    testing::TempDir dir;
    FileStore store(dir.path() / "state.json", {});
    store.initialize(new_state("demo"));
    LockHolder me = LockHolder::current_process("deploy");
    me.deployment_id = "dep_1";
    {
        auto lock = store.lock_environment("env_a", me, LockWait::no);
        const auto holder = store.environment_lock_holder("env_a");
        REQUIRE(holder);
        CHECK(holder->pid == me.pid);
        CHECK(holder->deployment_id == "dep_1");
        try {
            store.lock_environment("env_a", me, LockWait::no);
            FAIL("second lock granted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::Busy);
            CHECK(std::string(e.what()).find("dep_1") != std::string::npos);
        }
    }
    CHECK_FALSE(store.environment_lock_holder("env_a"));
}

TEST_CASE("file store: history keeps a valid prefix after a torn record") {
    testing::TempDir dir;
    FileStore store(dir.path() / "state.json", {});
    store.initialize(new_state("demo"));
    store.append_history("env_a", {{"id", "dep_1"}});
    store.append_history("env_a", {{"id", "dep_2"}});
    {
        std::ofstream torn(dir.path() / "history" / "env_a.jsonl", std::ios::app);
        torn << R"({"id": "dep_3", "sta)";
    }
    const auto records = store.list_history("env_a");
    REQUIRE(records.size() == 2);
    CHECK(records[1]["id"] == "dep_2");
    CHECK(store.list_history("env_none").empty());
}

TEST_CASE("file store: a torn record does not swallow the record appended after it") {
    // A writer killed in the middle of a record leaves a line without its end.
    testing::TempDir dir;
    FileStore store(dir.path() / "state.json", {});
    store.initialize(new_state("demo"));
    store.append_history("env_a", {{"id", "dep_1"}});
    {
        std::ofstream torn(dir.path() / "history" / "env_a.jsonl", std::ios::app);
        torn << R"({"id": "dep_2", "sta)";
    }
    store.append_history("env_a", {{"id", "dep_3"}});
    const auto records = store.list_history("env_a");
    REQUIRE(records.size() == 2);
    CHECK(records[0]["id"] == "dep_1");
    CHECK(records[1]["id"] == "dep_3");
}

TEST_CASE("atomic write removes the temp files of writers that died, not of live ones") {
    testing::TempDir dir;
    const auto state = dir.path() / "state.json";
    const auto dead = dir.path() / "state.json.tmp.999999999.42";  // above any pid_max
    const auto live = dir.path() / ("state.json.tmp." + std::to_string(::getpid()) + ".7");
    const auto other = dir.path() / "other.json.tmp.999999999.1";
    for (const auto& path : {dead, live, other}) std::ofstream(path) << "partial";
    write_file_atomic(state, "new\n");
    CHECK(std::filesystem::exists(state));
    CHECK_FALSE(std::filesystem::exists(dead));
    CHECK(std::filesystem::exists(live));
    CHECK(std::filesystem::exists(other));
}

TEST_CASE("file store: a history query keeps the newest matching records, oldest first") {
    testing::TempDir dir;
    FileStore store(dir.path() / "state.json", {});
    store.initialize(new_state("demo"));
    for (int i = 1; i <= 5; ++i) {
        store.append_history(
            "env_a", {{"id", "dep_" + std::to_string(i)}, {"version", i % 2 ? "odd" : "even"}});
    }
    {
        std::ofstream torn(dir.path() / "history" / "env_a.jsonl", std::ios::app);
        torn << "not json\n"
             << R"({"id": "dep_6", "version": "odd"})";  // a bad line, then a torn one
    }
    auto ids = [](const std::vector<nlohmann::json>& records) {
        std::vector<std::string> out;
        for (const auto& r : records) out.push_back(r["id"]);
        return out;
    };
    CHECK(ids(store.query_history("env_a", {})) ==
          std::vector<std::string>{"dep_1", "dep_2", "dep_3", "dep_4", "dep_5"});
    CHECK(ids(store.query_history("env_a", {{}, 2})) == std::vector<std::string>{"dep_4", "dep_5"});
    CHECK(ids(store.query_history("env_a", {R"("version":"odd")", 0})) ==
          std::vector<std::string>{"dep_1", "dep_3", "dep_5"});
    CHECK(ids(store.query_history("env_a", {R"("version":"odd")", 2})) ==
          std::vector<std::string>{"dep_3", "dep_5"});
    CHECK(store.query_history("env_none", {{}, 3}).empty());
}

TEST_CASE("state parsing rejects corrupt documents with Store errors") {
    const std::string good = serialize_state(new_state("demo"));
    CHECK(parse_state(good, "x").project.name == "demo");
    for (const std::string& bad :
         {std::string("{"), std::string("[]"), std::string(""), good.substr(0, good.size() / 2),
          std::string(R"({"schema_version": 99, "project": {}})")}) {
        try {
            parse_state(bad, "x");
            FAIL("accepted: " << bad);
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::Corrupt);
        }
    }
}
