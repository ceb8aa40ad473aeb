#include "weight_arena.h"

#include <cstdlib>
#include <new>
#include <sys/mman.h>

namespace panopt {

namespace {

// `size` bytes at a 2 MB boundary, their whole huge pages advised as THP (advice only: failing is
// harmless, the memory then stays in small pages).
char* huge_alloc(size_t size) {
    void* p = nullptr; // posix_memalign: unlike aligned_alloc, the size need not be a multiple of the alignment
    if (posix_memalign(&p, WeightArena::kHuge, size) != 0) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (size >= WeightArena::kHuge) madvise(p, size / WeightArena::kHuge * WeightArena::kHuge, MADV_HUGEPAGE);
#endif
    return static_cast<char*>(p);
}

} // namespace

std::shared_ptr<void> WeightArena::alloc(size_t bytes) {
    const size_t size = (bytes + kAlign - 1) / kAlign * kAlign;
    if (size > kSlab / 2) // alone (its tail past the last whole huge page in small pages), not half a slab wasted
        return std::shared_ptr<void>(huge_alloc(size), free);
    std::lock_guard<std::mutex> lk(mu_);
    if (!slab_ || kSlab - used_ < size) {
        slab_ = std::shared_ptr<char>(huge_alloc(kSlab), free); // the last slab lives on through its copies
        used_ = 0;
    }
    void* p = slab_.get() + used_;
    used_ += size;
    return std::shared_ptr<void>(slab_, p); // shares the slab's ownership
}

} // namespace panopt
