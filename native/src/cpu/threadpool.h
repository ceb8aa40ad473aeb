// threadpool.h — the CPU backend's one worker pool, shared by every session of every model on
// the backend. run() splits [0, n) into one contiguous range per thread (the caller runs range
// 0), so each thread streams its own part of a weight matrix, and each range into up to kSlices
// slices: a thread runs its own slices in order, then takes the slices of other ranges that no
// one has started yet (all but each range's first, which stays with its owner). On a shared
// machine one thread is often delayed (preempted, or a noisy neighbour on its core); the others
// then finish its work instead of spinning at the region's end. Parallel regions from concurrent
// callers queue up in arrival order and run one at a time, each on all threads: N sessions never
// mean N pools. Workers spin for up to 1 ms after a region (a forward issues many short ones,
// and a caller samples between decode steps) and then sleep on a condition variable.
#ifndef PANOPT_CPU_THREADPOOL_H
#define PANOPT_CPU_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace panopt {

class ThreadPool {
public:
    // n_threads threads run each region: n_threads - 1 workers plus the calling thread.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_; }

    // fn(ctx, begin, end, thread_index) for non-empty slices that cover [0, n) exactly once,
    // thread_index in [0, size()) naming the thread that runs the call (for per-thread scratch;
    // which slices a thread runs varies from call to call). Returns when every slice has
    // finished. If slices throw, the region still runs to its end on every thread and the first
    // exception is rethrown here, to the caller.
    typedef void (*ChunkFn)(void* ctx, int64_t begin, int64_t end, int tid);
    void run(int64_t n, ChunkFn fn, void* ctx);

    template <class F> void parallel_for(int64_t n, F&& f) {
        run(n, [](void* c, int64_t b, int64_t e, int t) { (*static_cast<F*>(c))(b, e, t); },
            const_cast<void*>(static_cast<const void*>(&f)));
    }

    // Regions run (of 2+ threads) and the time their callers spent in run() (the queue, their own
    // slices, the wait for the last thread), counted while timing is on: a diagnostic
    // (panopt_bench --split), off by default, and then one relaxed load per region.
    struct Timing {
        uint64_t regions = 0;
        uint64_t ns = 0;
    };
    void set_timing(bool on) { timing_.store(on, std::memory_order_relaxed); }
    Timing timing() const {
        return Timing{regions_.load(std::memory_order_relaxed), region_ns_.load(std::memory_order_relaxed)};
    }

private:
    void worker(int id);
    void slices(int id) noexcept;          // run range id's slices, then unclaimed ones of others
    void call(int64_t b, int64_t e, int id) noexcept; // fn on one slice, exceptions kept for run()
    bool claim(int range, int id) noexcept; // run the next unclaimed slice of a range; false: none left
    void acquire();
    void release();

    int n_;
    std::vector<std::thread> threads_;
    std::atomic<uint64_t> gen_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    std::atomic<int> sleepers_{0};
    static constexpr int kSlices = 8; // per range: the tail imbalance is at most 1/8 of a range
    struct alignas(64) Range {  // one cache line each: owners claim without false sharing
        int64_t begin = 0, len = 0, slice = 0; // slice length; the last slice may be shorter
        std::atomic<int64_t> next{0};          // next slice index to hand out
    };
    std::unique_ptr<Range[]> ranges_;          // n_ entries, set by run() before a region starts
    int job_parts_ = 0;
    ChunkFn job_fn_ = nullptr;
    void* job_ctx_ = nullptr;
    std::mutex mu_; // workers' sleep
    std::condition_variable cv_;
    // FIFO admission of regions (ticket lock): fair between concurrent sessions.
    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    uint64_t next_ticket_ = 0;
    uint64_t serving_ = 0;
    // First exception thrown by a chunk of the current region.
    std::mutex err_mu_;
    std::exception_ptr err_;
    std::atomic<bool> timing_{false};
    std::atomic<uint64_t> regions_{0}, region_ns_{0};
};

int online_cpus();

} // namespace panopt

#endif
