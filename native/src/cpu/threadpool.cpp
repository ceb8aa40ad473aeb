#include "threadpool.h"

#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#define PANOPT_PAUSE() _mm_pause()
#else
#define PANOPT_PAUSE() ((void)0)
#endif

namespace panopt {

int online_cpus() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

ThreadPool::ThreadPool(int n_threads) : n_(n_threads < 1 ? 1 : n_threads) {
    threads_.reserve(n_ - 1);
    for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_.store(true);
        gen_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::chunk(int id, int64_t n, int parts, ChunkFn fn, void* ctx) {
    if (id >= parts) return;
    int64_t b = n * id / parts, e = n * (id + 1) / parts;
    if (b < e) fn(ctx, b, e, id);
}

void ThreadPool::run(int64_t n, ChunkFn fn, void* ctx) {
    if (n <= 0) return;
    int parts = (int)(n < n_ ? n : n_);
    if (parts == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    job_n_ = n;
    job_parts_ = parts;
    job_fn_ = fn;
    job_ctx_ = ctx;
    pending_.store(n_ - 1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lk(mu_);
        gen_.fetch_add(1, std::memory_order_release);
    }
    if (sleepers_.load(std::memory_order_acquire) > 0) cv_.notify_all();
    chunk(0, n, parts, fn, ctx);
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; spins++) {
        if (spins < 2000) PANOPT_PAUSE();
        else std::this_thread::yield();
    }
}

void ThreadPool::worker(int id) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = gen_.load(std::memory_order_acquire)) == seen) {
            if (++spins < 4000) {
                PANOPT_PAUSE();
                continue;
            }
            std::unique_lock<std::mutex> lk(mu_);
            sleepers_.fetch_add(1);
            cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
            sleepers_.fetch_sub(1);
            spins = 0;
        }
        seen = g;
        if (stop_.load()) return;
        chunk(id, job_n_, job_parts_, job_fn_, job_ctx_);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace panopt
