// depctl's entry point; everything else is in depctl_main.cpp.
#include "depctl_main.hpp"

int main(int argc, char** argv) {
    return depctl_main(argc, argv);
}
