// The emulated Metal device: launches run synchronously on the CPU harness (shaders/emu), so
// sync() has nothing to wait for and memory is plain host memory.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "backend/metal_dispatch/metal_device.h"
#include "emu/emu_runtime.h"

namespace k2 {

namespace {

class EmuDevice : public MetalDevice {
 public:
  std::string name() const override { return "metal-emu (Metal kernels on the CPU harness)"; }

  void* alloc(size_t bytes) override {
    constexpr size_t kAlign = 16384;
    const size_t rounded = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
    void* p = std::aligned_alloc(kAlign, rounded);
    if (!p) throw std::runtime_error("metal-emu: out of memory allocating " + std::to_string(bytes) + " bytes");
    std::memset(p, 0, rounded);
    return p;
  }
  void free(void* p) override { std::free(p); }

  void launch(const KernelLaunch& l) override {
    const msl_emu::KernelInfo* k = msl_emu::find_kernel(l.kernel);
    if (!k) throw std::invalid_argument(std::string("metal-emu: no kernel named ") + l.kernel);
    if (k->n_buffers != l.n_buffers + 1)
      throw std::invalid_argument(std::string("metal-emu: ") + l.kernel + " takes " + std::to_string(k->n_buffers) +
                                  " buffers, launch binds " + std::to_string(l.n_buffers + 1));
    // The parameter struct is copied like setBytes does, so the caller's may go out of scope.
    args_.assign(static_cast<const unsigned char*>(l.args), static_cast<const unsigned char*>(l.args) + l.args_bytes);
    bufs_.assign(1, args_.data());
    for (int i = 0; i < l.n_buffers; i++) bufs_.push_back(const_cast<void*>(l.buffers[i]));
    msl_emu::Dispatch d;
    d.kernel = k;
    d.buffers = bufs_.data();
    for (int i = 0; i < 3; i++) d.grid[i] = l.grid[i];
    d.threads = l.threads;
    d.schedule = msl_emu::device_schedule();
    msl_emu::run_dispatch(d);
  }

  void sync() override {}

 private:
  std::vector<unsigned char> args_;
  std::vector<void*> bufs_;
};

}  // namespace

std::unique_ptr<MetalDevice> make_emu_device() { return std::make_unique<EmuDevice>(); }

}  // namespace k2
