// depctl-step-guard: the parent of every deployment step (util/step_guard.cpp). A program
// of its own, linked statically from two small util files, because each step pays one
// exec of it: depctl itself is a hundred megabytes with debug information.
#include "util/step_guard.hpp"

int main(int argc, char** argv) {
    return depctl::step_guard_main(argc, argv);
}
