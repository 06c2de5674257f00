// The real Metal device (macOS, Apple Silicon), through metal-cpp. Built only on macOS
// (gyp_sources.mjs skips backend/metal elsewhere); it cannot be compiled or run on Linux, where
// the same dispatch layer runs on metal_emu instead. What it does:
//   - memory: alloc() = shared-storage MTLBuffers (unified memory: host and GPU see one copy);
//     register_host_memory() wraps the mmapped checkpoint shards and expert-cache slots without a
//     copy (newBufferWithBytesNoCopy over the page-aligned range containing them);
//   - a pointer is bound as (the MTLBuffer whose range contains it, offset);
//   - pipelines: one MTLComputePipelineState per kernel name, created on first use from the
//     k2_kernels.metallib built by native-metal/build_metal_library.mjs (or, without Xcode's
//     metal compiler, from the amalgamated source compiled at start-up, fast math off);
//   - launches are encoded into one compute encoder of the current command buffer (serial
//     dispatch, so each launch sees the previous one's writes); sync() commits it and waits.
#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/metal_dispatch/metal_device.h"

namespace k2 {

namespace {

NS::String* ns(const std::string& s) { return NS::String::string(s.c_str(), NS::UTF8StringEncoding); }

std::string describe(NS::Error* e) {
  return e && e->localizedDescription() ? e->localizedDescription()->utf8String() : std::string("unknown error");
}

// Directory of this addon (build/Release), where the build puts k2_kernels.metallib / .metal.
std::string addon_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<const void*>(&addon_dir), &info) == 0 || !info.dli_fname) return ".";
  std::string p = info.dli_fname;
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

bool file_exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// metal-cpp returns some objects autoreleased (strings, command buffers, encoders); the engine
// calls in from worker threads that have no pool of their own, so every entry point drains one.
struct LocalPool {
  NS::AutoreleasePool* p = NS::AutoreleasePool::alloc()->init();
  ~LocalPool() { p->release(); }
};

class MtlDevice : public MetalDevice {
 public:
  MtlDevice() {
    LocalPool pool;
    dev_ = MTL::CreateSystemDefaultDevice();
    if (!dev_) throw std::runtime_error("metal: no Metal device (K2_BACKEND=metal needs an Apple Silicon Mac)");
    if (!dev_->hasUnifiedMemory()) throw std::runtime_error("metal: the device has no unified memory; use K2_BACKEND=cpu");
    queue_ = dev_->newCommandQueue();
    if (!queue_) throw std::runtime_error("metal: cannot create a command queue");
    page_ = static_cast<size_t>(getpagesize());
    load_library();
  }

  ~MtlDevice() override {
    try {
      sync();
    } catch (...) {
      // Destruction cannot report; a failed command buffer was already reported by the last sync().
    }
    for (auto& [name, p] : pipelines_) p->release();
    for (auto& [base, r] : ranges_) r.buffer->release();
    if (lib_) lib_->release();
    queue_->release();
    dev_->release();
  }

  std::string name() const override {
    LocalPool pool;
    return std::string("metal (") + dev_->name()->utf8String() + ")";
  }

  void* alloc(size_t bytes) override {
    const size_t len = round_up(std::max<size_t>(bytes, 1));
    MTL::Buffer* b = dev_->newBuffer(len, MTL::ResourceStorageModeShared);
    if (!b) throw std::runtime_error("metal: cannot allocate a buffer of " + std::to_string(bytes) + " bytes");
    void* p = b->contents();
    std::lock_guard<std::mutex> lock(mu_);
    ranges_[reinterpret_cast<uintptr_t>(p)] = Range{b, len, true};
    return p;
  }

  void free(void* p) override {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ranges_.find(reinterpret_cast<uintptr_t>(p));
    if (it == ranges_.end() || !it->second.owned) throw std::invalid_argument("metal: free() of memory alloc() did not return");
    // A launch still in flight may read it: the caller syncs before freeing (K2Model frees at teardown).
    it->second.buffer->release();
    ranges_.erase(it);
  }

