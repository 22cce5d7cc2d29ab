// depctl's entry point; everything else is in depctl_main.cpp.
#include "depctl_main.hpp"
#include "huge_page_heap.hpp"
#include "util/step_guard.hpp"

int main(int argc, char** argv) {
    // depctl is also the guard of its own steps (util/step_guard.cpp): nothing else to set up.
    if (depctl::is_step_guard_call(argc, argv)) return depctl::step_guard_main(argc, argv);
    depctl::enable_step_guard();
    depctl::cli::use_huge_page_heap();
    return depctl_main(argc, argv);
}
