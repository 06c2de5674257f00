#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define K2_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define K2_CPU_RELAX() asm volatile("yield")
#else
#define K2_CPU_RELAX() ((void)0)
#endif

namespace k2 {

namespace {
// How long an idle worker spins before sleeping: long enough to bridge the gaps between the ops
// of a decode step, short enough not to hold a core while the engine is idle.
constexpr auto kSpin = std::chrono::microseconds(500);
// Chunks per thread: enough to rebalance when a thread is slow or descheduled.
constexpr int64_t kChunksPerThread = 32;
constexpr int64_t kMaxChunks = 0xFFFF;

inline uint32_t gen_of(uint64_t c) { return static_cast<uint32_t>(c >> 32); }
inline uint64_t word(uint32_t gen) { return static_cast<uint64_t>(gen) << 32; }
// A run word: (generation << 32) | (end << 16) | begin.
inline int64_t run_end(uint64_t r) { return static_cast<int64_t>((r >> 16) & 0xFFFF); }
inline int64_t run_begin(uint64_t r) { return static_cast<int64_t>(r & 0xFFFF); }
inline uint64_t run_word(uint32_t gen, int64_t begin, int64_t end) {
  return (static_cast<uint64_t>(gen) << 32) | (static_cast<uint64_t>(end) << 16) | static_cast<uint64_t>(begin);
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)), runs_(std::max(1, n_threads)) {
  // Workers count generations from the one at construction, not from whenever their thread gets
  // to run: a worker starting after the destructor's stop generation (an engine whose load failed
  // is destroyed at once) would otherwise wait for yet another one, and join() would hang.
  const uint32_t start = gen_of(counter_.load());
  for (int i = 1; i < n_threads_; i++) workers_.emplace_back([this, i, start] { worker_loop(i, start); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    // A new generation that no run carries wakes every worker, which then sees stop_.
    counter_.store(word(gen_of(counter_.load()) + 1));
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t ThreadPool::claim(uint32_t gen, int thread_index) {
  // Own run, front first.
  std::atomic<uint64_t>& own = runs_[thread_index].word;
  uint64_t r = own.load(std::memory_order_acquire);
  while (gen_of(r) == gen && run_begin(r) < run_end(r)) {
    if (own.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return run_begin(r);
  }
  // Steal from the back of the longest run left (one chunk, then look again).
  for (;;) {
    int victim = -1;
    int64_t longest = 0;
    for (int t = 0; t < n_threads_; t++) {
      const uint64_t v = runs_[t].word.load(std::memory_order_acquire);
      if (gen_of(v) != gen) continue;
      if (run_end(v) - run_begin(v) > longest) {
        longest = run_end(v) - run_begin(v);
        victim = t;
      }
    }
    if (victim < 0) return -1;
    std::atomic<uint64_t>& w = runs_[victim].word;
    uint64_t v = w.load(std::memory_order_acquire);
    while (gen_of(v) == gen && run_begin(v) < run_end(v)) {
      const int64_t end = run_end(v) - 1;
      if (w.compare_exchange_weak(v, run_word(gen, run_begin(v), end), std::memory_order_acq_rel, std::memory_order_acquire)) return end;
    }
  }
}

void ThreadPool::work(uint32_t gen, int thread_index) {
  for (;;) {
    const int64_t chunk = claim(gen, thread_index);
    if (chunk < 0) return;
    // The claimed chunk belongs to the current job, which cannot change until done_ counts it.
    const int64_t chunks = chunks_;
    const int64_t begin = n_ * chunk / chunks, end = n_ * (chunk + 1) / chunks;
    try {
      (*fn_)(begin, end, thread_index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mu_);
      if (!error_) error_ = std::current_exception();
    }
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop(int index, uint32_t seen) {
  for (;;) {
    auto spin_until = std::chrono::steady_clock::now() + kSpin;
    int spins = 0;
    uint64_t c;
    while (gen_of(c = counter_.load(std::memory_order_acquire)) == seen) {
      K2_CPU_RELAX();
      if (++spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, [&] { return gen_of(counter_.load(std::memory_order_acquire)) != seen; });
        sleepers_.fetch_sub(1);
      }
    }
    seen = gen_of(c);
    if (stop_.load()) return;
    work(seen, index);
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t min_per_chunk) {
  if (n <= 0) return;
  const int64_t chunks = std::min<int64_t>(std::min<int64_t>(n_threads_ * kChunksPerThread, kMaxChunks),
                                           std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_chunk)));
  if (n_threads_ == 1 || chunks <= 1) {
    fn(0, n, 0);
    return;
  }
  fn_ = &fn;
  n_ = n;
  chunks_ = chunks;
  error_ = nullptr;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t gen = gen_of(counter_.load()) + 1;
  // Thread t starts with chunks [chunks·t/T, chunks·(t+1)/T). Written before the generation is
  // published below (release), so a worker that sees the new generation sees its run.
  for (int t = 0; t < n_threads_; t++)
    runs_[t].word.store(run_word(gen, chunks * t / n_threads_, chunks * (t + 1) / n_threads_), std::memory_order_relaxed);
  {
    // Publishing under the lock orders it against a worker that is about to sleep.
    std::lock_guard<std::mutex> lock(mu_);
    counter_.store(word(gen), std::memory_order_release);
  }
  if (sleepers_.load() > 0) cv_.notify_all();
  work(gen, 0);
  // Only chunks other threads claimed and are still running remain.
  int spins = 0;
  while (done_.load(std::memory_order_acquire) != chunks) {
    K2_CPU_RELAX();
    // If the thread holding the last chunk was descheduled, give it the core.
    if (++spins % 256 == 0) std::this_thread::yield();
  }
  fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  const int64_t n = n_threads_;
  if (n == 1) {
    fn(0);
    return;
  }
  // One item per chunk so each index runs exactly once.
  std::function<void(int64_t, int64_t, int)> each = [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; i++) fn(static_cast<int>(i));
  };
  parallel_for(n, each, 1);
}

}  // namespace k2
