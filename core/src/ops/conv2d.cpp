// conv2d as im2col + GEMM over groups of images; a 1x1 stride-1 unpadded
// conv is one GEMM over the whole batch (NHWC rows are already the "columns").
//   forward:  y_g (G*OH*OW, O)     = col_g (G*OH*OW, KKC) @ w (KKC, O) + b
//   backward: dw  (KKC, O)        += col_g^T @ dy_g
//             dcol (G*OH*OW, KKC)  = dy_g @ w^T, then col2im into each dx_n
//             db  (O)             += column sums of dy
// A group holds as many images as fit a bounded im2col buffer, so small
// convs (LeNet) make one large GEMM per batch and large ones stay in memory
// budget; im2col and col2im run across threads, one image each. Where each
// window row is contiguous, the forward product and the filter gradient read
// the windows in place instead (kernels::gemm_rows, gemm_rows_tn). Otherwise
// a batch lowered in one group keeps its col for backward; larger ones
// recompute it there: memory over a little time. Single-channel stride-1 convs
// (grayscale first layers) skip im2col for a direct kernel
// (cnn/kernels/conv_c1.h), with the bias and ReLU fused into it.
#include <algorithm>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/kernels/conv_c1.h"
#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"
#include "cnn/kernels/winograd.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "kernels/gemm_pack.h"
#include "kernels/inline_loops.h"
#include "kernels/scratch.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

namespace {

// The epilogue as a pass of its own over y (rows, O), for the paths that
// cannot fuse it; split across threads, as it is memory-bound.
void epilogue_pass(const kernels::Epilogue& ep, float* y, int64_t rows, int64_t O) {
  parallel_for(rows, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, O)),
               [&](int64_t r0, int64_t r1) { kernels::apply_epilogue(ep, y, O, r0, r1, 0, O); });
}

// dy = 0 where y <= 0: the gradient through a fused ReLU, in place.
void relu_mask(const float* __restrict y, float* __restrict dy, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float d = dy[i];  // loaded unconditionally, so the select vectorises
    dy[i] = y[i] > 0.0f ? d : 0.0f;
  }
}

// sum[c0, c0 + W) += the column sums of dy's rows: two rows at a time into
// two sets of sums held in registers, so no add waits on the one before.
template <int W>
void add_rows_block(float* __restrict sum, const float* __restrict dy, int64_t rows, int64_t cols) {
  float even[W] = {}, odd[W] = {};
  int64_t r = 0;
  for (; r + 1 < rows; r += 2)
    for (int c = 0; c < W; ++c) {
      even[c] += dy[r * cols + c];
      odd[c] += dy[(r + 1) * cols + c];
    }
  if (r < rows)
    for (int c = 0; c < W; ++c) even[c] += dy[r * cols + c];
  for (int c = 0; c < W; ++c) sum[c] += even[c] + odd[c];
}

void add_rows(float* sum, const float* dy, int64_t rows, int64_t cols) {
  int64_t c0 = 0;
  for (; c0 + 16 <= cols; c0 += 16) add_rows_block<16>(sum + c0, dy + c0, rows, cols);
  for (; c0 + 4 <= cols; c0 += 4) add_rows_block<4>(sum + c0, dy + c0, rows, cols);
  for (; c0 < cols; ++c0) add_rows_block<1>(sum + c0, dy + c0, rows, cols);
}

// The gradient reaching a conv's product: dy (rows, cols), with a fused ReLU
// masked in place where y <= 0 (no buffer of its own: W2's first layer's
// would be 22 MB); with db, its column sums are added there. Fixed blocks of
// rows are summed across threads, then the blocks in order, so db does not
// depend on the thread count. A block is masked and summed a slice at a
// time, while the slice is in cache; with too few blocks to share out
// (wide, short outputs: 1,568 x 512 for batch 32 at 7x7x512), the mask goes
// across the threads first and the sums follow, in the same order.
void conv_output_grad(float* dy, const float* y, float* db, int64_t rows, int64_t cols) {
  constexpr int64_t kBlockRows = 4096;
  const int64_t slice_rows = std::max<int64_t>(1, (int64_t{1} << 13) / std::max<int64_t>(1, cols));
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  if (y && (!db || blocks < 2 * threads_here())) {
    parallel_elementwise(rows * cols, [&](int64_t i0, int64_t i1) { relu_mask(y + i0, dy + i0, i1 - i0); });
    y = nullptr;  // masked
  }
  const auto block = [&](int64_t r0, int64_t r1, float* sum) {
    for (int64_t s0 = r0; s0 < r1; s0 += slice_rows) {
      const int64_t n = std::min(slice_rows, r1 - s0);
      if (y) relu_mask(y + s0 * cols, dy + s0 * cols, n * cols);
      if (sum) add_rows(sum, dy + s0 * cols, n, cols);
    }
  };
  if (!db) return;
  if (blocks <= 1) {
    block(0, rows, db);
  } else {
    thread_local kernels::Scratch t_partial;
    float* partial = t_partial.get(blocks * cols);
    std::fill(partial, partial + blocks * cols, 0.0f);
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        block(b * kBlockRows, std::min(rows, (b + 1) * kBlockRows), partial + b * cols);
    });
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t c = 0; c < cols; ++c) db[c] += partial[b * cols + c];
  }
}

