// The single-channel direct conv: expands each image (every pixel repeated
// once per filter), tiles the weights to the same layout, and runs the active
// ISA's row kernels (kernels/conv_c1_rows.h) one image per task.
#include "cnn/kernels/conv_c1.h"

#include <algorithm>
#include <cstring>

#include "cnn/parallel.h"
#include "kernels/kernel_table.h"
#include "kernels/scratch.h"

namespace cnn::kernels {

namespace {

// Bounds that keep one image's working set in L2: the tiled weight rows, and
// the expanded image.
constexpr int64_t kMaxWeightRowFloats = int64_t{1} << 16;
constexpr int64_t kMaxExpandedFloats = int64_t{1} << 20;
// Filter-gradient partial sums are per this many images (not per thread).
constexpr int64_t kImagesPerPart = 4;

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// Kernel rows per block: the largest divisor of KH up to max_kb (7 rows: 7
// blocks of 1), so no block takes a row of zero weights, which would turn an
// Inf in the input into NaN in outputs whose windows do not hold it.
int64_t kernel_row_block(int64_t KH, int64_t max_kb) {
  for (int64_t kb = std::min(KH, max_kb); kb > 1; --kb)
    if (KH % kb == 0) return kb;
  return 1;
}

// The row kernels' blocking (ConvC1Rows): the kernel rows in blocks of kb,
// and room in the expanded image for a last block of output rows.
struct Layout {
  int64_t kb;             // kernel rows per block
  int64_t taps, len, rl;  // KH*KW; floats per output row; len rounded to 16
  int64_t rows, xs;       // expanded rows (OH rounded up to the row block, + KH - 1) and their stride
  Layout(const ConvGeometry& g, int64_t O, const KernelTable& kt)
      : kb(kernel_row_block(g.KH, kt.c1_kernel_rows)),
        taps(g.KH * g.KW),
        len(g.OW * O),
        rl(round16(len)),
        rows((g.OH + kt.c1_rows - 1) / kt.c1_rows * kt.c1_rows + g.KH - 1),
        // Row kernels read up to (KW - 1) * O + rl floats into a row.
        xs(round16((g.OW + g.KW - 1) * O) + 16) {}
};

// One expanded row: pixel q of the padded row `src` (input column q - PL)
// repeated O times. A fixed O (the common filter counts) copies it in
// 4-float stores, overlapping where O is no multiple of 4 (O = 6: two stores
// per pixel, not six); with O < 4 a store runs into the next pixel, which
// overwrites it, and the last runs past the row into the slack after it.
template <int O>
void expand_row_fixed(const float* src, int64_t W, int64_t PL, int64_t cols, float* d) {
  for (int64_t q = 0; q < cols; ++q, d += O) {
    const int64_t iw = q - PL;
    const float v = iw >= 0 && iw < W ? src[iw] : 0.0f;
    const float four[4] = {v, v, v, v};
#pragma GCC unroll 4
    for (int o = 0; o < O; o += 4) std::memcpy(d + std::min(o, std::max(O - 4, 0)), four, sizeof four);
  }
}

void expand_row(const float* src, int64_t W, int64_t PL, int64_t cols, int64_t O, float* d) {
  switch (O) {
#define CNN_EXPAND_CASE(n) \
  case n:                  \
    return expand_row_fixed<n>(src, W, PL, cols, d);
    CNN_EXPAND_CASE(1)
    CNN_EXPAND_CASE(2)
    CNN_EXPAND_CASE(3)
    CNN_EXPAND_CASE(4)
    CNN_EXPAND_CASE(6)
    CNN_EXPAND_CASE(8)
    CNN_EXPAND_CASE(12)
    CNN_EXPAND_CASE(16)
#undef CNN_EXPAND_CASE
    default:
      for (int64_t q = 0; q < cols; ++q) {
        const int64_t iw = q - PL;
        std::fill(d + q * O, d + (q + 1) * O, iw >= 0 && iw < W ? src[iw] : 0.0f);
      }
  }
}

// xe row r = input row r - PT, expanded (zero rows above and below).
void expand(const ConvGeometry& g, const Layout& L, int64_t O, const float* image, float* xe) {
  const int64_t cols = g.OW + g.KW - 1;
  for (int64_t r = 0; r < L.rows; ++r) {
    float* d = xe + r * L.xs;
    const int64_t ih = r - g.PT;
    if (ih < 0 || ih >= g.H) {
      std::fill(d, d + L.xs, 0.0f);
      continue;
    }
    expand_row(image + ih * g.W, g.W, g.PL, cols, O, d);
    std::fill(d + cols * O, d + L.xs, 0.0f);
  }
}

// out[f] = v[f % O] for f < n (zeros without v): a per-filter vector tiled
// along a row.
void tile_row(const float* v, int64_t O, int64_t n, float* out) {
  if (!v) return std::fill(out, out + n, 0.0f);
  for (int64_t f = 0; f < n; f += O) std::copy(v, v + std::min(O, n - f), out + f);
}

// out[o] += the lanes of row (len floats, O per pixel) that hold filter o,
// pixel by pixel.
void add_lanes(const float* row, int64_t len, int64_t O, float* out) {
  for (int64_t f = 0; f < len; f += O)
    for (int64_t o = 0; o < O; ++o) out[o] += row[f + o];
}

// dy's rows for the filter kernel: through the fused ReLU's mask when y is
// given (y > 0 passes, so NaN is masked as in the other ReLUs), zero past
// len; their lanes summed into the bias row.
void mask_rows(const float* __restrict dy, const float* __restrict y, int64_t rows, int64_t len, int64_t rl,
               float* __restrict out, float* __restrict bias) {
  for (int64_t r = 0; r < rows; ++r, dy += len, out += rl) {
    if (y) {
      for (int64_t f = 0; f < len; ++f) {
        const float v = dy[f];  // loaded unconditionally, so the select vectorises
        out[f] = y[f] > 0.0f ? v : 0.0f;
      }
      y += len;
    } else {
      std::copy(dy, dy + len, out);
    }
    for (int64_t f = 0; f < len; ++f) bias[f] += out[f];
    std::fill(out + len, out + rl, 0.0f);
  }
}

}  // namespace

bool conv_c1_applies(const ConvGeometry& g, int64_t O) {
  if (g.C != 1 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || O < 1) return false;
  const Layout L(g, O, active_kernels());
  return L.taps * L.rl <= kMaxWeightRowFloats && L.rows * L.xs <= kMaxExpandedFloats;
}

void conv_c1_forward(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w,
                     const float* b, bool relu, float* y) {
  if (N <= 0) return;
  const KernelTable& kt = active_kernels();
  const Layout L(g, O, kt);
  thread_local Scratch weights;  // read by the pool's threads while this call waits
  float* wr = weights.get((L.taps + 1) * L.rl);
  float* br = wr + L.taps * L.rl;
  for (int64_t t = 0; t < L.taps; ++t) tile_row(w + t * O, O, L.rl, wr + t * L.rl);
  tile_row(b, O, L.rl, br);
  const auto kernel = kt.conv_c1_forward;
  const int64_t image_work = g.OH * L.len * L.taps;
  parallel_for(
      N, std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, image_work)),
      [&](int64_t n0, int64_t n1) {
        thread_local Scratch expanded;
        float* xe = expanded.get(L.rows * L.xs);
        for (int64_t n = n0; n < n1; ++n) {
          expand(g, L, O, x + n * g.H * g.W, xe);
          kernel({xe, L.xs, wr, br, L.rl, g.KH, L.kb, g.KW, O, g.OH, L.len, y + n * g.OH * L.len, relu});
        }
      });
}