  void register_host_memory(const void* base, size_t bytes) override {
    // newBufferWithBytesNoCopy needs a page-aligned start and length inside one VM region; an
    // mmapped shard or cache arena is one region, so widening to whole pages stays inside it.
    const uintptr_t start = reinterpret_cast<uintptr_t>(base) / page_ * page_;
    const size_t len = round_up(reinterpret_cast<uintptr_t>(base) + bytes - start);
    // A range larger than one MTLBuffer may be is wrapped in overlapping chunks: a pointer is
    // bound in the chunk it falls in the first `stride` bytes of, so at least kChunkOverlap bytes
    // (more than K2's largest tensor, the 2.3 GB embedding) follow it in that buffer.
    const size_t max_len = dev_->maxBufferLength() / page_ * page_;
    if (len > max_len && max_len <= kChunkOverlap)
      throw std::runtime_error("metal: the device's largest buffer (" + std::to_string(max_len) + " bytes) cannot hold a tensor");
    const size_t stride = len > max_len ? max_len - kChunkOverlap : len;
    std::vector<uintptr_t> starts;
    for (size_t off = 0; off < len; off += stride) {
      const size_t n = std::min(len - off, max_len);
      MTL::Buffer* b = dev_->newBuffer(reinterpret_cast<void*>(start + off), n, MTL::ResourceStorageModeShared, nullptr);
      if (!b) throw std::runtime_error("metal: cannot wrap " + std::to_string(n) + " bytes of mapped memory without a copy");
      std::lock_guard<std::mutex> lock(mu_);
      const bool last = off + n >= len;
      ranges_[start + off] = Range{b, last ? n : stride, false};
      starts.push_back(start + off);
      if (off + n >= len) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    registered_[reinterpret_cast<uintptr_t>(base)] = starts;
  }

  void unregister_host_memory(const void* base) override {
    sync();  // no launch may still read it
    std::lock_guard<std::mutex> lock(mu_);
    auto it = registered_.find(reinterpret_cast<uintptr_t>(base));
    if (it == registered_.end()) return;
    for (uintptr_t start : it->second) {
      auto r = ranges_.find(start);
      if (r == ranges_.end()) continue;
      r->second.buffer->release();
      ranges_.erase(r);
    }
    registered_.erase(it);
  }

  void launch(const KernelLaunch& l) override {
    LocalPool pool;
    MTL::ComputePipelineState* pso = pipeline(l.kernel);
    if (l.threads > static_cast<int>(pso->maxTotalThreadsPerThreadgroup()))
      throw std::runtime_error(std::string("metal: ") + l.kernel + " needs " + std::to_string(l.threads) +
                               " threads per threadgroup, the pipeline allows " + std::to_string(pso->maxTotalThreadsPerThreadgroup()));
    MTL::ComputeCommandEncoder* enc = encoder();
    enc->setComputePipelineState(pso);
    enc->setBytes(l.args, l.args_bytes, 0);
    for (int i = 0; i < l.n_buffers; i++) {
      if (!l.buffers[i]) {
        enc->setBuffer(nullptr, 0, i + 1);
        continue;
      }
      size_t offset = 0;
      MTL::Buffer* b = find(l.buffers[i], &offset);
      if (!b)
        throw std::invalid_argument(std::string("metal: ") + l.kernel + " buffer(" + std::to_string(i + 1) +
                                    ") points outside every allocated or registered range");
      enc->setBuffer(b, offset, i + 1);
    }
    enc->dispatchThreadgroups(MTL::Size(l.grid[0], l.grid[1], l.grid[2]), MTL::Size(l.threads, 1, 1));
  }

  void sync() override {
    if (!cmd_) return;
    LocalPool pool;
    enc_->endEncoding();
    enc_->release();
    cmd_->commit();
    cmd_->waitUntilCompleted();
    const bool failed = cmd_->status() == MTL::CommandBufferStatusError;
    const std::string why = failed ? describe(cmd_->error()) : "";
    cmd_->release();
    cmd_ = nullptr;
    enc_ = nullptr;
    if (failed) throw std::runtime_error("metal: command buffer failed: " + why);
  }

 private:
  struct Range {
    MTL::Buffer* buffer;
    size_t length;  // bytes bound through this buffer (a chunk's stride; the overlap is extra)
    bool owned;     // from alloc()
  };
  static constexpr size_t kChunkOverlap = size_t(4) << 30;

  size_t round_up(size_t n) const { return (n + page_ - 1) / page_ * page_; }

  MTL::Buffer* find(const void* p, size_t* offset) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ranges_.upper_bound(a);
    if (it == ranges_.begin()) return nullptr;
    --it;
    if (a >= it->first + it->second.length) return nullptr;
    *offset = a - it->first;
    return it->second.buffer;
  }

