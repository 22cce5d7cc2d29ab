// Backs the start of the heap with transparent huge pages, so loading a big state costs a few
// page faults instead of hundreds (docs/performance.md, "Page faults").
#pragma once

namespace depctl::cli {

// Aligns the program break to 2 MiB, makes malloc grow the heap 8 MiB at a time, and asks the
// kernel for huge pages there (MADV_HUGEPAGE). Best effort: on any failure, or where the
// kernel offers no huge pages, malloc works as before. Call first thing in main, once.
void use_huge_page_heap() noexcept;

}  // namespace depctl::cli
