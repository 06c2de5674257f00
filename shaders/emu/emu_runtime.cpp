// Fiber scheduler of the MSL-on-CPU harness (see emu_runtime.h for the rules it enforces).
//
// Switching: a fiber is entered the first time through makecontext/setcontext and from then on
// with _setjmp/_longjmp, which (unlike swapcontext) make no signal-mask system call; fibers are
// kept per host thread and loop over kernel invocations, so a dispatch costs no system calls.
// _FORTIFY_SOURCE's longjmp check rejects jumps between stacks, hence the #undef.
#undef _FORTIFY_SOURCE
#if defined(__APPLE__)
// macOS declares the (deprecated, still working) ucontext calls only under _XOPEN_SOURCE, which
// in turn hides MAP_ANONYMOUS unless _DARWIN_C_SOURCE is also set.
#define _XOPEN_SOURCE 600
#define _DARWIN_C_SOURCE
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
#endif
#include "emu_runtime.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace msl_emu {

namespace {

std::map<std::string, KernelInfo>& registry() {
  static std::map<std::string, KernelInfo> r;
  return r;
}

constexpr size_t kStackBytes = 128 * 1024;

enum class State { runnable, waiting_barrier, waiting_simd, exited };

struct Fiber {
  State state = State::runnable;
  ThreadPos pos;
  const char* what = "";
  const char* file = "";
  int line = 0;
  int op_parity = 0;   // slot table of this lane's last collective
  int64_t op_gen = -1; // generation of that collective in its simdgroup
};

struct SimdGroup {
  unsigned char slots[2][kSimdWidth][kSlotBytes];
  uint32_t mask[2] = {0, 0};
  int64_t gen = 0;
  alignas(16) unsigned char shared[2][kSharedResultBytes];
  int64_t shared_gen[2] = {-1, -1};
};

// One fiber's stack and saved context; persistent per host thread.
struct Worker {
  void* stack = nullptr;
  ucontext_t init;
  jmp_buf jb;
  bool started = false;  // false: next resume enters the trampoline afresh
};

void trampoline(int idx);

struct Workers {
  std::vector<std::unique_ptr<Worker>> w;
  ~Workers() {
    for (auto& x : w) munmap(x->stack, kStackBytes);
  }
  Worker& get(size_t i) {
    while (w.size() <= i) {
      auto x = std::make_unique<Worker>();
      x->stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (x->stack == MAP_FAILED) throw EmuError("metal-emu: cannot map a fiber stack");
      w.push_back(std::move(x));
    }
    return *w[i];
  }
  // After an aborted dispatch the fibers' stacks hold half-run kernels: start them afresh.
  void reset() {
    for (auto& x : w) x->started = false;
  }
};

struct Run {
  const Dispatch* d = nullptr;
  std::vector<Fiber> fibers;
  std::vector<SimdGroup> simd;
  int current = -1;
};

thread_local Run* g_run = nullptr;
thread_local Workers g_workers;
thread_local jmp_buf g_sched;

void to_scheduler(int idx) {
  if (_setjmp(g_workers.get(idx).jb) == 0) _longjmp(g_sched, 1);
}

void trampoline(int idx) {
  for (;;) {
    Run* r = g_run;
    Fiber& f = r->fibers[idx];
    r->d->kernel->entry(r->d->buffers, f.pos);
    f.state = State::exited;
    to_scheduler(idx);  // resumed for the next threadgroup or dispatch
  }
}

void resume(Run& r, int t) {
  Worker& w = g_workers.get(t);
  r.current = t;
  if (_setjmp(g_sched) == 0) {
    if (!w.started) {
      w.started = true;
      getcontext(&w.init);
      w.init.uc_stack.ss_sp = w.stack;
      w.init.uc_stack.ss_size = kStackBytes;
      w.init.uc_link = nullptr;
      makecontext(&w.init, reinterpret_cast<void (*)()>(&trampoline), 1, t);
      setcontext(&w.init);
    }
    _longjmp(w.jb, 1);
  }
  r.current = -1;
}

std::string where(const Run& r, const Fiber& f) {
  return std::string(r.d->kernel->name) + " threadgroup (" + std::to_string(f.pos.tg[0]) + "," + std::to_string(f.pos.tg[1]) + "," +
         std::to_string(f.pos.tg[2]) + ")";
}

std::string site(const Fiber& f) { return std::string(f.what) + " at " + f.file + ":" + std::to_string(f.line); }

bool same_site(const Fiber& a, const Fiber& b) {
  return a.line == b.line && std::strcmp(a.file, b.file) == 0 && std::strcmp(a.what, b.what) == 0;
}

// Lists thread ids as ranges: "0-15, 17".
std::string ranges(const std::vector<int>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) j++;
    if (!s.empty()) s += ", ";
    s += std::to_string(ids[i]);
    if (j > i) s += "-" + std::to_string(ids[j]);
    i = j + 1;
  }
  return s;
}

