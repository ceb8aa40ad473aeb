package dev.panopt;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The calling thread plus a bounded pool of {@code threads - 1} daemon threads, sharing out the
 * chunks of one job at a time (weight conversion while loading). Owned by one loading thread;
 * {@link #close()} stops the pool.
 */
final class RowWorkers implements AutoCloseable {
    private static final AtomicInteger POOLS = new AtomicInteger();

    /** A thread's share of a job: converts chunks (returning the source bytes each covered), then frees its scratch. */
    interface Task extends AutoCloseable {
        long run(long chunk);

        @Override
        void close();
    }

    private final int threads;
    private final ExecutorService pool;

    /** @param threads threads per job, the calling thread included; at least 1 */
    RowWorkers(int threads) {
        this.threads = Math.max(1, threads);
        if (this.threads > 1) {
            int id = POOLS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(this.threads - 1, r -> {
                Thread t = new Thread(r, "panopt-load-" + id + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        } else {
            this.pool = null;
        }
    }

    /**
     * Runs chunks {@code 0..chunks-1}, each exactly once, on up to {@code threads} threads, each
     * thread with its own task from {@code newTask}. Returns when every chunk is done and every
     * helper has finished (also when one failed: no helper is left writing); rethrows the first
     * failure. {@code progress} gets the source bytes done so far, on the calling thread, after each
     * chunk that thread ran. Waiting is not interruptible; an interrupt is kept for the caller.
     */
    void run(long chunks, Supplier<Task> newTask, LongConsumer progress) {
        AtomicLong next = new AtomicLong();
        AtomicLong doneBytes = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable loop = () -> {
            try (Task task = newTask.get()) {
                long c;
                while (failure.get() == null && (c = next.getAndIncrement()) < chunks) {
                    doneBytes.addAndGet(task.run(c));
                }
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
            }
        };
        int helpers = (int) Math.min(threads - 1, Math.max(0, chunks - 1));
        List<Future<?>> running = new ArrayList<>(helpers);
        for (int i = 0; i < helpers; i++) {
            running.add(pool.submit(loop));
        }
        try (Task task = newTask.get()) {
            long c;
            while (failure.get() == null && (c = next.getAndIncrement()) < chunks) {
                doneBytes.addAndGet(task.run(c));
                progress.accept(doneBytes.get());
            }
        } catch (RuntimeException | Error e) {
            failure.compareAndSet(null, e);
        } finally {
            awaitAll(running, failure);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    private static void awaitAll(List<Future<?>> running, AtomicReference<Throwable> failure) {
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    failure.compareAndSet(null, e.getCause());
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
