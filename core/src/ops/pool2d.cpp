// Max and average pooling over NHWC, and their global forms.
// Max backward routes each output's gradient to the argmax recorded in the
// forward pass (first maximum wins, like TensorFlow on ties); average
// backward spreads it evenly over the real pixels of the window.
#include <algorithm>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "kernels/inline_loops.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

namespace {

// dst += scale * src over C channels (non-aliasing, so it vectorises).
void add_scaled(float* __restrict dst, const float* __restrict src, float scale, int64_t C) {
  for (int64_t c = 0; c < C; ++c) dst[c] += scale * src[c];
}

// One window tap of C channels: y = x (and its flat indices base + c).
void take_row(const float* __restrict x, float* __restrict y, int32_t* __restrict a, int64_t C,
              int32_t base) {
  for (int64_t c = 0; c < C; ++c) y[c] = x[c];
  if (a)
    for (int64_t c = 0; c < C; ++c) a[c] = base + static_cast<int32_t>(c);
}

// y = max(y, x) per channel, keeping the first maximum's index. Separate
// non-aliasing pointers let the compiler turn both into vector blends.
void max_row(const float* __restrict x, float* __restrict y, int32_t* __restrict a, int64_t C, int32_t base) {
  if (!a) {
    for (int64_t c = 0; c < C; ++c) {
      const float xv = x[c], yv = y[c];
      y[c] = xv > yv ? xv : yv;
    }
    return;
  }
  // Branch-free (a mask picks the index) so no store is conditional.
  for (int32_t c = 0; c < static_cast<int32_t>(C); ++c) {
    const float xv = x[c], yv = y[c];
    const int32_t gt = -static_cast<int32_t>(xv > yv);  // all ones where x wins
    y[c] = xv > yv ? xv : yv;
    a[c] ^= (a[c] ^ (base + c)) & gt;
  }
}

// f(C) with C a compile-time constant for the small channel counts, where a
// loop over C alone would be all overhead (LeNet pools 6 and 16 channels),
// and the run-time value otherwise.
template <class F>
void with_channels(int64_t C, const F& f) {
  switch (C) {
#define CNN_CHANNELS_CASE(n) \
  case n:                    \
    return f(std::integral_constant<int64_t, n>{});
    CNN_CHANNELS_CASE(1)
    CNN_CHANNELS_CASE(2)
    CNN_CHANNELS_CASE(3)
    CNN_CHANNELS_CASE(4)
    CNN_CHANNELS_CASE(6)
    CNN_CHANNELS_CASE(8)
    CNN_CHANNELS_CASE(12)
    CNN_CHANNELS_CASE(16)
#undef CNN_CHANNELS_CASE
    default:
      return f(C);
  }
}

// Average pooling's steps on one window of a row: `taps` consecutive blocks
// of C values. The pointers are restrict (a row buffer and a tensor never
// overlap) and, where C is a constant, the C values are summed in a local
// array: otherwise the compiler kept every partial sum in memory, in case a
// store changed what the next load reads.
// dst[0:C] = inv * sum over the taps of src's blocks.
template <class CT>
inline void window_mean(const float* __restrict src, int64_t taps, CT channels, float inv,
                        float* __restrict dst) {
  if constexpr (std::is_integral_v<CT>) {
    const int64_t C = channels;
    for (int64_t c = 0; c < C; ++c) dst[c] = src[c];
    for (int64_t k = 1; k < taps; ++k)
      for (int64_t c = 0; c < C; ++c) dst[c] += src[k * C + c];
    for (int64_t c = 0; c < C; ++c) dst[c] *= inv;
  } else {
    constexpr int64_t C = CT::value;
    float acc[C];
    for (int64_t c = 0; c < C; ++c) acc[c] = src[c];
    for (int64_t k = 1; k < taps; ++k)
      for (int64_t c = 0; c < C; ++c) acc[c] += src[k * C + c];
    for (int64_t c = 0; c < C; ++c) dst[c] = acc[c] * inv;
  }
}

// t[k * C + c] += inv * g[c] for each of the taps: the backward step.
template <class CT>
inline void window_spread(const float* __restrict g, int64_t taps, CT channels, float inv,
                          float* __restrict t) {
  if constexpr (std::is_integral_v<CT>) {
    const int64_t C = channels;
    for (int64_t k = 0; k < taps; ++k)
      for (int64_t c = 0; c < C; ++c) t[k * C + c] += inv * g[c];
  } else {
    constexpr int64_t C = CT::value;
    float v[C];
    for (int64_t c = 0; c < C; ++c) v[c] = inv * g[c];
    for (int64_t k = 0; k < taps; ++k)
      for (int64_t c = 0; c < C; ++c) t[k * C + c] += v[c];
  }
}

// `count` output pixels of a row whose windows lie wholly inside the image
// (x: the first window's top-left tap; x_index: its flat index): the
// PH x PW taps are compared in registers, a channel vector at a time, and
// the winning tap's offset is selected alongside (first maximum wins).
template <int PH, int PW>
void max_pool_inside(const float* __restrict x, int32_t x_index, int64_t W, int64_t C, int64_t SW,
                     int64_t count, float* __restrict y, int32_t* __restrict a) {
  const int64_t WC = W * C;
  for (int64_t ow = 0; ow < count; ++ow) {
    const float* p = x + ow * SW * C;
    float* yo = y + ow * C;
    if (!a) {
      for (int64_t c = 0; c < C; ++c) {
        float m = p[c];
        for (int kh = 0; kh < PH; ++kh)
          for (int kw = 0; kw < PW; ++kw) {
            const float v = p[kh * WC + kw * C + c];
            m = v > m ? v : m;
          }
        yo[c] = m;
      }
      continue;
    }
    int32_t* ao = a + ow * C;
    const int32_t base = x_index + static_cast<int32_t>(ow * SW * C);
    for (int32_t c = 0; c < static_cast<int32_t>(C); ++c) {
      float m = p[c];
      int32_t at = 0;
      for (int kh = 0; kh < PH; ++kh)
        for (int kw = 0; kw < PW; ++kw) {
          const int32_t off = static_cast<int32_t>(kh * WC + kw * C);
          const float v = p[off + c];
          const bool gt = v > m;
          m = gt ? v : m;
          at = gt ? off : at;
        }
      yo[c] = m;
      ao[c] = base + at + c;
    }
  }
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  const PoolPlan p = plan_pool("max_pool2d", x, opt);
  Tensor y = Tensor::empty({p.N, p.OH, p.OW, p.C});  // (N, OH, OW, C), every value written below
  const bool need_grad = any_requires_grad({x});
  // The flat input index per output value (-1: a window with no real pixel),
  // every one written below (so not cleared first: that was a serial pass).
  std::shared_ptr<int32_t[]> argmax;
  if (need_grad) argmax.reset(new int32_t[static_cast<size_t>(y.numel())]);
  const float* xd = x.data();
  float* yd = y.data();
  int32_t* am = argmax.get();
  // Channels innermost: every window tap is a whole row of C values, compared
  // and kept with vector blends; the first maximum wins, as in TensorFlow.
  parallel_for(
      p.N * p.OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.OW * p.C)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t n = r / p.OH, oh = r % p.OH, ih0 = oh * p.SH - p.PT;
          // Windows wholly inside the image (all of them for 'valid'
          // pooling) take the unrolled 2x2 / 3x3 path.
          int64_t in0 = 0, in1 = 0;
          if (ih0 >= 0 && ih0 + p.PH <= p.H && ((p.PH == 2 && p.PW == 2) || (p.PH == 3 && p.PW == 3))) {
            in0 = std::min(p.OW, (p.PL + p.SW - 1) / p.SW);
            const int64_t last = p.W + p.PL - p.PW;  // the last window start that fits, + PL
            in1 = last < 0 ? in0 : std::max(in0, std::min(p.OW, last / p.SW + 1));
            const int64_t i0 = ((n * p.H + ih0) * p.W + in0 * p.SW - p.PL) * p.C;
            const int64_t o0 = ((n * p.OH + oh) * p.OW + in0) * p.C;
            const auto inside = p.PH == 2 ? &max_pool_inside<2, 2> : &max_pool_inside<3, 3>;
            inside(xd + i0, static_cast<int32_t>(i0), p.W, p.C, p.SW, in1 - in0, yd + o0,
                   am ? am + o0 : nullptr);
          }
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            if (ow == in0 && in1 > in0) ow = in1;
            if (ow >= p.OW) break;
            const int64_t o = ((n * p.OH + oh) * p.OW + ow) * p.C;
            float* yrow = yd + o;
            int32_t* arow = am ? am + o : nullptr;
            bool first = true;
            for (int64_t kh = 0; kh < p.PH; ++kh) {
              const int64_t ih = oh * p.SH + kh - p.PT;
              if (ih < 0 || ih >= p.H) continue;
              for (int64_t kw = 0; kw < p.PW; ++kw) {
                const int64_t iw = ow * p.SW + kw - p.PL;
                if (iw < 0 || iw >= p.W) continue;
                const int64_t i0 = ((n * p.H + ih) * p.W + iw) * p.C;
                const float* xrow = xd + i0;
                if (first) {
                  take_row(xrow, yrow, arow, p.C, static_cast<int32_t>(i0));
                  first = false;
                } else {
                  max_row(xrow, yrow, arow, p.C, static_cast<int32_t>(i0));
                }
              }
            }
            if (first) {
              for (int64_t c = 0; c < p.C; ++c) yrow[c] = -std::numeric_limits<float>::infinity();
              if (arow)
                for (int64_t c = 0; c < p.C; ++c) arow[c] = -1;
            }
          }
        }
      });
  record(y, "max_pool2d", {x}, [x, p, argmax = std::move(argmax)](const Tensor&, const float* dy) {
    // A fresh buffer is not cleared when made: each image's input rows are
    // zeroed just before the first output row whose windows reach them, so
    // they are in cache for the scatter (W2's first pooling would otherwise
    // zero its 22 MB gradient in a pass of its own).
    bool fresh = false;
    float* dx = x.grad_data_for_write(&fresh);
    const int64_t WC = p.W * p.C, row_out = p.OW * p.C;
    // Each image's maxima lie in its own input, so images scatter in parallel.
    parallel_for(p.N, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, p.OH * row_out)),
                 [&](int64_t n0, int64_t n1) {
                   for (int64_t n = n0; n < n1; ++n) {
                     float* dxn = dx + n * p.H * WC;
                     int64_t cleared = fresh ? 0 : p.H;  // rows [0, cleared) hold their gradient so far
                     for (int64_t oh = 0; oh < p.OH; ++oh) {
                       const int64_t reach =
                           std::min(p.H, oh * p.SH - p.PT + p.PH);  // past the windows' rows
                       if (cleared < reach) {
                         kernels::zero_run(dxn + cleared * WC, (reach - cleared) * WC);
                         cleared = reach;
                       }
                       const int64_t o0 = (n * p.OH + oh) * row_out;
                       for (int64_t o = o0; o < o0 + row_out; ++o)
                         if (argmax[o] >= 0) dx[argmax[o]] += dy[o];
                     }
                     if (cleared < p.H) kernels::zero_run(dxn + cleared * WC, (p.H - cleared) * WC);
                   }
                 });
  });
  return y;
}

