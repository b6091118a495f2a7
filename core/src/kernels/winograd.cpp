// Winograd F(m x m, 3x3) (Lavin & Gray, 2015) over NHWC, m = 2 to 5: an m x m
// output tile is A^T [(G g G^T) . (B^T d B)] A for its (m+2) x (m+2) input
// tile d (the matrices are with the transforms below). Summed over channels,
// the elementwise product is (m+2)^2 GEMMs, one per tile position xi:
// M_xi (tiles, O) = V_xi (tiles, C) * U_xi (C, O), or on ISAs that fuse
// them (KernelTable::winograd_fused) tiles over panels of U transformed
// straight into the tiles' layout (fused_products). Tiles are taken in
// chunks as large as a memory budget allows, since each GEMM packs its U.
#include "cnn/kernels/winograd.h"

#include <algorithm>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"
#include "cnn/parallel.h"
#include "kernels/gemm_pack.h"
#include "kernels/kernel_table.h"
#include "kernels/scratch.h"

namespace cnn::kernels {

namespace {

// The transforms run a whole vector of channels (or filters) at a time:
// L is a batch of the build's baseline SIMD width, then float for the tail.
using Lanes = xsimd::batch<float>;
template <class L>
L load(const float* p) {
  if constexpr (std::is_same_v<L, float>)
    return *p;
  else
    return L::load_unaligned(p);
}
template <class L>
void store(float* p, L v) {
  if constexpr (std::is_same_v<L, float>)
    *p = v;
  else
    v.store_unaligned(p);
}
// f.template operator()<L>(i) for i in [0, n): vectors first, then floats.
template <class F>
void over_lanes(int64_t n, const F& f) {
  constexpr int64_t W = Lanes::size;
  int64_t i = 0;
  for (; i + W <= n; i += W) f.template operator()<Lanes>(i);
  for (; i < n; ++i) f.template operator()<float>(i);
}

// The 1-D transforms of F(m, 3) with m = 2, 3 or 4 (alpha = m + 2 points):
// filter u = G g, input t = B^T d, output y = A^T v. A 2-D transform applies
// the 1-D one to the rows of a tile, then to the columns of the result.
template <int TM>
struct Transforms;

// F(2, 3): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
template <>
struct Transforms<2> {
  static constexpr int kAlpha = 4;
  template <class L>
  static void filter(const L* g, L* u) {
    const L half(0.5f);
    u[0] = g[0];
    u[1] = half * (g[0] + g[1] + g[2]);
    u[2] = half * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
  template <class L>
  static void input(const L* d, L* t) {
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
  }
  template <class L>
  static void output(const L* v, L* y) {
    y[0] = v[0] + v[1] + v[2];
    y[1] = v[1] - v[2] - v[3];
  }
};

// F(3, 3) on the points 0, +-1, 2 and infinity (of the other choices of a
// fourth point, -2 and +-1/2, this one rounded least in float):
// B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1],
// G = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1],
// A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1].
template <>
struct Transforms<3> {
  static constexpr int kAlpha = 5;
  template <class L>
  static void filter(const L* g, L* u) {
    const L half(0.5f), sixth(1.0f / 6.0f), third(1.0f / 3.0f), two_thirds(2.0f / 3.0f);
    u[0] = half * g[0];
    u[1] = -half * (g[0] + g[1] + g[2]);
    u[2] = sixth * (g[1] - g[0] - g[2]);
    u[3] = sixth * g[0] + third * g[1] + two_thirds * g[2];
    u[4] = g[2];
  }
  template <class L>
  static void input(const L* d, L* t) {
    const L two(2.0f), three(3.0f);
    const L e = d[3] - d[1];  // t3, which every other row but t4 contains
    t[0] = two * (d[0] - d[2]) + e;
    t[1] = e - d[1] - d[2];
    t[2] = e + three * (d[1] - d[2]);
    t[3] = e;
    t[4] = two * (d[1] - d[3]) - d[2] + d[4];
  }
  template <class L>
  static void output(const L* v, L* y) {
    const L two(2.0f), four(4.0f);
    const L s12 = v[1] + v[2];
    y[0] = v[0] + s12 + v[3];
    y[1] = v[1] - v[2] + two * v[3];
    y[2] = s12 + four * v[3] + v[4];
  }
};

// F(4, 3) on the points 0, +-1, +-2 and infinity:
// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
//        0 2 -1 -2 1 0; 0 4 0 -5 0 1],
// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
//      1/24 -1/12 1/6; 0 0 1],
// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
template <>
struct Transforms<4> {
  static constexpr int kAlpha = 6;
  template <class L>
  static void filter(const L* g, L* u) {
    const L sixth(1.0f / 6.0f), twelfth(1.0f / 12.0f), quarter(0.25f);
    const L even = g[0] + g[2], odd = g[1];
    const L e24 = quarter * g[0] + g[2];  // u3, u4 = e24 / 6 +- g1 / 12
    u[0] = quarter * g[0];
    u[1] = -sixth * (even + odd);
    u[2] = -sixth * (even - odd);
    u[3] = sixth * e24 + twelfth * odd;
    u[4] = sixth * e24 - twelfth * odd;
    u[5] = g[2];
  }
  template <class L>
  static void input(const L* d, L* t) {
    const L four(4.0f), five(5.0f), two(2.0f);
    const L a = d[4] - four * d[2], b = d[3] - four * d[1];  // t1, t2 = a + b, a - b
    t[0] = four * d[0] - five * d[2] + d[4];
    t[1] = a + b;
    t[2] = a - b;
    const L c = d[4] - d[2], e = two * (d[3] - d[1]);
    t[3] = c + e;
    t[4] = c - e;
    t[5] = four * d[1] - five * d[3] + d[5];
  }
  template <class L>
  static void output(const L* v, L* y) {
    const L two(2.0f), four(4.0f), eight(8.0f);
    const L s12 = v[1] + v[2], d12 = v[1] - v[2], s34 = v[3] + v[4], d34 = v[3] - v[4];
    y[0] = v[0] + s12 + s34;
    y[1] = d12 + two * d34;
    y[2] = s12 + four * s34;
    y[3] = d12 + eight * d34 + v[5];
  }
};

// F(5, 3) on the points 0, 1, -1, 2, -2, 1/2 and infinity (1/2 and -1/2
// rounded alike, simulated in float over 256 channels: 4e-6 of the output
// per tile, twice F(4, 3)):
// G = [-1/2 0 0; -1/3 -1/3 -1/3; 1/9 -1/9 1/9; 1/36 1/18 1/9;
//      -1/60 1/30 -1/15; 32/45 16/45 8/45; 0 0 1],
// A^T = [1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 0; 0 1 1 4 4 1/4 0;
//        0 1 -1 8 -8 1/8 0; 0 1 1 16 16 1/16 1].
// Row j of B^T holds the coefficients of prod over the other finite points
// p of (x - p), and of the product over all of them for infinity: all but
// the row of 1/2 share the factor (x - 1/2), so they are F(4, 3)'s input
// transform taken over h_k = d_(k+1) - d_k / 2.
template <>
struct Transforms<5> {
  static constexpr int kAlpha = 7;
  template <class L>
  static void filter(const L* g, L* u) {
    const L half(0.5f), third(1.0f / 3.0f), ninth(1.0f / 9.0f), c36(1.0f / 36.0f), c60(1.0f / 60.0f),
        c45(8.0f / 45.0f), two(2.0f), four(4.0f);
    const L even = g[0] + g[2], odd = g[1];
    const L e2 = g[0] + four * g[2], o2 = two * g[1];  // the taps weighted for the points +-2
    u[0] = -half * g[0];
    u[1] = -third * (even + odd);
    u[2] = ninth * (even - odd);
    u[3] = c36 * (e2 + o2);
    u[4] = -c60 * (e2 - o2);
    u[5] = c45 * (four * g[0] + o2 + g[2]);
    u[6] = g[2];
  }
  template <class L>
  static void input(const L* d, L* t) {
    const L half(0.5f), four(4.0f), five(5.0f);
    L h[6], th[6];
    for (int k = 0; k < 6; ++k) h[k] = d[k + 1] - half * d[k];
    Transforms<4>::input(h, th);  // the points 0, +-1, +-2 and infinity
    for (int k = 0; k < 5; ++k) t[k] = th[k];
    t[5] = four * d[1] - five * d[3] + d[5];  // 1/2: x (x^2 - 1)(x^2 - 4)
    t[6] = th[5];
  }
  template <class L>
  static void output(const L* v, L* y) {
    const L two(2.0f), four(4.0f), eight(8.0f), sixteen(16.0f), half(0.5f), quarter(0.25f), eighth(0.125f),
        sixteenth(0.0625f);
    const L s12 = v[1] + v[2], d12 = v[1] - v[2], s34 = v[3] + v[4], d34 = v[3] - v[4];
    y[0] = v[0] + s12 + s34 + v[5];
    y[1] = d12 + two * d34 + half * v[5];
    y[2] = s12 + four * s34 + quarter * v[5];
    y[3] = d12 + eight * d34 + eighth * v[5];
    y[4] = s12 + sixteen * s34 + sixteenth * v[5] + v[6];
  }
};

// The distance between consecutive positions' planes of n floats: whole
// 64-byte lines and one more, so that the (m+2)^2 planes a tile's transform
// writes at once (or reads, inverted) start in different sets of the cache.
// A power-of-two plane put all of them in one set: the filter transform of
// 512 x 512 filters ran 1.6x slower, in V8 on an Intel Xeon.
inline int64_t plane_stride(int64_t n) { return (n + 15) / 16 * 16 + 16; }

// G g G^T for the taps of one (channel, filter) pair, a vector of filters at
// a time: tap k at g + k * CO, position xi stored at u + xi * us. A stride
// known at compile time (a std::integral_constant) puts the 49 stores at
// fixed offsets from one address.
template <int TM, class L, class Stride>
void transform_filter(const float* g, int64_t CO, float* u, Stride us) {
  using T = Transforms<TM>;
  constexpr int A = T::kAlpha;
  L t[A][3];  // G g, a column of taps at a time
  for (int kw = 0; kw < 3; ++kw) {
    const L col[3] = {load<L>(g + kw * CO), load<L>(g + (3 + kw) * CO), load<L>(g + (6 + kw) * CO)};
    L out[A];
    T::filter(col, out);
    for (int i = 0; i < A; ++i) t[i][kw] = out[i];
  }
  for (int i = 0; i < A; ++i) {  // (G g) G^T
    L out[A];
    T::filter(t[i], out);
    for (int j = 0; j < A; ++j) store<L>(u + (i * A + j) * us, out[j]);
  }
}

// U (alpha^2, C, O) = G g G^T for every (c, o), position xi at U + xi * us;
// w is HWIO (3, 3, C, O).
template <int TM>
void transform_filters(const float* w, int64_t C, int64_t O, float* U, int64_t us) {
  const int64_t CO = C * O;
  parallel_for(C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, O)), [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      over_lanes(O,
                 [&]<class L>(int64_t o) { transform_filter<TM, L>(w + c * O + o, CO, U + c * O + o, us); });
  });
}

// A panel of transformed filters (fused_products) holds each position's
// slivers in a region of this many floats, a fixed distance that puts the
// filter transform's stores at fixed offsets from one address (and, a line
// past 16 KiB, in different cache sets). (C, 8) slivers fit it up to C = 512.
constexpr int64_t kPanelRegion = 4096 + 16;

// The filters' columns [j0, j0 + slivers * NR) of every U_xi, packed as the
// GEMM tiles read B: (C, NR) slivers of ss floats each, sliver s of
// position xi at out + xi * kPanelRegion + s * ss, zero past O.
template <int TM>
void transform_filter_panel(const float* w, int64_t C, int64_t O, int64_t j0, int64_t slivers, int64_t NR,
                            int64_t ss, float* out) {
  constexpr int XI = (TM + 2) * (TM + 2);
  const int64_t CO = C * O;
  for (int64_t s = 0; s < slivers; ++s) {
    const int64_t o0 = j0 + s * NR, n = std::min(NR, O - o0);
    float* u = out + s * ss;
    over_lanes(n, [&]<class L>(int64_t i) {
      for (int64_t c = 0; c < C; ++c)
        transform_filter<TM, L>(w + c * O + o0 + i, CO, u + c * NR + i,
                                std::integral_constant<int64_t, kPanelRegion>{});
    });
    if (n < NR)
      for (int xi = 0; xi < XI; ++xi)
        for (int64_t c = 0; c < C; ++c) std::fill_n(u + xi * kPanelRegion + c * NR + n, NR - n, 0.0f);
  }
}

// V[xi][0:C] = (B^T d B)[xi] for the alpha x alpha tile at d (row stride rs,
// pixel stride C) of the padded input; xi at v + xi * vs.
template <int TM>
void transform_tile(const float* d, int64_t rs, int64_t C, float* v, int64_t vs) {
  using T = Transforms<TM>;
  constexpr int A = T::kAlpha;
  over_lanes(C, [&]<class L>(int64_t c) {
    L t[A][A];  // B^T d, column j at t[.][j]
    for (int j = 0; j < A; ++j) {
      L col[A], out[A];
      for (int i = 0; i < A; ++i) col[i] = load<L>(d + i * rs + j * C + c);
      T::input(col, out);
      for (int i = 0; i < A; ++i) t[i][j] = out[i];
    }
    for (int i = 0; i < A; ++i) {  // (B^T d) B
      L out[A];
      T::input(t[i], out);
      for (int j = 0; j < A; ++j) store<L>(v + (i * A + j) * vs + c, out[j]);
    }
  });
}

// The m x m outputs A^T v A of one tile from v (xi at v + xi * ms) into out
// (row stride rs, pixel stride O).
template <int TM>
void inverse_tile(const float* m, int64_t ms, int64_t O, float* out, int64_t rs) {
  using T = Transforms<TM>;
  constexpr int A = T::kAlpha;
  over_lanes(O, [&]<class L>(int64_t o) {
    L s[TM][A];  // A^T v, column j at s[.][j]
    for (int j = 0; j < A; ++j) {
      L col[A], y[TM];
      for (int i = 0; i < A; ++i) col[i] = load<L>(m + (i * A + j) * ms + o);
      T::output(col, y);
      for (int i = 0; i < TM; ++i) s[i][j] = y[i];
    }
    for (int i = 0; i < TM; ++i) {  // (A^T v) A
      L y[TM];
      T::output(s[i], y);
      for (int j = 0; j < TM; ++j) store<L>(out + i * rs + j * O + o, y[j]);
    }
  });
}

// The floats of a (C, NR) sliver of B in a panel, whole 64-byte lines.
int64_t sliver_floats(int64_t C, int64_t NR) { return (C * NR + 15) / 16 * 16; }

// Whether fused_products takes a conv of C channels on this ISA.
bool fused_applies(const KernelTable& kt, int64_t C) {
  return kt.winograd_fused && sliver_floats(C, kt.nr) <= kPanelRegion;
}

// M_xi (nt, O) = V_xi (nt, C) U_xi (C, O) for every position xi (V_xi at V +
// xi * vs, M_xi at M + xi * ms; fused_applies): U is transformed from w a
// panel of B slivers at a time, straight into the layout the GEMM tiles
// read and into a buffer they then find in cache, and each tile runs over
// the whole of C, reading V in place. The GEMMs instead wrote U out whole,
// then packed it: at 5x5 outputs (16 tiles a GEMM) the transform and the
// packing were half the conv, in V8 on an Intel Xeon.
template <int TM>
void fused_products(const float* w, int64_t C, int64_t O, const float* V, int64_t vs, int64_t nt, float* M,
                    int64_t ms) {
  constexpr int XI = (TM + 2) * (TM + 2);
  const KernelTable& kt = active_kernels();
  const int64_t MR = kt.mr, NR = kt.nr, slivers = (O + NR - 1) / NR, row_tiles = (nt + MR - 1) / MR;
  const int64_t ss = sliver_floats(C, NR);
  const int64_t fit = std::min(kPanelRegion / ss, slivers);
  const int64_t panels = (slivers + fit - 1) / fit, per = (slivers + panels - 1) / panels;
  // Fewer panels than threads: each also takes a part of the rows, and
  // transforms its panel for itself.
  const int64_t threads = threads_here();
  const int64_t parts = panels >= threads ? 1 : std::min((threads + panels - 1) / panels, row_tiles);
  parallel_for(panels * parts, 1, [&](int64_t t0, int64_t t1) {
    thread_local Scratch u_panel;
    float* U = u_panel.get(XI * kPanelRegion);
    int64_t have = -1;  // the panel U holds
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t p = task / parts, part = task % parts;
      const int64_t s0 = p * per, np = std::min(per, slivers - s0), j0 = s0 * NR;
      if (have != p) transform_filter_panel<TM>(w, C, O, j0, np, NR, ss, U);
      have = p;
      const int64_t i0 = part * row_tiles / parts * MR,
                    i1 = std::min(nt, (part + 1) * row_tiles / parts * MR);
      for (int xi = 0; xi < XI; ++xi) {
        const float* a = V + xi * vs;
        float* m = M + xi * ms;
        for (int64_t i = i0; i < i1; i += MR)
          for (int64_t s = 0; s < np; ++s) {
            const int64_t j = j0 + s * NR;
            kt.gemm_tile(C, a + i * C, C, U + xi * kPanelRegion + s * ss, 1.0f, m + i * O + j, O,
                         std::min(MR, i1 - i), std::min(NR, O - j), true);
          }
      }
    }
  });
}

