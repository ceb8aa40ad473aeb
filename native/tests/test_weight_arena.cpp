// test_weight_arena.cpp — the CPU backend's memory for repacked weights (cpu/weight_arena.h): every
// copy aligned, none overlapping, small ones end to end in one slab, large ones alone, and every
// copy usable after the arena is gone (the model drops it at finalize). Run under the sanitizers'
// builds, a copy freed too early or written past its end is reported there too.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/weight_arena.h"
#include "test_util.h"

using panopt::WeightArena;

void test_weight_arena() {
    // odd sizes; two of half a slab (the second does not fit the first slab's rest: a new slab);
    // one larger than half a slab (alone)
    const size_t half = WeightArena::kSlab / 2;
    const size_t sizes[] = {1, 63, 64, 65, 4097, 777, half - 5, half - 5, half + 1, 100};
    std::vector<std::shared_ptr<void>> copies;
    {
        WeightArena arena;
        for (size_t s : sizes) copies.push_back(arena.alloc(s));
    } // the arena is gone; the copies keep their slabs
    const size_t n = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < n; i++) {
        const auto a = reinterpret_cast<uintptr_t>(copies[i].get());
        T_CHECK(a % WeightArena::kAlign == 0, "copy %zu at %#zx is not %zu-byte aligned", i, (size_t)a, WeightArena::kAlign);
        std::memset(copies[i].get(), (int)(i + 1), sizes[i]); // every byte of every copy is writable
    }
    for (size_t i = 0; i < n; i++) { // and none overlaps another: each still holds its own bytes
        const auto* p = static_cast<const unsigned char*>(copies[i].get());
        bool own = true;
        for (size_t j = 0; j < sizes[i]; j++) own = own && p[j] == (unsigned char)(i + 1);
        T_CHECK(own, "copy %zu (%zu bytes) was overwritten", i, sizes[i]);
    }
    auto at = [&](size_t i) { return reinterpret_cast<uintptr_t>(copies[i].get()); };
    // end to end: each small copy right after the one before (sizes rounded up to kAlign)
    T_CHECK(at(1) == at(0) + 64 && at(2) == at(1) + 64 && at(3) == at(2) + 64 && at(4) == at(3) + 128,
            "small copies are not end to end");
    // the first copy of a slab starts on a huge page
    T_CHECK(at(0) % WeightArena::kHuge == 0, "a slab does not start on a 2 MB boundary");
    T_CHECK(at(6) == at(5) + 832, "half a slab did not follow in the first slab");
    // the second half slab no longer fits the first: a new slab, on a huge page
    T_CHECK(at(7) % WeightArena::kHuge == 0 && at(7) != at(6) + half, "a copy that did not fit was not given a new slab");
    // larger than half a slab: memory of its own on a huge page, and the slab goes on after it
    T_CHECK(at(8) % WeightArena::kHuge == 0, "a large copy is not on a 2 MB boundary");
    T_CHECK(at(9) == at(7) + half, "the slab did not go on after a large copy");
    copies.clear(); // frees the slabs (the sanitizers' builds check that nothing leaks)
}
