// Routing traces: which experts every token chose at every MoE layer, as recorded by
// `--record-routes FILE` (route_recorder.*) and replayed by `k2 simulate` (expert_cache_sim.*).
//
// File format (little-endian), documented for users in docs/experts.md:
//   0  char[8]  magic "K2ROUTES"
//   8  u32      version (1)
//  12  u32      n_layers       decoder layers of the model (dense ones included)
//  16  u32      n_moe_layers   M
//  20  u32      n_experts      E (routed experts per MoE layer, <= 65536)
//  24  u32      top_k          K (experts per token per MoE layer, <= 256)
//  28  u32      reserved (0)
//  32  u32[M]   the MoE layer indices, ascending
//  then one record per token, in order: M x K u16 expert ids, MoE layer by MoE layer, each
//  layer's K ids distinct. The token count is implied by the file size (a trace being written
//  is always a whole number of records after each flush).
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace k2 {

struct RouteTraceShape {
  uint32_t n_layers = 0;
  uint32_t n_experts = 0;
  uint32_t top_k = 0;
  std::vector<uint32_t> moe_layers;
  // u16 ids in one token's record.
  uint64_t record_ids() const { return static_cast<uint64_t>(moe_layers.size()) * top_k; }
  bool operator==(const RouteTraceShape& o) const {
    return n_layers == o.n_layers && n_experts == o.n_experts && top_k == o.top_k && moe_layers == o.moe_layers;
  }
};

struct RouteTrace {
  RouteTraceShape shape;
  std::vector<uint16_t> ids;  // tokens x moe_layers x top_k
  uint64_t tokens() const { return shape.record_ids() ? ids.size() / shape.record_ids() : 0; }
};

// A trace file that cannot be used: the message names the file and what is wrong with it.
class RouteTraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws std::invalid_argument naming the field when the shape is not a valid trace shape.
void validate_route_shape(const RouteTraceShape& shape);
// Throws RouteTraceError naming the token and layer of the first out-of-range or repeated id.
void validate_route_ids(const RouteTraceShape& shape, const uint16_t* ids, uint64_t tokens, const std::string& where);

RouteTrace read_route_trace(const std::string& path);

// Writes a trace incrementally: the header at open, whole token records on append.
class RouteTraceWriter {
 public:
  RouteTraceWriter(const std::string& path, const RouteTraceShape& shape);
  ~RouteTraceWriter();
  RouteTraceWriter(const RouteTraceWriter&) = delete;
  RouteTraceWriter& operator=(const RouteTraceWriter&) = delete;

  // `tokens` records of shape.record_ids() ids each; flushed so the file is always whole records.
  void append(const uint16_t* ids, uint64_t tokens);
  const RouteTraceShape& shape() const { return shape_; }
  uint64_t tokens_written() const { return tokens_; }

 private:
  std::string path_;
  RouteTraceShape shape_;
  std::FILE* f_ = nullptr;
  uint64_t tokens_ = 0;
};

void write_route_trace(const std::string& path, const RouteTrace& trace);

}  // namespace k2