// The convolution with F(TM x TM, 3 x 3) tiles; ep (if any) on each tile's
// outputs as they are written, while they are in cache.
template <int TM>
void conv3x3_tiles(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w, float* y,
                   const Epilogue* ep) {
  constexpr int A = TM + 2, XI = A * A;
  const int64_t C = g.C, TH = (g.OH + TM - 1) / TM, TW = (g.OW + TM - 1) / TM, tiles = N * TH * TW;
  if (tiles <= 0) return;
  thread_local Scratch u_scratch, p_scratch, v_scratch, m_scratch;
  const bool fused = fused_applies(active_kernels(), C);
  const int64_t us = plane_stride(C * O);
  float* U = fused ? nullptr : u_scratch.get(XI * us);
  if (!fused) transform_filters<TM>(w, C, O, U, us);
  // The input zero-padded to whole tiles, so every tile reads one block.
  const int64_t Hp = TM * TH + 2, Wp = TM * TW + 2, rs = Wp * C;
  float* padded = p_scratch.get(N * Hp * rs);
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      pad_image(x + n * g.H * g.W * C, g.H, g.W, C, g.PT, g.PL, Hp, Wp, padded + n * Hp * rs);
  });
  // Each GEMM packs its U_xi, so chunks of tiles are as large as the V and M
  // buffers' budget allows (one chunk for most layers).
  constexpr int64_t kBudgetFloats = int64_t{1} << 22;
  const int64_t chunk = std::clamp<int64_t>(kBudgetFloats / (XI * std::max(C, O)), 1, tiles);
  float* V = v_scratch.get(XI * plane_stride(chunk * C));
  float* M = m_scratch.get(XI * plane_stride(chunk * O));
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t nt = std::min(chunk, tiles - t0), vs = plane_stride(nt * C), ms = plane_stride(nt * O);
    parallel_for(nt, std::max<int64_t>(1, 2048 / C), [&](int64_t a, int64_t b) {
      for (int64_t t = a; t < b; ++t) {
        const int64_t tile = t0 + t, n = tile / (TH * TW), th = tile / TW % TH, tw = tile % TW;
        transform_tile<TM>(padded + (n * Hp + TM * th) * rs + TM * tw * C, rs, C, V + t * C, vs);
      }
    });
    if (fused)
      fused_products<TM>(w, C, O, V, vs, nt, M, ms);
    else
      for (int xi = 0; xi < XI; ++xi)
        gemm(false, false, nt, O, C, 1.0f, V + xi * vs, C, U + xi * us, O, 0.0f, M + xi * ms, O);
    parallel_for(nt, std::max<int64_t>(1, 2048 / O), [&](int64_t a, int64_t b) {
      thread_local std::vector<float> edge;  // a tile that crosses the output's edge
      edge.resize(static_cast<size_t>(TM * TM * O));
      for (int64_t t = a; t < b; ++t) {
        const int64_t tile = t0 + t, n = tile / (TH * TW), th = tile / TW % TH, tw = tile % TW;
        const int64_t oh = TM * th, ow = TM * tw;
        const int64_t first = (n * g.OH + oh) * g.OW + ow;  // the tile's first output pixel
        float* at = y + first * O;
        const int64_t rows = std::min<int64_t>(TM, g.OH - oh), cols = std::min<int64_t>(TM, g.OW - ow);
        if (rows == TM && cols == TM) {
          inverse_tile<TM>(M + t * O, ms, O, at, g.OW * O);
        } else {
          inverse_tile<TM>(M + t * O, ms, O, edge.data(), TM * O);
          for (int64_t i = 0; i < rows; ++i)
            std::copy(edge.data() + i * TM * O, edge.data() + (i * TM + cols) * O, at + i * g.OW * O);
        }
        if (ep)  // each of the tile's rows of pixels: a block of C with O columns
          for (int64_t i = 0; i < rows; ++i) {
            const int64_t p = first + i * g.OW;
            apply_epilogue(*ep, y, O, p, p + cols, 0, O);
          }
      }
    });
  }
}

}  // namespace