  MTL::ComputeCommandEncoder* encoder() {
    if (!cmd_) {
      cmd_ = queue_->commandBuffer();
      if (!cmd_) throw std::runtime_error("metal: cannot create a command buffer");
      cmd_->retain();
      enc_ = cmd_->computeCommandEncoder();
      if (!enc_) throw std::runtime_error("metal: cannot create a compute encoder");
      enc_->retain();
    }
    return enc_;
  }

  void load_library() {
    const char* env = std::getenv("K2_METAL_LIBRARY");
    const std::string dir = addon_dir();
    const std::string lib_path = env && *env ? env : dir + "/k2_kernels.metallib";
    NS::Error* err = nullptr;
    if (lib_path.size() > 9 && lib_path.compare(lib_path.size() - 9, 9, ".metallib") == 0 && file_exists(lib_path)) {
      lib_ = dev_->newLibrary(ns(lib_path), &err);
      if (!lib_) throw std::runtime_error("metal: cannot load " + lib_path + ": " + describe(err));
      return;
    }
    const std::string src_path = env && *env ? env : dir + "/k2_kernels.metal";
    std::ifstream in(src_path);
    if (!in)
      throw std::runtime_error("metal: neither " + lib_path + " nor " + src_path +
                               " exists; run node native-metal/build_metal_library.mjs (npm run build does)");
    std::stringstream ss;
    ss << in.rdbuf();
    MTL::CompileOptions* opts = MTL::CompileOptions::alloc()->init();
    opts->setFastMathEnabled(false);  // the kernels are verified against f32 references
    opts->setLanguageVersion(MTL::LanguageVersion3_0);
    lib_ = dev_->newLibrary(ns(ss.str()), opts, &err);
    opts->release();
    if (!lib_) throw std::runtime_error("metal: compiling " + src_path + " failed: " + describe(err));
  }

  MTL::ComputePipelineState* pipeline(const char* kernel) {
    auto it = pipelines_.find(kernel);
    if (it != pipelines_.end()) return it->second;
    MTL::Function* fn = lib_->newFunction(ns(kernel));
    if (!fn) throw std::invalid_argument(std::string("metal: the kernel library has no function ") + kernel);
    NS::Error* err = nullptr;
    MTL::ComputePipelineState* pso = dev_->newComputePipelineState(fn, &err);
    fn->release();
    if (!pso) throw std::runtime_error(std::string("metal: pipeline for ") + kernel + ": " + describe(err));
    pipelines_[kernel] = pso;
    return pso;
  }

  MTL::Device* dev_ = nullptr;
  MTL::CommandQueue* queue_ = nullptr;
  MTL::Library* lib_ = nullptr;
  MTL::CommandBuffer* cmd_ = nullptr;
  MTL::ComputeCommandEncoder* enc_ = nullptr;
  size_t page_ = 16384;
  std::mutex mu_;
  std::map<uintptr_t, Range> ranges_;                    // start -> buffer over [start, start + length)
  std::unordered_map<uintptr_t, std::vector<uintptr_t>> registered_;  // registered base -> its chunks' starts
  std::unordered_map<std::string, MTL::ComputePipelineState*> pipelines_;
};

}  // namespace

std::unique_ptr<MetalDevice> make_mtl_device() { return std::make_unique<MtlDevice>(); }

}  // namespace k2