std::string describe_states(const Run& r) {
  std::map<std::string, std::vector<int>> by;
  for (const Fiber& f : r.fibers) {
    std::string k = f.state == State::exited ? std::string("returned") : site(f);
    by[k].push_back(f.pos.tid);
  }
  std::string s;
  for (auto& [k, ids] : by) s += "\n  threads " + ranges(ids) + ": " + k;
  return s;
}

// Releases the simdgroups whose live lanes all wait at the same collective. Returns whether any did.
bool release_simd(Run& r) {
  bool released = false;
  const int n = static_cast<int>(r.fibers.size());
  for (int s = 0; s * kSimdWidth < n; s++) {
    const int l0 = s * kSimdWidth, l1 = std::min(n, l0 + kSimdWidth);
    const Fiber* first = nullptr;
    bool all = true, any = false;
    for (int t = l0; t < l1; t++) {
      const Fiber& f = r.fibers[t];
      if (f.state == State::exited) continue;
      any = true;
      if (f.state != State::waiting_simd) {
        all = false;
        break;
      }
      if (!first) {
        first = &f;
      } else if (!same_site(*first, f)) {
        throw EmuError("metal-emu: divergent simdgroup collectives in " + where(r, f) + ", simdgroup " + std::to_string(s) +
                       ": lane " + std::to_string(first->pos.lane) + " is at " + site(*first) + " but lane " +
                       std::to_string(f.pos.lane) + " is at " + site(f) + describe_states(r));
      }
    }
    if (!any || !all || !first) continue;
    SimdGroup& g = r.simd[s];
    uint32_t mask = 0;
    for (int t = l0; t < l1; t++)
      if (r.fibers[t].state != State::exited) mask |= 1u << (t - l0);
    g.mask[g.gen & 1] = mask;
    g.gen++;
    for (int t = l0; t < l1; t++)
      if (r.fibers[t].state == State::waiting_simd) r.fibers[t].state = State::runnable;
    released = true;
  }
  return released;
}

void release_barrier(Run& r) {
  const Fiber* first = nullptr;
  int exited = 0, waiting = 0;
  for (const Fiber& f : r.fibers) {
    if (f.state == State::exited) {
      exited++;
    } else if (f.state == State::waiting_barrier) {
      waiting++;
      if (!first) first = &f;
      else if (!same_site(*first, f))
        throw EmuError("metal-emu: threads of " + where(r, f) + " wait at different barriers" + describe_states(r));
    }
  }
  if (waiting == 0 || waiting + exited != static_cast<int>(r.fibers.size()) || exited > 0) {
    if (waiting > 0 && waiting + exited == static_cast<int>(r.fibers.size()))
      throw EmuError("metal-emu: " + site(*first) + " in " + where(r, *first) + " reached by " + std::to_string(waiting) + " of " +
                     std::to_string(r.fibers.size()) + " threads; the others returned before it" + describe_states(r));
    throw EmuError("metal-emu: deadlock in " + where(r, r.fibers[0]) + ": no thread can continue" + describe_states(r));
  }
  for (Fiber& f : r.fibers) f.state = State::runnable;
}

