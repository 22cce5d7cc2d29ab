// The whole command line: parse, run, and turn every error into a message and an exit code.
// main() only calls this; the command-line fuzz target calls it in process.
#pragma once

int depctl_main(int argc, char** argv);
