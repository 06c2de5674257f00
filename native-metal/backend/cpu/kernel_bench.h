// Single-thread rates of the CPU backend's matmul kernels, for `npm run bench -- kernels`.
// Timed in the thread's own CPU time (best of several runs), so on a machine shared with other
// jobs the time this thread was descheduled does not count; each cold rate is next to a
// streaming read of the same buffer on the same thread, timed the same way.
#pragma once

#include <string>
#include <vector>

namespace k2 {

struct KernelRate {
  std::string name;
  double bytes = 0;    // weight bytes read per run
  double macs = 0;     // multiply-adds per run
  double seconds = 0;  // best thread CPU time of one run
  bool cold = false;   // weights far larger than the caches (streamed from memory)
};

// reps: timed runs per kernel (the best counts); isa: a kernel tier (cpu_kernels_named), empty
// for the default one. Throws std::invalid_argument for reps < 1 or a tier this CPU cannot run.
std::vector<KernelRate> bench_cpu_kernels(int reps, const std::string& isa);

}  // namespace k2
