#include "threadpool.h"

#include <pthread.h>
#include <cstdio>
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
    try {
        for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { worker(i); });
    } catch (...) {
        // could not start every worker: stop the ones that run, then report
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_.store(true);
            gen_.fetch_add(1);
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
        throw;
    }
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

void ThreadPool::chunk(int id, int64_t n, int parts, ChunkFn fn, void* ctx) noexcept {
    if (id >= parts) return;
    int64_t b = n * id / parts, e = n * (id + 1) / parts;
    if (b >= e) return;
    try {
        fn(ctx, b, e, id);
    } catch (...) {
        std::lock_guard<std::mutex> lk(err_mu_);
        if (!err_) err_ = std::current_exception();
    }
}

void ThreadPool::acquire() {
    std::unique_lock<std::mutex> lk(queue_mu_);
    const uint64_t ticket = next_ticket_++;
    queue_cv_.wait(lk, [&] { return serving_ == ticket; });
}

void ThreadPool::release() {
    {
        std::lock_guard<std::mutex> lk(queue_mu_);
        serving_++;
    }
    queue_cv_.notify_all();
}

void ThreadPool::run(int64_t n, ChunkFn fn, void* ctx) {
    if (n <= 0) return;
    int parts = (int)(n < n_ ? n : n_);
    if (parts == 1) {
        // runs on the caller alone: no shared state, no need to queue
        fn(ctx, 0, n, 0);
        return;
    }
    acquire();
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
    std::exception_ptr err;
    {
        std::lock_guard<std::mutex> lk(err_mu_);
        err.swap(err_);
    }
    release();
    if (err) std::rethrow_exception(err);
}

void ThreadPool::worker(int id) {
    // Named so that tools (and the concurrency benchmark) can count the pool's threads.
    char name[16];
    std::snprintf(name, sizeof name, "panopt-cpu-%d", id);
    pthread_setname_np(pthread_self(), name);
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
