// Why: a short-lived CLI spends most of its time in page faults once the state is big. Loading a
// 1,000-service state touches about 2.5 MB of fresh heap, 600+ faults of 4 KiB; in some VMs a
// fault costs 15-30 us, so `stage list` paid ~10 ms for them alone. One 2 MiB huge page replaces
// 512 of those faults. glibc can do this itself (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) but
// only when set before exec, and its heap start is not 2 MiB aligned, so the first — and for a
// CLI the only — 2 MiB of allocations would still get small pages.
#include "huge_page_heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iterator>

namespace depctl::cli {
namespace {

constexpr std::uintptr_t k_huge_page = std::uintptr_t(2) << 20;
constexpr std::size_t k_heap_step = std::size_t(8) << 20;

std::uintptr_t program_break() {
    return reinterpret_cast<std::uintptr_t>(::sbrk(0));
}

}  // namespace

void use_huge_page_heap() noexcept {
    // malloc has run before main (static initialisers), so the heap exists. Move the break to
    // one page below the next 2 MiB boundary: glibc treats the gap as another program's sbrk
    // and starts its next growth there. The gap is never touched, so it costs no memory. The
    // page below the boundary takes malloc's own headers, written before the madvise below;
    // a 2 MiB block with one small page in it could never become a huge page.
    const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t start = program_break();
    const std::uintptr_t boundary = (start + page + k_huge_page - 1) & ~(k_huge_page - 1);
    if (::sbrk(static_cast<intptr_t>(boundary - page - start)) == reinterpret_cast<void*>(-1))
        return;
    // Grow 8 MiB at a time from here, keep big buffers (a state file) on the heap rather than
    // in mappings of their own, and do not give the top back in between.
    ::mallopt(M_TOP_PAD, static_cast<int>(k_heap_step));
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
    // Make malloc grow the heap now, from boundary - page: use up what is left of the old heap
    // in small blocks. The block that triggers the growth is carved at boundary - page, and
    // being small, it and the header after it stay below the boundary.
    void* blocks[256];
    std::size_t taken = 0;
    while (taken < std::size(blocks) && program_break() == boundary - page) {
        blocks[taken] = std::malloc(2048);
        if (blocks[taken] == nullptr) break;
        ++taken;
    }
    for (std::size_t i = 0; i < taken; ++i) std::free(blocks[i]);
    const std::uintptr_t end = program_break() & ~(k_huge_page - 1);
    if (end <= boundary) return;
    ::madvise(reinterpret_cast<void*>(boundary), end - boundary, MADV_HUGEPAGE);
}

}  // namespace depctl::cli
