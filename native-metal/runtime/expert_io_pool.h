// Threads that run expert reads so many requests are in flight at once (an SSD reaches its
// bandwidth only with a deep queue) while the forward pass keeps computing. Unlike the compute
// ThreadPool these threads sleep in the kernel on I/O, so there may be more of them than cores.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace k2 {

class IoPool {
 public:
  explicit IoPool(int n_threads);
  // Runs the tasks already queued, then joins.
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Tasks must not throw (they report their own errors).
  void submit(std::function<void()> task);
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace k2