void run_threadgroup(Run& r, uint32_t gx, uint32_t gy, uint32_t gz) {
  const int n = r.d->threads;
  for (int t = 0; t < n; t++) {
    Fiber& f = r.fibers[t];
    f.state = State::runnable;
    f.pos.tg[0] = gx;
    f.pos.tg[1] = gy;
    f.pos.tg[2] = gz;
    f.pos.tid = static_cast<uint16_t>(t);
    f.pos.ntg = static_cast<uint16_t>(n);
    f.pos.simd = static_cast<uint16_t>(t / kSimdWidth);
    f.pos.lane = static_cast<uint16_t>(t % kSimdWidth);
  }
  for (SimdGroup& g : r.simd) {
    g.gen = 0;
    g.shared_gen[0] = g.shared_gen[1] = -1;
  }
  const bool reverse = r.d->schedule == Schedule::reverse;
  for (;;) {
    for (int k = 0; k < n; k++) {
      const int t = reverse ? n - 1 - k : k;
      if (r.fibers[t].state != State::runnable) continue;
      resume(r, t);
    }
    bool done = true;
    for (const Fiber& f : r.fibers) done = done && f.state == State::exited;
    if (done) return;
    if (release_simd(r)) continue;
    release_barrier(r);
  }
}

Fiber& self() {
  if (!g_run || g_run->current < 0) throw EmuError("metal-emu: a kernel builtin was called outside a dispatch");
  return g_run->fibers[g_run->current];
}

void wait(Fiber& f, State s, const char* what, const char* file, int line) {
  f.state = s;
  f.what = what;
  f.file = file;
  f.line = line;
  to_scheduler(g_run->current);
}

std::atomic<int> g_device_schedule{static_cast<int>(Schedule::forward)};

}  // namespace

void set_device_schedule(Schedule s) { g_device_schedule = static_cast<int>(s); }
Schedule device_schedule() { return static_cast<Schedule>(g_device_schedule.load()); }

void register_kernel(const KernelInfo& k) { registry()[k.name] = k; }

const KernelInfo* find_kernel(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

const ThreadPos& current_pos() { return self().pos; }

void threadgroup_barrier_at(const char* file, int line) { wait(self(), State::waiting_barrier, "threadgroup_barrier", file, line); }

const unsigned char* simd_exchange(const void* value, size_t bytes, const char* what, const char* file, int line, uint32_t* active_mask) {
  Fiber& f = self();
  SimdGroup& g = g_run->simd[f.pos.simd];
  const int parity = static_cast<int>(g.gen & 1);
  f.op_parity = parity;
  f.op_gen = g.gen;
  std::memcpy(g.slots[parity][f.pos.lane], value, bytes);
  wait(f, State::waiting_simd, what, file, line);
  // Released: every live lane deposited; the mask (lanes that had not returned) was fixed then.
  *active_mask = g.mask[parity];
  return &g.slots[parity][0][0];
}

unsigned char* simd_shared_result(bool* first) {
  Fiber& f = self();
  SimdGroup& g = g_run->simd[f.pos.simd];
  *first = g.shared_gen[f.op_parity] != f.op_gen;
  g.shared_gen[f.op_parity] = f.op_gen;
  return g.shared[f.op_parity];
}

void run_dispatch(const Dispatch& d) {
  if (!d.kernel) throw EmuError("metal-emu: dispatch without a kernel");
  if (d.threads < 1 || d.threads > kMaxThreadsPerThreadgroup)
    throw EmuError(std::string("metal-emu: ") + d.kernel->name + ": " + std::to_string(d.threads) + " threads per threadgroup (1.." +
                   std::to_string(kMaxThreadsPerThreadgroup) + ")");
  if (g_run) throw EmuError("metal-emu: nested dispatch");
  Run r;
  r.d = &d;
  r.fibers.resize(d.threads);
  r.simd.resize((d.threads + kSimdWidth - 1) / kSimdWidth);
  g_run = &r;
  try {
    for (uint32_t z = 0; z < d.grid[2]; z++)
      for (uint32_t y = 0; y < d.grid[1]; y++)
        for (uint32_t x = 0; x < d.grid[0]; x++) run_threadgroup(r, x, y, z);
  } catch (...) {
    g_run = nullptr;
    g_workers.reset();
    throw;
  }
  g_run = nullptr;
}

}  // namespace msl_emu