bool winograd_applies(const ConvGeometry& g, int64_t N, int64_t O) {
  const int64_t min_tiles = active_kernels().winograd_min_tiles;
  return min_tiles > 0 && N * ((g.OH + 3) / 4) * ((g.OW + 3) / 4) >= min_tiles && g.KH == 3 && g.KW == 3 &&
         g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.C >= 16 && O >= 16 && g.OH >= 2 && g.OW >= 2;
}

int winograd_tile(const ConvGeometry& g, int64_t N) {
  // An m x m tile costs (m+2)^2 multiplies per channel pair. Larger tiles
  // waste more past the output's edge (5x5 outputs: 9 tiles of 2x2, 4 of
  // 3x3, 4 of 4x4) and have more filter positions to transform and pack per
  // call (about 8 tiles' worth of multiplies each, which small batches
  // feel). The cheapest by that count is taken, the smaller on a tie (it
  // rounds less). wasm W4 (150x150 inputs, batch 16) in V8 on an Intel Xeon,
  // alternating runs: 4x4 tiles on the 10x10 outputs, a 16% saving that an
  // earlier rule (a sixth at least) left on 2x2, +1.6%; with 3x3 tiles on
  // the 5x5 outputs and 512-column B panels (gemm.cpp), +3.0%. Natively
  // ResNet50 batch 1 and W4 measured level. Up to the ISA's largest tile
  // (KernelTable::winograd_max_tile): on SIMD128, with the fused products,
  // 5x5 tiles take all of W4's 3x3 convs, and the rule picked the faster
  // tile on each of W3's at batch 8 (measured on every candidate).
  int best = 2;
  int64_t best_cost = 0;
  for (int m = 2; m <= active_kernels().winograd_max_tile; ++m) {
    const int64_t cost = (m + 2) * (m + 2) * (N * ((g.OH + m - 1) / m) * ((g.OW + m - 1) / m) + 8);
    if (m == 2 || cost < best_cost) best = m, best_cost = cost;
  }
  return best;
}

void conv3x3_winograd(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w, float* y,
                      const Epilogue* ep) {
  switch (winograd_tile(g, N)) {
    case 5:
      return conv3x3_tiles<5>(g, N, O, x, w, y, ep);
    case 4:
      return conv3x3_tiles<4>(g, N, O, x, w, y, ep);
    case 3:
      return conv3x3_tiles<3>(g, N, O, x, w, y, ep);
    default:
      return conv3x3_tiles<2>(g, N, O, x, w, y, ep);
  }
}

}  // namespace cnn::kernels
