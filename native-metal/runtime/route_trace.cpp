#include "runtime/route_trace.h"

#include <cerrno>
#include <cstring>

namespace k2 {

namespace {

constexpr char kMagic[8] = {'K', '2', 'R', 'O', 'U', 'T', 'E', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFixedHeader = 32;

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

std::string sys_error() { return std::strerror(errno); }

}  // namespace

void validate_route_shape(const RouteTraceShape& s) {
  if (s.n_experts < 1 || s.n_experts > 65536) throw std::invalid_argument("route trace: n_experts must be 1..65536, got " + std::to_string(s.n_experts));
  if (s.top_k < 1 || s.top_k > s.n_experts || s.top_k > 256)
    throw std::invalid_argument("route trace: top_k must be 1..min(n_experts, 256), got " + std::to_string(s.top_k) + " with " +
                                std::to_string(s.n_experts) + " experts");
  if (s.moe_layers.empty()) throw std::invalid_argument("route trace: no MoE layers");
  for (size_t i = 0; i < s.moe_layers.size(); i++) {
    if (s.moe_layers[i] >= s.n_layers)
      throw std::invalid_argument("route trace: MoE layer " + std::to_string(s.moe_layers[i]) + " outside 0.." + std::to_string(s.n_layers) + "-1");
    if (i > 0 && s.moe_layers[i] <= s.moe_layers[i - 1]) throw std::invalid_argument("route trace: MoE layer indices must be ascending");
  }
}

void validate_route_ids(const RouteTraceShape& s, const uint16_t* ids, uint64_t tokens, const std::string& where) {
  const uint32_t M = static_cast<uint32_t>(s.moe_layers.size()), K = s.top_k;
  for (uint64_t t = 0; t < tokens; t++)
    for (uint32_t m = 0; m < M; m++) {
      const uint16_t* row = ids + (t * M + m) * K;
      for (uint32_t j = 0; j < K; j++) {
        const auto at = [&] { return where + ": token " + std::to_string(t) + ", layer " + std::to_string(s.moe_layers[m]); };
        if (row[j] >= s.n_experts)
          throw RouteTraceError(at() + ": expert id " + std::to_string(row[j]) + " outside 0.." + std::to_string(s.n_experts - 1));
        for (uint32_t i = 0; i < j; i++)
          if (row[i] == row[j]) throw RouteTraceError(at() + ": expert id " + std::to_string(row[j]) + " chosen twice");
      }
    }
}

RouteTrace read_route_trace(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw RouteTraceError(path + ": cannot open route trace: " + sys_error());
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw RouteTraceError(path + ": read error");
  if (bytes.size() < kFixedHeader || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw RouteTraceError(path + ": not a route trace (no \"K2ROUTES\" header; record one with --record-routes)");
  const uint32_t version = get_u32(&bytes[8]);
  if (version != kVersion) throw RouteTraceError(path + ": route trace version " + std::to_string(version) + " (this build reads version 1)");
  RouteTrace t;
  t.shape.n_layers = get_u32(&bytes[12]);
  const uint32_t M = get_u32(&bytes[16]);
  t.shape.n_experts = get_u32(&bytes[20]);
  t.shape.top_k = get_u32(&bytes[24]);
  if (M == 0 || M > t.shape.n_layers || bytes.size() < kFixedHeader + 4ull * M)
    throw RouteTraceError(path + ": header lists " + std::to_string(M) + " MoE layers of " + std::to_string(t.shape.n_layers) + " (truncated or corrupt)");
  for (uint32_t i = 0; i < M; i++) t.shape.moe_layers.push_back(get_u32(&bytes[kFixedHeader + 4 * i]));
  try {
    validate_route_shape(t.shape);
  } catch (const std::invalid_argument& e) {
    throw RouteTraceError(path + ": " + e.what());
  }
  const size_t body = bytes.size() - kFixedHeader - 4ull * M;
  const uint64_t record = t.shape.record_ids() * 2;
  if (body % record != 0)
    throw RouteTraceError(path + ": truncated: " + std::to_string(body) + " bytes of records is not a whole number of " + std::to_string(record) +
                          "-byte token records");
  t.ids.resize(body / 2);
  const uint8_t* p = bytes.data() + kFixedHeader + 4ull * M;
  for (size_t i = 0; i < t.ids.size(); i++) t.ids[i] = static_cast<uint16_t>(p[2 * i] | p[2 * i + 1] << 8);
  validate_route_ids(t.shape, t.ids.data(), t.tokens(), path);
  return t;
}

RouteTraceWriter::RouteTraceWriter(const std::string& path, const RouteTraceShape& shape) : path_(path), shape_(shape) {
  validate_route_shape(shape_);
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw RouteTraceError(path + ": cannot create route trace: " + sys_error());
  std::vector<uint8_t> h(kMagic, kMagic + 8);
  put_u32(h, kVersion);
  put_u32(h, shape.n_layers);
  put_u32(h, static_cast<uint32_t>(shape.moe_layers.size()));
  put_u32(h, shape.n_experts);
  put_u32(h, shape.top_k);
  put_u32(h, 0);
  for (uint32_t l : shape.moe_layers) put_u32(h, l);
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size() || std::fflush(f_) != 0) {
    const std::string why = sys_error();
    std::fclose(f_);
    f_ = nullptr;
    throw RouteTraceError(path + ": cannot write route trace header: " + why);
  }
}

RouteTraceWriter::~RouteTraceWriter() {
  if (f_) std::fclose(f_);
}

void RouteTraceWriter::append(const uint16_t* ids, uint64_t tokens) {
  if (!f_) throw RouteTraceError(path_ + ": route trace is closed after an earlier write error");
  std::vector<uint8_t> b(tokens * shape_.record_ids() * 2);
  for (size_t i = 0; i < b.size() / 2; i++) {
    b[2 * i] = static_cast<uint8_t>(ids[i]);
    b[2 * i + 1] = static_cast<uint8_t>(ids[i] >> 8);
  }
  if (std::fwrite(b.data(), 1, b.size(), f_) != b.size() || std::fflush(f_) != 0) {
    const std::string why = sys_error();
    std::fclose(f_);
    f_ = nullptr;
    throw RouteTraceError(path_ + ": cannot append to route trace: " + why);
  }
  tokens_ += tokens;
}

void write_route_trace(const std::string& path, const RouteTrace& trace) {
  RouteTraceWriter w(path, trace.shape);
  w.append(trace.ids.data(), trace.tokens());
}

}  // namespace k2
