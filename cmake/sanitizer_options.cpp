// Default options of the sanitizer runtimes, compiled into every executable of a
// DEPCTL_SANITIZE=ON or DEPCTL_FUZZ=ON tree, so that the tests, ctest, a hand-run binary
// and the steps' environment all see the same thing (ASAN_OPTIONS/UBSAN_OPTIONS still
// override them):
// - stop at the first finding and look for leaks at exit;
// - exit with 86, a code no depctl path uses: a black-box test that expects exit 1 (a
//   failed deployment) must not mistake a sanitizer finding for it.
// Through these functions rather than the environment because depctl passes its own
// environment on to every step: an ASAN_OPTIONS there would reach the steps too.

extern "C" {

__attribute__((used, visibility("default"))) const char* __asan_default_options() {
    return "halt_on_error=1:detect_leaks=1:exitcode=86:detect_stack_use_after_return=1:"
           "strict_string_checks=1:check_initialization_order=1";
}

__attribute__((used, visibility("default"))) const char* __lsan_default_options() {
    return "exitcode=86";
}

__attribute__((used, visibility("default"))) const char* __ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1:exitcode=86";
}
}