// Average pooling works a row at a time: the window's input rows are summed
// whole (W * C contiguous values, which vectorise however few channels there
// are), then each output pixel sums its columns of that row sum. Backward
// runs the same two steps in reverse.
Tensor avg_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  const PoolPlan p = plan_pool("avg_pool2d", x, opt);
  Tensor y = Tensor::empty({p.N, p.OH, p.OW, p.C});  // (N, OH, OW, C), every value written below
  // Window bounds clipped to the image; the divisor is the count of real pixels.
  auto window = [](int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t limit) {
    int64_t lo = o * stride - pad, hi = lo + k;
    return std::pair<int64_t, int64_t>{lo < 0 ? 0 : lo, hi > limit ? limit : hi};
  };
  std::vector<std::pair<int64_t, int64_t>> cols(static_cast<size_t>(p.OW));
  for (int64_t ow = 0; ow < p.OW; ++ow) cols[ow] = window(ow, p.SW, p.PL, p.PW, p.W);
  // 1 / (the window's real rows x columns), for every row count (1..PH) and
  // output column: the divisions done once, not at every output pixel. Every
  // window holds at least one real row (the padding is less than the window).
  std::vector<float> inv_table(static_cast<size_t>(p.PH * p.OW));
  for (int64_t r = 1; r <= p.PH; ++r)
    for (int64_t ow = 0; ow < p.OW; ++ow)
      inv_table[(r - 1) * p.OW + ow] = 1.0f / static_cast<float>(r * (cols[ow].second - cols[ow].first));
  const int64_t WC = p.W * p.C, C = p.C;
  const float* xd = x.data();
  float* yd = y.data();
  // Output rows are independent: split across threads.
  parallel_for(p.N * p.OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.OW * p.C)),
               [&](int64_t r0, int64_t r1) {
                 thread_local std::vector<float> row_sum;
                 row_sum.resize(static_cast<size_t>(WC));
                 float* t = row_sum.data();
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t n = r / p.OH, oh = r % p.OH;
                   const auto [h0, h1] = window(oh, p.SH, p.PT, p.PH, p.H);
                   const int64_t rows = h1 - h0;  // a plain local: clang 14 cannot capture bindings
                   // Loops, not memcpy/memset: in wasm those are libc calls (and
                   // from 512 bytes a call out to JavaScript).
                   kernels::copy_run(t, xd + (n * p.H + h0) * WC, WC);
                   for (int64_t ih = h0 + 1; ih < h1; ++ih) add_scaled(t, xd + (n * p.H + ih) * WC, 1.0f, WC);
                   with_channels(C, [&](auto channels) {
                     const int64_t CC = channels;
                     for (int64_t ow = 0; ow < p.OW; ++ow) {
                       const auto [w0, w1] = cols[ow];
                       const float inv = inv_table[(rows - 1) * p.OW + ow];
                       float* dst = yd + (r * p.OW + ow) * CC;
                       window_mean(t + w0 * CC, w1 - w0, channels, inv, dst);
                     }
                   });
                 }
               });
  record(y, "avg_pool2d", {x},
         [x, p, window, cols, inv_table = std::move(inv_table)](const Tensor& out, const float* dy) {
           // A fresh buffer is written rather than added to: an image's rows below
           // `written` hold their gradient; the windows move down monotonically, so
           // rows they skip (stride > pool) or never reach are zeroed as passed.
           bool fresh = false;
           float* dx = x.grad_data_for_write(&fresh);
           const int64_t WC = p.W * p.C, C = p.C;
           // Windows may overlap within an image, so threads take whole images.
           const int64_t per_image = out.numel() / std::max<int64_t>(1, p.N);
           parallel_for(p.N, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, per_image)),
                        [&](int64_t n0, int64_t n1) {
                          thread_local std::vector<float> row_grad;
                          row_grad.resize(static_cast<size_t>(WC));
                          float* t = row_grad.data();
                          for (int64_t n = n0; n < n1; ++n) {
                            float* dxn = dx + n * p.H * WC;
                            int64_t written = fresh ? 0 : p.H;
                            for (int64_t oh = 0; oh < p.OH; ++oh) {
                              const auto [h0, h1] = window(oh, p.SH, p.PT, p.PH, p.H);
                              // A plain local: clang 14 cannot capture bindings.
                              const int64_t rows = h1 - h0;
                              // The row's gradient per input column, then into each window row.
                              kernels::zero_run(t, WC);
                              with_channels(C, [&](auto channels) {
                                const int64_t CC = channels;
                                for (int64_t ow = 0; ow < p.OW; ++ow) {
                                  const auto [w0, w1] = cols[ow];
                                  const float inv = inv_table[(rows - 1) * p.OW + ow];
                                  window_spread(dy + ((n * p.OH + oh) * p.OW + ow) * CC, w1 - w0, channels,
                                                inv, t + w0 * CC);
                                }
                              });
                              if (written < h0) {
                                std::fill(dxn + written * WC, dxn + h0 * WC, 0.0f);
                                written = h0;
                              }
                              for (int64_t ih = h0; ih < h1; ++ih) {
                                if (ih < written)
                                  add_scaled(dxn + ih * WC, t, 1.0f, WC);
                                else
                                  kernels::copy_run(dxn + ih * WC, t, WC);  // no memcpy (wasm)
                              }
                              written = std::max(written, h1);
                            }
                            if (written < p.H) std::fill(dxn + written * WC, dxn + p.H * WC, 0.0f);
                          }
                        });
         });
  return y;
}

