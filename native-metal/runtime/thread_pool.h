// Persistent worker pool for the CPU backend. Decode runs ~100 small parallel regions per token,
// so workers spin briefly before sleeping: waking a sleeping thread costs tens of microseconds,
// more than many of those regions take.
//
// Work is cut into chunks and each thread (the caller too) starts with a contiguous run of them,
// which it takes front to back: in decode every chunk is a run of weight rows, so each thread
// streams one long stretch of memory. A thread that runs out steals single chunks from the back of
// the longest run left. On a machine shared with other processes a descheduled worker therefore
// only delays the chunk it holds; everything else is picked up by whoever is running.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace k2 {

class ThreadPool {
 public:
  // n_threads includes the calling thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Splits [0, n) into contiguous chunks of at least min_per_chunk items and runs
  // fn(begin, end, thread_index) on each, across the pool. Returns when all chunks finished;
  // the first exception thrown by a chunk is rethrown here. Small n runs inline.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t min_per_chunk = 1);

  // fn(i) for i in [0, size()), one call each, spread over the pool.
  void run(const std::function<void(int)>& fn);

 private:
  void worker_loop(int index, uint32_t seen);
  // Claims and runs chunks of generation `gen` until none are left.
  void work(uint32_t gen, int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;

  // Claims a chunk of generation `gen`: from the front of this thread's own run, else from the
  // back of the longest other run. -1 when none is left.
  int64_t claim(uint32_t gen, int thread_index);

  // generation << 32: publishes a job (its chunks are in runs_); workers wait for it to change.
  std::atomic<uint64_t> counter_{0};
  // Each thread's run of unclaimed chunks, (generation << 32) | (end << 16) | begin, on its own
  // cache line. Every claim is a compare-exchange that checks the generation, so a late worker
  // never takes a chunk of another job.
  struct alignas(64) Run {
    std::atomic<uint64_t> word{0};
  };
  std::vector<Run> runs_;
  int64_t chunks_ = 0;
  std::atomic<int64_t> done_{0};
  // The current job; written before the generation is published, stable until all its chunks are done.
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0;

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};
  std::mutex err_mu_;
  std::exception_ptr error_;
};

}  // namespace k2
