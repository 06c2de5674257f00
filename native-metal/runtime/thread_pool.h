// Persistent worker pool for the CPU backend. Decode runs ~100 small parallel regions per token,
// so workers spin briefly on a generation counter before sleeping: waking a sleeping thread costs
// tens of microseconds, more than many of those regions take.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace k2 {

class ThreadPool {
 public:
  // n_threads includes the calling thread, which always takes part in a region.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index) once on every thread (index 0 = caller) and returns when all finished.
  // The first exception thrown by any thread is rethrown on the caller.
  void run(const std::function<void(int)>& fn);

  // Splits [0, n) into one contiguous range per thread: fn(begin, end, thread_index).
  // Small n runs inline on the caller.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t min_per_thread = 1);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};
  std::mutex err_mu_;
  std::exception_ptr error_;
};

}  // namespace k2
