#include "model/weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace k2 {

namespace {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::BF16: return "BF16";
    case DType::F32: return "F32";
    case DType::I32: return "I32";
  }
  return "?";
}

size_t dtype_size(DType d) { return d == DType::BF16 ? 2 : 4; }

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(path + ": cannot stat: " + std::strerror(e));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error(path + ": cannot mmap " + std::to_string(size_) + " bytes: " + std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file referenced
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

const uint8_t* Weights::tensor(const LoadPlan& plan, const std::string& name, DType dtype, std::vector<int64_t> shape,
                               bool optional) {
  auto it = plan.tensors.find(name);
  if (it == plan.tensors.end()) {
    if (optional) return nullptr;
    throw std::runtime_error("tensor " + name + " is missing from the load plan");
  }
  const TensorEntry& t = it->second;
  if (t.dtype != dtype)
    throw std::runtime_error("tensor " + name + ": dtype " + dtype_name(t.dtype) + ", expected " + dtype_name(dtype));
  if (t.shape != shape)
    throw std::runtime_error("tensor " + name + ": shape " + shape_str(t.shape) + ", expected " + shape_str(shape));
  size_t want = dtype_size(dtype);
  for (int64_t d : shape) want *= static_cast<size_t>(d);
  if (t.nbytes != want)
    throw std::runtime_error("tensor " + name + ": " + std::to_string(t.nbytes) + " bytes, shape needs " + std::to_string(want));
  if (t.file < 0 || t.file >= static_cast<int>(files_.size()))
    throw std::runtime_error("tensor " + name + ": file index " + std::to_string(t.file) + " out of range");
  const MappedFile& f = *files_[t.file];
  if (t.offset > f.size() || t.nbytes > f.size() - t.offset)
    throw std::runtime_error(f.path() + ": tensor " + name + " [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                             ") extends past the end of the file (" + std::to_string(f.size()) + " bytes); truncated download?");
  return f.data() + t.offset;
}

Bf16Matrix Weights::bf16(const LoadPlan& plan, const std::string& name, int rows, int cols) {
  Bf16Matrix m;
  m.data = reinterpret_cast<const uint16_t*>(tensor(plan, name, DType::BF16, {rows, cols}));
  m.rows = rows;
  m.cols = cols;
  return m;
}

const uint16_t* Weights::bf16_vec(const LoadPlan& plan, const std::string& name, int n) {
  return reinterpret_cast<const uint16_t*>(tensor(plan, name, DType::BF16, {n}));
}

Int4Matrix Weights::int4(const LoadPlan& plan, const std::string& prefix, int rows, int cols) {
  if (cols % 32 != 0) throw std::runtime_error("tensor " + prefix + ": input width " + std::to_string(cols) + " is not a multiple of 32");
  const int32_t* shape = reinterpret_cast<const int32_t*>(tensor(plan, prefix + ".weight_shape", DType::I32, {2}));
  int32_t sr, sc;
  std::memcpy(&sr, shape, 4);
  std::memcpy(&sc, shape + 1, 4);
  if (sr != rows || sc != cols)
    throw std::runtime_error("tensor " + prefix + ".weight_shape: [" + std::to_string(sr) + ", " + std::to_string(sc) + "], expected [" +
                             std::to_string(rows) + ", " + std::to_string(cols) + "]");
  Int4Matrix m;
  m.packed = reinterpret_cast<const uint32_t*>(tensor(plan, prefix + ".weight_packed", DType::I32, {rows, cols / 8}));
  m.scales = reinterpret_cast<const uint16_t*>(tensor(plan, prefix + ".weight_scale", DType::BF16, {rows, cols / 32}));
  m.rows = rows;
  m.cols = cols;
  return m;
}

Weights::Weights(const LoadPlan& plan, Backend& backend) : backend_(backend) {
  const ModelConfig& c = plan.config;
  for (const std::string& path : plan.files) {
    files_.push_back(std::make_unique<MappedFile>(path));
    if (files_.back()->size()) backend_.register_host_memory(files_.back()->data(), files_.back()->size());
  }
  const int D = c.hidden_size, H = c.num_attention_heads;
  const int qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
  embed = bf16(plan, "model.embed_tokens.weight", c.vocab_size, D);
  lm_head = bf16(plan, "lm_head.weight", c.vocab_size, D);
  final_norm = bf16_vec(plan, "model.norm.weight", D);
  layers.resize(c.num_hidden_layers);
  for (int l = 0; l < c.num_hidden_layers; l++) {
    LayerWeights& L = layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    L.input_norm = bf16_vec(plan, p + "input_layernorm.weight", D);
    L.post_attention_norm = bf16_vec(plan, p + "post_attention_layernorm.weight", D);
    if (c.q_lora_rank > 0) {
      L.q_a = bf16(plan, p + "self_attn.q_a_proj.weight", c.q_lora_rank, D);
      L.q_a_norm = bf16_vec(plan, p + "self_attn.q_a_layernorm.weight", c.q_lora_rank);
      L.q_b = bf16(plan, p + "self_attn.q_b_proj.weight", H * qk, c.q_lora_rank);
    } else {
      L.q_proj = bf16(plan, p + "self_attn.q_proj.weight", H * qk, D);
    }
    L.kv_a = bf16(plan, p + "self_attn.kv_a_proj_with_mqa.weight", c.kv_lora_rank + c.qk_rope_head_dim, D);
    L.kv_a_norm = bf16_vec(plan, p + "self_attn.kv_a_layernorm.weight", c.kv_lora_rank);
    L.kv_b = bf16(plan, p + "self_attn.kv_b_proj.weight", H * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
    L.o_proj = bf16(plan, p + "self_attn.o_proj.weight", D, H * c.v_head_dim);
    L.moe = c.is_moe_layer(l);
    if (!L.moe) {
      L.gate = bf16(plan, p + "mlp.gate_proj.weight", c.intermediate_size, D);
      L.up = bf16(plan, p + "mlp.up_proj.weight", c.intermediate_size, D);
      L.down = bf16(plan, p + "mlp.down_proj.weight", D, c.intermediate_size);
      continue;
    }
    const int E = c.n_routed_experts, I = c.moe_intermediate_size;
    L.router = bf16(plan, p + "mlp.gate.weight", E, D);
    L.router_bias = reinterpret_cast<const float*>(tensor(plan, p + "mlp.gate.e_score_correction_bias", DType::F32, {E}, true));
    if (c.n_shared_experts > 0) {
      const int S = I * c.n_shared_experts;
      L.shared_gate = bf16(plan, p + "mlp.shared_experts.gate_proj.weight", S, D);
      L.shared_up = bf16(plan, p + "mlp.shared_experts.up_proj.weight", S, D);
      L.shared_down = bf16(plan, p + "mlp.shared_experts.down_proj.weight", D, S);
    }
    L.experts.resize(E);
    for (int e = 0; e < E; e++) {
      const std::string ep = p + "mlp.experts." + std::to_string(e) + ".";
      ExpertWeights& x = L.experts[e];
      // The TypeScript loader expects BF16 `.weight` experts exactly when config.json has no
      // quantization_config; the plan carries whichever it validated.
      if (plan.tensors.count(ep + "gate_proj.weight")) {
        x.bf16 = true;
        x.gate_bf16 = bf16(plan, ep + "gate_proj.weight", I, D);
        x.up_bf16 = bf16(plan, ep + "up_proj.weight", I, D);
        x.down_bf16 = bf16(plan, ep + "down_proj.weight", D, I);
        continue;
      }
      x.gate = int4(plan, ep + "gate_proj", I, D);
      x.up = int4(plan, ep + "up_proj", I, D);
      x.down = int4(plan, ep + "down_proj", D, I);
    }
  }
}

Weights::~Weights() {
  for (auto& f : files_)
    if (f->size()) backend_.unregister_host_memory(f->data());
}

void Weights::drop_resident_pages() const {
  for (auto& f : files_)
    if (f->size()) ::madvise(const_cast<uint8_t*>(f->data()), f->size(), MADV_DONTNEED);
}

uint64_t Weights::mapped_bytes() const {
  uint64_t n = 0;
  for (auto& f : files_) n += f->size();
  return n;
}

}  // namespace k2
