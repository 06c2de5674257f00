#include "runtime/expert_io_pool.h"

#include <stdexcept>
#include <string>

namespace k2 {

IoPool::IoPool(int n_threads) {
  if (n_threads < 1) throw std::invalid_argument("io pool: need at least one thread, got " + std::to_string(n_threads));
  for (int i = 0; i < n_threads; i++) threads_.emplace_back([this] { loop(); });
}

IoPool::~IoPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void IoPool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void IoPool::loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace k2
