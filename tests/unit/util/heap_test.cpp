#include "util/heap.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace atlas_restored {
namespace {

TEST(HeapInUse, FollowsAllocationsAndFrees) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer has its own allocator: glibc's figures do not see it";
#endif
    const auto before = heap_in_use_bytes();
    EXPECT_GT(before, 0);
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 64; ++i) {
        blocks.push_back(std::make_unique<char[]>(16 * 1024));  // 1 MiB in small blocks
        blocks.back()[0] = 1;
    }
    const auto holding = heap_in_use_bytes();
    EXPECT_GE(holding - before, 1024 * 1024);
    blocks.clear();
    release_free_heap();
    EXPECT_LT(heap_in_use_bytes() - before, 64 * 1024);
}

}  // namespace
}  // namespace atlas_restored
