#pragma once
// The process heap as the C library (glibc) sees it: what is allocated, and giving back what was
// freed. A daemon that runs for months frees and allocates in patterns that leave free memory
// inside the heap, which glibc keeps; the resident size then creeps up with no object leaked
// (docs/reliability.md, "Soak").

#include <cstdint>

namespace atlas_restored {

// Bytes handed out by malloc and not freed yet, mmap'ed blocks included (mallinfo2).
std::int64_t heap_in_use_bytes();

// Returns free heap pages to the kernel (malloc_trim(0)): cheap for a heap of a few MiB; called
// when a run ends.
void release_free_heap();

}  // namespace atlas_restored