Tensor global_avg_pool2d(const Tensor& x) {
  if (x.ndim() != 4)
    shape_fail("global_avg_pool2d", "input has shape " + shape_str(x.shape()) +
                                        ", expected rank 4 (batch, height, width, channels)");
  const int64_t N = x.dim(0), HW = x.dim(1) * x.dim(2), C = x.dim(3);
  if (HW == 0) shape_fail("global_avg_pool2d", "input " + shape_str(x.shape()) + " has no pixels");
  Tensor y({N, C});
  const float inv = 1.0f / static_cast<float>(HW);
  for (int64_t n = 0; n < N; ++n) {
    float* dst = y.data() + n * C;
    const float* src = x.data() + n * HW * C;
    for (int64_t i = 0; i < HW; ++i)
      for (int64_t c = 0; c < C; ++c) dst[c] += src[i * C + c];
    for (int64_t c = 0; c < C; ++c) dst[c] *= inv;
  }
  record(y, "global_avg_pool2d", {x}, [x, N, HW, C, inv](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i)
        for (int64_t c = 0; c < C; ++c) dx[(n * HW + i) * C + c] += dy[n * C + c] * inv;
  });
  return y;
}

Tensor global_max_pool2d(const Tensor& x) {
  if (x.ndim() != 4)
    shape_fail("global_max_pool2d", "input has shape " + shape_str(x.shape()) +
                                        ", expected rank 4 (batch, height, width, channels)");
  const int64_t N = x.dim(0), HW = x.dim(1) * x.dim(2), C = x.dim(3);
  if (HW == 0) shape_fail("global_max_pool2d", "input " + shape_str(x.shape()) + " has no pixels");
  Tensor y({N, C});
  std::vector<int32_t> argmax(static_cast<size_t>(N * C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      int64_t best = n * HW * C + c;
      for (int64_t i = 1; i < HW; ++i) {
        int64_t j = (n * HW + i) * C + c;
        if (x[j] > x[best]) best = j;
      }
      y[n * C + c] = x[best];
      argmax[n * C + c] = static_cast<int32_t>(best);
    }
  record(y, "global_max_pool2d", {x}, [x, argmax = std::move(argmax)](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    for (size_t o = 0; o < argmax.size(); ++o) dx[argmax[o]] += dy[o];
  });
  return y;
}

}  // namespace cnn::ops::cpu