// Images per group: the im2col buffer stays under 16 MiB (at least 1 image),
// and the groups are as even as that allows: W2's second conv in groups of
// 5, 5, 5 and 1 left one thread idle through the last group's col2im.
int64_t group_size(int64_t N, int64_t P, int64_t KKC) {
  constexpr int64_t kBudgetFloats = int64_t{1} << 22;
  const int64_t most =
      std::clamp<int64_t>(kBudgetFloats / std::max<int64_t>(1, P * KKC), 1, std::max<int64_t>(N, 1));
  const int64_t groups = (N + most - 1) / most;
  return std::max<int64_t>(1, (N + groups - 1) / std::max<int64_t>(1, groups));
}

thread_local kernels::Scratch t_col;  // the im2col buffer of this thread's conv calls

// im2col / col2im of images [n0, n0 + gn) into (out of) col, across threads
// when there is enough to share (below ~64k floats the pool costs more).
template <class F>
void each_image(int64_t n0, int64_t gn, int64_t floats_per_image, const F& f) {
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, floats_per_image));
  parallel_for(gn, grain, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) f(n0 + i, i);
  });
}

// Whether a conv's forward product can read its windows in place (gemm_rows)
// instead of lowering them with im2col: each window row must be contiguous
// (no dilation along the width), and the filters few enough for the
// in-place tiles.
bool windows_in_place(const kernels::ConvGeometry& g, int64_t O) {
  return g.DW == 1 && O <= kernels::gemm_rows_max_n();
}

// A conv's windows as gemm_rows takes them: one pointer per output pixel
// into x, or into a zero-padded copy of x (this thread's, until its next
// call) when the windows reach past its edges; segment s (kernel row s) at
// rows[p] + s * seg_stride.
struct Windows {
  const float* const* rows;
  int64_t seg_stride;
};

