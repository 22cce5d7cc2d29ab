// The file store's --wait queue (DESIGN §9 "Queue"): order, dead tickets, --wait=newest.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

#include "core/store/file_queue.hpp"
#include "test_support.hpp"

using namespace depctl;
namespace fs = std::filesystem;

namespace {

LockHolder waiter(const std::string& id) {
    LockHolder me = LockHolder::current_process("deploy");
    me.deployment_id = id;
    return me;
}

FileQueueTicket join(const fs::path& dir, const std::string& id, bool newest = false) {
    return FileQueueTicket::join(dir, waiter(id), newest, std::chrono::milliseconds(1000));
}

std::size_t files_in(const fs::path& dir) {
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        count += entry.path().filename() != "counter";
    return count;
}

}  // namespace

TEST_CASE("file queue: first come, first served; leaving lets the next one up") {
    testing::TempDir tmp;
    const fs::path dir = tmp.path() / "env_a.queue";
    CHECK(queued_waiters(dir) == 0);  // no queue yet
    std::optional<FileQueueTicket> first(join(dir, "dep_1"));
    const FileQueueTicket second = join(dir, "dep_2");
    const FileQueueTicket third = join(dir, "dep_3");
    CHECK(first->ahead() == 0);
    CHECK(second.ahead() == 1);
    CHECK(third.ahead() == 2);
    CHECK(queued_waiters(dir) == 3);
    first.reset();
    CHECK(second.ahead() == 0);
    CHECK(third.ahead() == 1);
    CHECK(files_in(dir) == 2);
}

TEST_CASE("file queue: a ticket whose flock is free is a dead waiter's, removed") {
    testing::TempDir tmp;
    const fs::path dir = tmp.path() / "env_a.queue";
    const FileQueueTicket mine = join(dir, "dep_1");
    // A dead waiter ahead of everyone: a ticket nobody holds, numbered before ours.
    const int fd =
        ::open((dir / "00000000000000000000-1.wait").c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    CHECK(mine.ahead() == 0);
    CHECK_FALSE(fs::exists(dir / "00000000000000000000-1.wait"));
}

TEST_CASE("file queue: --wait=newest replaces the older newest waiters only") {
    testing::TempDir tmp;
    const fs::path dir = tmp.path() / "env_a.queue";
    const FileQueueTicket old_newest = join(dir, "dep_1", true);
    const FileQueueTicket plain = join(dir, "dep_2");
    CHECK_FALSE(old_newest.superseded_by());
    const FileQueueTicket newest = join(dir, "dep_3", true);
    const auto by = old_newest.superseded_by();
    REQUIRE(by);
    CHECK(by->deployment_id == "dep_3");
    CHECK_FALSE(plain.superseded_by());
    CHECK_FALSE(newest.superseded_by());
    CHECK(plain.ahead() == 0);  // the replaced waiter no longer counts
    CHECK(newest.ahead() == 1);
    CHECK(queued_waiters(dir) == 2);
}

TEST_CASE("file queue: a link in place of the queue directory is refused") {
    testing::TempDir tmp;
    fs::create_directory(tmp.path() / "elsewhere");
    fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "env_a.queue");
    CHECK_THROWS(join(tmp.path() / "env_a.queue", "dep_1"));
    CHECK(fs::is_empty(tmp.path() / "elsewhere"));
}
