#include "threadpool.h"

#include <pthread.h>
#include <chrono>
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

ThreadPool::ThreadPool(int n_threads) : n_(n_threads < 1 ? 1 : n_threads), ranges_(new Range[n_]) {
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

void ThreadPool::call(int64_t b, int64_t e, int id) noexcept {
    try {
        job_fn_(job_ctx_, b, e, id);
    } catch (...) {
        std::lock_guard<std::mutex> lk(err_mu_);
        if (!err_) err_ = std::current_exception();
    }
}

bool ThreadPool::claim(int range, int id) noexcept {
    Range& r = ranges_[range];
    // relaxed: the slice's bounds were published by run()'s release of gen_, read before this
    const int64_t i = r.next.fetch_add(1, std::memory_order_relaxed);
    const int64_t b = i * r.slice;
    if (b >= r.len) return false;
    const int64_t e = b + r.slice < r.len ? b + r.slice : r.len;
    call(r.begin + b, r.begin + e, id);
    return true;
}

void ThreadPool::slices(int id) noexcept {
    if (id >= job_parts_) return;
    Range& own = ranges_[id];
    // slice 0 is the owner's alone (next starts at 1): every thread with a range runs part of it
    call(own.begin, own.begin + (own.slice < own.len ? own.slice : own.len), id);
    for (int k = 0; k < job_parts_; k++) // the rest of its own range, then the others' in turn
        while (claim((id + k) % job_parts_, id)) {
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
    const bool timed = timing_.load(std::memory_order_relaxed);
    const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    acquire();
    job_parts_ = parts;
    for (int i = 0; i < parts; i++) {
        Range& r = ranges_[i];
        r.begin = n * i / parts;
        r.len = n * (i + 1) / parts - r.begin;
        const int64_t k = r.len < kSlices ? r.len : kSlices;
        r.slice = (r.len + k - 1) / k;
        r.next.store(1, std::memory_order_relaxed);
    }
    job_fn_ = fn;
    job_ctx_ = ctx;
    pending_.store(n_ - 1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lk(mu_);
        gen_.fetch_add(1, std::memory_order_release);
    }
    if (sleepers_.load(std::memory_order_acquire) > 0) cv_.notify_all();
    slices(0);
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
    if (timed) {
        regions_.fetch_add(1, std::memory_order_relaxed);
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
        region_ns_.fetch_add((uint64_t)ns.count(), std::memory_order_relaxed);
    }
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
        // Spin for kSpin after a region, then sleep. By time, not a count of pauses: a PAUSE takes
        // ~27 ns on Zen 4 and several times that on other cores. Between two decode steps the
        // caller's own work (sampling from the logits, its next request) often outlasts 100 us; 4000
        // pauses (~107 us here) then put the worker to sleep every token, and the next step's first
        // region waited for its wake-up. Decode through the Java API with ~1 ms of spinning (JMH,
        // opt-125m, alternated runs, ms per 128 tokens): Q4_0 392 -> 344 and 444 -> 380 (one set of 6
        // within noise, 356 -> 362), Q8_0 634 -> 583.
        constexpr auto kSpin = std::chrono::microseconds(1000);
        auto since = std::chrono::steady_clock::now();
        int spins = 0;
        while ((g = gen_.load(std::memory_order_acquire)) == seen) {
            // the clock read once per 64 pauses: a few ns per ~2 us of spinning
            if ((++spins & 63) != 0 || std::chrono::steady_clock::now() - since < kSpin) {
                PANOPT_PAUSE();
                continue;
            }
            std::unique_lock<std::mutex> lk(mu_);
            sleepers_.fetch_add(1);
            cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
            sleepers_.fetch_sub(1);
            since = std::chrono::steady_clock::now();
        }
        seen = g;
        if (stop_.load()) return;
        slices(id);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace panopt
