// depctl's entry point; everything else is in depctl_main.cpp.
#include "depctl_main.hpp"
#include "huge_page_heap.hpp"

int main(int argc, char** argv) {
    depctl::cli::use_huge_page_heap();
    return depctl_main(argc, argv);
}
