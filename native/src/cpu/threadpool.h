// threadpool.h — the CPU backend's one worker pool, shared by every session of every model on
// the backend. run() splits [0, n) into one contiguous chunk per thread (the caller runs chunk
// 0), so each thread streams its own part of a weight matrix. Parallel regions from concurrent
// callers queue up in arrival order and run one at a time, each on all threads: N sessions never
// mean N pools. Workers spin briefly between regions (a forward issues many short ones) and
// then sleep on a condition variable.
#ifndef PANOPT_CPU_THREADPOOL_H
#define PANOPT_CPU_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
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

    // fn(ctx, begin, end, thread_index) for each non-empty chunk of [0, n), thread_index in
    // [0, size()). Returns when every chunk has finished. If chunks throw, the region still runs
    // to its end on every thread and the first exception is rethrown here, to the caller.
    typedef void (*ChunkFn)(void* ctx, int64_t begin, int64_t end, int tid);
    void run(int64_t n, ChunkFn fn, void* ctx);

    template <class F> void parallel_for(int64_t n, F&& f) {
        run(n, [](void* c, int64_t b, int64_t e, int t) { (*static_cast<F*>(c))(b, e, t); },
            const_cast<void*>(static_cast<const void*>(&f)));
    }

private:
    void worker(int id);
    void chunk(int id, int64_t n, int parts, ChunkFn fn, void* ctx) noexcept;
    void acquire();
    void release();

    int n_;
    std::vector<std::thread> threads_;
    std::atomic<uint64_t> gen_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    std::atomic<int> sleepers_{0};
    int64_t job_n_ = 0;
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
};

int online_cpus();

} // namespace panopt

#endif
