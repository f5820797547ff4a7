#include "util/heap.hpp"

#include <malloc.h>

namespace atlas_restored {

std::int64_t heap_in_use_bytes() {
    const struct mallinfo2 info = ::mallinfo2();
    return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

void release_free_heap() {
    ::malloc_trim(0);
}

}  // namespace atlas_restored
