// Persistent worker pool for the CPU backend. Decode runs ~100 small parallel regions per token,
// so workers spin briefly before sleeping: waking a sleeping thread costs tens of microseconds,
// more than many of those regions take.
//
// Work is handed out in chunks claimed from one atomic counter, and the caller works too. On a
// machine shared with other processes a descheduled worker therefore only delays the chunk it
// already claimed; everything else is picked up by whoever is running.
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

  // (generation << 32) | (chunk count << 16) | next unclaimed chunk. Everything a claim is checked
  // against lives in this one word: a worker claims with compare-exchange only while the
  // generation matches and chunks remain, so a late worker never takes a chunk of another job.
  std::atomic<uint64_t> counter_{0};
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
