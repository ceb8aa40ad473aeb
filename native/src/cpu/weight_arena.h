// weight_arena.h — where the CPU backend keeps one model's repacked weights (adopt_tensor): its
// copies carved one after another out of slabs of 2 MB-aligned memory advised as transparent huge
// pages (Linux's THP in its default "madvise" mode gives them only where asked).
//
// Why: a decode step streams every weight once per token; in huge pages that takes 512 times fewer
// TLB entries (opt-1.3b Q8_0 steps ~7% faster than in 4 KB pages). Each copy alone got huge pages
// only from 2 MB up, so an opt-125m matrix (0.3-2.4 MB in Q4_0/Q8_0) sat in 4 KB pages: a TLB miss
// every 4 KB, and the hardware prefetchers stop at each page's end. In slabs, the whole model
// streams through 2 MB pages (Zen 4, 2 threads, opt-125m-shape Q4_0 decode step, medians of 20
// alternated runs: 2.56 -> 2.21 ms; the suite's Java decode 412.6 -> 377.5 ms per 128 tokens).
// Copies of consecutive tensors lie end to end, so no copy pads a huge page of its own; the slack is
// one partly used huge page at the end of each slab.
#ifndef PANOPT_CPU_WEIGHT_ARENA_H
#define PANOPT_CPU_WEIGHT_ARENA_H

#include <cstddef>
#include <memory>
#include <mutex>

#include "../model.h"

namespace panopt {

class WeightArena final : public ModelResources {
public:
    static constexpr size_t kHuge = size_t(2) << 20;  // x86-64's huge page
    static constexpr size_t kSlab = size_t(64) << 20; // bytes per slab; a larger copy gets memory of its own
    static constexpr size_t kAlign = 64;              // every copy starts on a cache line

    // `bytes` of memory (kAlign-aligned, contents undefined) that lives as long as the returned
    // owner does, even past the arena: each owner keeps its slab. Throws std::bad_alloc. Thread-safe.
    std::shared_ptr<void> alloc(size_t bytes);

private:
    std::mutex mu_;
    std::shared_ptr<char> slab_; // the slab being filled (null before the first)
    size_t used_ = 0;            // its bytes handed out
};

} // namespace panopt

#endif