void conv_c1_backward_filter(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* dy,
                             const float* y, float* dw, float* db) {
  if (N <= 0) return;  // an empty batch adds nothing
  const KernelTable& kt = active_kernels();
  const Layout L(g, O, kt);
  const int64_t parts = (N + kImagesPerPart - 1) / kImagesPerPart;
  const int64_t part_floats = (L.taps + 1) * L.rl;  // weight rows, then the bias row
  thread_local Scratch partial_scratch;
  float* partials = partial_scratch.get(parts * part_floats);
  std::fill(partials, partials + parts * part_floats, 0.0f);
  const auto kernel = kt.conv_c1_filter;
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local Scratch expanded, masked;
    float* xe = expanded.get(L.rows * L.xs);
    float* dyp = masked.get(g.OH * L.rl);
    for (int64_t p = p0; p < p1; ++p) {
      float* part = partials + p * part_floats;
      float* bias = part + L.taps * L.rl;
      for (int64_t n = p * kImagesPerPart; n < std::min(N, (p + 1) * kImagesPerPart); ++n) {
        expand(g, L, O, x + n * g.H * g.W, xe);
        const int64_t offset = n * g.OH * L.len;
        mask_rows(dy + offset, y ? y + offset : nullptr, g.OH, L.len, L.rl, dyp, bias);
        kernel({xe, L.xs, dyp, L.rl, g.KH, L.kb, g.KW, O, g.OH, L.len, part});
      }
    }
  });
  // Parts in order into the first, then each lane into its filter.
  for (int64_t p = 1; p < parts; ++p) {
    const float* src = partials + p * part_floats;
    for (int64_t i = 0; i < part_floats; ++i) partials[i] += src[i];
  }
  for (int64_t t = 0; t < L.taps; ++t) add_lanes(partials + t * L.rl, L.len, O, dw + t * O);
  if (db) add_lanes(partials + L.taps * L.rl, L.len, O, db);
}

}  // namespace cnn::kernels