Windows conv_windows(const kernels::ConvGeometry& g, int64_t N, const float* x) {
  const int64_t C = g.C;
  const int64_t Hp = std::max(g.PT + g.H, (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1);
  const int64_t Wp = std::max(g.PL + g.W, (g.OW - 1) * g.SW + g.KW);
  const float* src = x;
  if (Hp != g.H || Wp != g.W) {  // padding, or windows past the bottom/right edge
    thread_local kernels::Scratch t_padded;
    float* padded = t_padded.get(N * Hp * Wp * C);
    each_image(0, N, Hp * Wp * C, [&](int64_t n, int64_t) {
      kernels::pad_image(x + n * g.H * g.W * C, g.H, g.W, C, g.PT, g.PL, Hp, Wp, padded + n * Hp * Wp * C);
    });
    src = padded;
  }
  // Grown only: resizing down and up again between layers would clear the
  // pointers each time, a serial pass as large as the layer's output.
  thread_local std::vector<const float*> t_rows;
  if (t_rows.size() < static_cast<size_t>(N * g.OH * g.OW))
    t_rows.resize(static_cast<size_t>(N * g.OH * g.OW));
  const float** rows = t_rows.data();
  each_image(0, N, 4 * g.OH * g.OW, [&](int64_t n, int64_t) {
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        rows[(n * g.OH + oh) * g.OW + ow] = src + ((n * Hp + oh * g.SH) * Wp + ow * g.SW) * C;
  });
  return {rows, g.DH * Wp * C};
}

// y (N, OH, OW, O) = the conv of x, its windows read in place.
void conv_in_place(const kernels::ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w,
                   float* y, const kernels::Epilogue* ep) {
  const Windows win = conv_windows(g, N, x);
  kernels::gemm_rows(N * g.OH * g.OW, O, g.KH, g.KW * g.C, win.rows, win.seg_stride, w, O, y, O, ep);
}

// The input gradient of a stride-1 conv is itself a conv: of dy (N, OH, OW,
// O) padded by the kernel less each side's padding, by the kernel flipped
// in both axes with its channels swapped, giving (N, H, W, C). Its geometry
// in *t; false where that does not hold (strides, dilation, padding as
// large as the kernel), where the in-place tiles cannot take C, or where
// col2im costs less. That conv multiplies H*W / (OH*OW) times as many
// terms (the padding's zeros), and its product is only C wide. A conv's
// forward and backward against col2im, best of 10 alternated rounds, 1
// thread (AMD EPYC, AVX-512): W2's second conv (74x74x16, 3x3) +8-13%,
// 'same' 3x3 on 28x28x64 +6% and on 7x7x16 +5-7%, W2's third conv +1-3%;
// 8 channels -8% to level, 4 channels -7%; 5x5 'valid' on 12x12x16 -9 to
// -11%, on 16x16x32 -6 to -7%, LeNet's second conv (12x12x6) -40%.
bool input_grad_geometry(const kernels::ConvGeometry& g, int64_t O, kernels::ConvGeometry* t) {
  if (g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || g.C > kernels::gemm_rows_max_n()) return false;
  if (g.C < 16 || 4 * g.H * g.W > 5 * g.OH * g.OW) return false;
  const int64_t PB = g.OH - g.H - g.PT + g.KH - 1, PR = g.OW - g.W - g.PL + g.KW - 1;  // bottom, right
  if (g.PT >= g.KH || g.PL >= g.KW || PB < 0 || PB >= g.KH || PR < 0 || PR >= g.KW) return false;
  *t = g;  // the same kernel, stride and dilation 1
  t->H = g.OH, t->W = g.OW, t->C = O;
  t->OH = g.H, t->OW = g.W;
  t->PT = g.KH - 1 - g.PT, t->PL = g.KW - 1 - g.PL;
  return true;
}

// dx (N, H, W, C) = (or, without overwrite, +=) that conv of dy by w (KH,
// KW, C, O), its windows read in place as the forward's are. Against col =
// dy w^T and col2im, it writes dx once instead of a column matrix KH*KW
// times its size and reading it back (W2's second conv: 48 MB a step).
void input_grad_as_conv(const kernels::ConvGeometry& t, int64_t N, int64_t C, const float* dy, const float* w,
                        float* dx, bool overwrite) {
  const int64_t KH = t.KH, KW = t.KW, O = t.C;
  thread_local kernels::Scratch t_flipped;
  float* flipped = t_flipped.get(KH * KW * O * C);  // (KH, KW, O, C)
  for (int64_t kh = 0; kh < KH; ++kh)
    for (int64_t kw = 0; kw < KW; ++kw)
      for (int64_t c = 0; c < C; ++c) {
        const float* src = w + (((KH - 1 - kh) * KW + (KW - 1 - kw)) * C + c) * O;
        float* dst = flipped + (kh * KW + kw) * O * C + c;
        for (int64_t o = 0; o < O; ++o) dst[o * C] = src[o];
      }
  const int64_t n = N * t.OH * t.OW * C;
  thread_local kernels::Scratch t_sum;
  float* out = overwrite ? dx : t_sum.get(n);
  conv_in_place(t, N, C, dy, flipped, out, nullptr);
  if (!overwrite) accumulate(dx, out, n);
}

// The convolution, (N, OH, OW, O), of shapes conv_shape checked. The bias is not added
// here: it is the epilogue's shift, applied where a path can fuse it
// (`fused`); otherwise the caller runs the epilogue over y.
struct ConvForward {
  Tensor y;
  Tensor col;  // the whole batch's im2col, when asked to keep it and it fits one group
  kernels::ConvGeometry g;
  int64_t N, P, KKC, O;
  bool pointwise, direct, fused;
};

// keep_col: a backward pass will want the im2col columns. exact: gradients
// will flow through this conv, so its forward must be the exact sums they
// are taken through (no Winograd).
ConvForward conv_forward(const Tensor& x, const Tensor& w, const ConvShape& cs, bool keep_col,
                         const kernels::Epilogue* ep, bool exact) {
  const kernels::ConvGeometry& g = cs.g;
  const int64_t N = cs.N, O = cs.O, C = g.C, H = g.H, W = g.W, P = cs.P, KKC = cs.KKC;
  const bool pointwise = cs.pointwise;
  const bool direct = !pointwise && kernels::conv_c1_applies(g, O);

  Tensor y = Tensor::empty({N, g.OH, g.OW, O});  // (N, OH, OW, O); the GEMMs (beta 0) write it all
  Tensor kept;
  bool fused = ep != nullptr;
  if (direct) {
    // The direct kernel fuses a bias and a ReLU only.
    fused = ep && !ep->scale && !ep->residual;
    kernels::conv_c1_forward(g, N, O, x.data(), w.data(), fused ? ep->shift : nullptr, fused && ep->relu,
                             y.data());
  } else if (pointwise) {
    kernels::gemm(false, false, N * P, O, C, 1.0f, x.data(), C, w.data(), O, 0.0f, y.data(), O, ep);
  } else if (!exact && kernels::winograd_applies(g, N, O)) {
    kernels::conv3x3_winograd(g, N, O, x.data(), w.data(), y.data(), ep);
  } else if (windows_in_place(g, O)) {
    // Even where the batch's im2col would fit one group and could be kept
    // for the filter gradient (small convs), reading the windows in place
    // both ways ran faster: forward and backward, LeNet's second conv at
    // batch 32 +16% natively, +5-10% in wasm, other small training convs
    // level to +20%.
    conv_in_place(g, N, O, x.data(), w.data(), y.data(), ep);
  } else {
    const int64_t G = group_size(N, P, KKC), HWC = H * W * C;
    // A batch whose im2col fits one group keeps it for the filter gradient
    // instead of lowering the input again.
    if (keep_col && G >= N) kept = Tensor::empty({N * P * KKC});
    float* col = kept.defined() ? kept.data() : t_col.get(G * P * KKC);  // (G*OH*OW, KH*KW*C)
    for (int64_t n0 = 0; n0 < N; n0 += G) {
      const int64_t gn = std::min(G, N - n0);
      each_image(n0, gn, P * KKC,
                 [&](int64_t n, int64_t i) { kernels::im2col(g, x.data() + n * HWC, col + i * P * KKC); });
      kernels::Epilogue group_ep;  // the residual's rows of this group
      if (ep) {
        group_ep = *ep;
        if (ep->residual) group_ep.residual = ep->residual + n0 * P * ep->ldr;
      }
      kernels::gemm(false, false, gn * P, O, KKC, 1.0f, col, KKC, w.data(), O, 0.0f, y.data() + n0 * P * O, O,
                    ep ? &group_ep : nullptr);
    }
  }
  return {y, kept, g, N, P, KKC, O, pointwise, direct, fused};
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt) {
  // The bias and ReLU ride on the product's epilogue where the path allows.
  kernels::Epilogue ep;
  ep.shift = b.defined() ? b.data() : nullptr;
  ep.relu = opt.relu;
  const bool has_epilogue = ep.shift || ep.relu;
  const ConvForward f = conv_forward(x, w, conv_shape(x, w, b, opt), grad_enabled() && w.requires_grad(),
                                     has_epilogue ? &ep : nullptr, any_requires_grad({x, w, b}));
  Tensor y = f.y;
  const Tensor kept_col = f.col;
  const kernels::ConvGeometry g = f.g;
  const int64_t N = f.N, P = f.P, KKC = f.KKC, O = f.O;
  const bool pointwise = f.pointwise, direct = f.direct;
  if (has_epilogue && !f.fused) epilogue_pass(ep, y.data(), N * P, O);

  const bool relu = opt.relu;
  record(y, "conv2d", {x, w, b},
         [x, w, b, g, N, P, KKC, O, pointwise, direct, relu, kept_col](const Tensor& out, float* dy) {
           const int64_t C = g.C, HWC = g.H * g.W * g.C;
           bool need_dx = x.requires_grad(), need_dw = w.requires_grad();
           bool need_db = b.defined() && b.requires_grad();
           if (direct && need_dw) {  // the filter and bias gradients, ReLU mask included
             kernels::conv_c1_backward_filter(g, N, O, x.data(), dy, relu ? out.data() : nullptr,
                                              w.grad_data(), need_db ? b.grad_data() : nullptr);
             need_dw = need_db = false;
             if (!need_dx) return;
           }
           // With the fused ReLU, the gradient reaching the conv is dy where y > 0.
           conv_output_grad(dy, relu ? out.data() : nullptr, need_db ? b.grad_data() : nullptr, N * P, O);
           if (pointwise) {
             if (need_dw)
               kernels::gemm(true, false, C, O, N * P, 1.0f, x.data(), C, dy, O, 1.0f, w.grad_data(), O);
             if (need_dx) {
               bool fresh = false;
               float* dx = x.grad_data_for_write(&fresh);
               kernels::gemm(false, true, N * P, C, O, 1.0f, dy, O, w.data(), O, fresh ? 0.0f : 1.0f, dx, C);
             }
             return;
           }
           // The filter gradient from the kept columns, or with the columns
           // packed straight from x's windows (no im2col pass to write and read
           // back: most of a large conv's backward memory traffic).
           if (need_dw && kept_col.defined()) {
             kernels::gemm(true, false, KKC, O, N * P, 1.0f, kept_col.data(), KKC, dy, O, 1.0f, w.grad_data(),
                           O);
             need_dw = false;
           } else if (need_dw && g.DW == 1) {
             const Windows win = conv_windows(g, N, x.data());
             kernels::gemm_rows_tn(g.KH, g.KW * C, O, N * P, win.rows, win.seg_stride, dy, O, w.grad_data(),
                                   O);
             need_dw = false;
           }
           kernels::ConvGeometry t;
           if (need_dx && input_grad_geometry(g, O, &t)) {
             bool fresh = false;
             float* dx = x.grad_data_for_write(&fresh);
             input_grad_as_conv(t, N, C, dy, w.data(), dx, fresh);
             need_dx = false;
           }
           if (!need_dw && !need_dx) return;
           const int64_t G = group_size(N, P, KKC);
           float* col = t_col.get(G * P * KKC);
           // A fresh dx is cleared an image at a time just before its col2im,
           // in cache, rather than in a pass of its own when it is made.
           bool fresh = false;
           float* dx = need_dx ? x.grad_data_for_write(&fresh) : nullptr;
           for (int64_t n0 = 0; n0 < N; n0 += G) {
             const int64_t gn = std::min(G, N - n0);
             const float* dy_g = dy + n0 * P * O;
             if (need_dw) {  // dilated along the width: im2col, a group at a time
               each_image(n0, gn, P * KKC, [&](int64_t n, int64_t i) {
                 kernels::im2col(g, x.data() + n * HWC, col + i * P * KKC);
               });
               kernels::gemm(true, false, KKC, O, gn * P, 1.0f, col, KKC, dy_g, O, 1.0f, w.grad_data(), O);
             }
             if (need_dx) {
               kernels::gemm(false, true, gn * P, KKC, O, 1.0f, dy_g, O, w.data(), O, 0.0f, col, KKC);
               each_image(n0, gn, P * KKC, [&](int64_t n, int64_t i) {
                 if (fresh) kernels::zero_run(dx + n * HWC, HWC);
                 kernels::col2im_add(g, col + i * P * KKC, dx + n * HWC);
               });
             }
           }
         });
  return y;
}

Tensor conv2d_inference(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt,
                        const ConvEpilogue& ep) {
  const ConvShape cs = conv_shape(x, w, b, opt);
  const int64_t O = cs.O;
  for (const Tensor* t : {&ep.scale, &ep.shift})
    if (t->defined() && t->shape() != Shape{O})
      shape_fail("conv2d_inference", "scale/shift has shape " + shape_str(t->shape()) +
                                         str_cat(", expected one value per filter (", O, ",)"));
  const Shape out_shape{cs.N, cs.g.OH, cs.g.OW, O};
  if (ep.residual.defined() && ep.residual.shape() != out_shape)
    shape_fail("conv2d_inference",
               "residual has shape " + shape_str(ep.residual.shape()) + ", expected " + shape_str(out_shape));
  // (acc + b) * s + t = acc * s + (b * s + t): one multiply-add per value.
  std::vector<float> scale(O, 1.0f), shift(O, 0.0f);
  for (int64_t o = 0; o < O; ++o) {
    if (ep.scale.defined()) scale[o] = ep.scale[o];
    const float bias = b.defined() ? b[o] : 0.0f;
    shift[o] = bias * scale[o] + (ep.shift.defined() ? ep.shift[o] : 0.0f);
  }
  kernels::Epilogue kep;
  kep.scale = ep.scale.defined() ? scale.data() : nullptr;
  kep.shift = shift.data();
  kep.residual = ep.residual.defined() ? ep.residual.data() : nullptr;
  kep.ldr = O;
  kep.relu = ep.relu;
  ConvForward f = conv_forward(x, w, cs, false, &kep, false);
  if (!f.fused) epilogue_pass(kep, f.y.data(), f.N * f.P, O);
  return f.y;
}

}  // namespace cnn::ops::cpu
