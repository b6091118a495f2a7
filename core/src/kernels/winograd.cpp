// Winograd F(2x2, 3x3) (Lavin & Gray, 2015) over NHWC. With
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// a 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A for its 4x4 input tile d.
// Summed over channels, the elementwise product is 16 GEMMs, one per tile
// position xi: M_xi (tiles, O) = V_xi (tiles, C) * U_xi (C, O). Tiles are taken
// in chunks as large as a memory budget allows, since each GEMM packs its U.
#include "cnn/kernels/winograd.h"

#include <algorithm>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"
#include "cnn/parallel.h"
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

// U (16, C, O) = G g G^T for every (c, o); w is HWIO (3, 3, C, O).
void transform_filters(const float* w, int64_t C, int64_t O, float* U) {
  const int64_t CO = C * O;
  parallel_for(C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, O)), [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* g = w + c * O;  // tap k at g + k * CO
      float* u = U + c * O;        // position xi at u + xi * CO
      over_lanes(O, [&]<class L>(int64_t o) {
        const L half(0.5f);
        L t[4][3];  // G g
        for (int kw = 0; kw < 3; ++kw) {
          const L g0 = load<L>(g + kw * CO + o), g1 = load<L>(g + (3 + kw) * CO + o),
                  g2 = load<L>(g + (6 + kw) * CO + o);
          t[0][kw] = g0;
          t[1][kw] = half * (g0 + g1 + g2);
          t[2][kw] = half * (g0 - g1 + g2);
          t[3][kw] = g2;
        }
        for (int i = 0; i < 4; ++i) {  // (G g) G^T
          store<L>(u + (i * 4 + 0) * CO + o, t[i][0]);
          store<L>(u + (i * 4 + 1) * CO + o, half * (t[i][0] + t[i][1] + t[i][2]));
          store<L>(u + (i * 4 + 2) * CO + o, half * (t[i][0] - t[i][1] + t[i][2]));
          store<L>(u + (i * 4 + 3) * CO + o, t[i][2]);
        }
      });
    }
  });
}

// V[xi][0:C] = (B^T d B)[xi] for the 4x4 tile at d (row stride rs, pixel
// stride C) of the padded input; xi at v + xi * vs.
void transform_tile(const float* d, int64_t rs, int64_t C, float* v, int64_t vs) {
  over_lanes(C, [&]<class L>(int64_t c) {
    L t[4][4];  // B^T d
    for (int j = 0; j < 4; ++j) {
      const L d0 = load<L>(d + j * C + c), d1 = load<L>(d + rs + j * C + c),
              d2 = load<L>(d + 2 * rs + j * C + c), d3 = load<L>(d + 3 * rs + j * C + c);
      t[0][j] = d0 - d2;
      t[1][j] = d1 + d2;
      t[2][j] = d2 - d1;
      t[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; ++i) {  // (B^T d) B
      store<L>(v + (i * 4 + 0) * vs + c, t[i][0] - t[i][2]);
      store<L>(v + (i * 4 + 1) * vs + c, t[i][1] + t[i][2]);
      store<L>(v + (i * 4 + 2) * vs + c, t[i][2] - t[i][1]);
      store<L>(v + (i * 4 + 3) * vs + c, t[i][1] - t[i][3]);
    }
  });
}

// The 2x2 outputs A^T m A of one tile from m (xi at m + xi * ms) into out
// (row stride rs, pixel stride O).
void inverse_tile(const float* m, int64_t ms, int64_t O, float* out, int64_t rs) {
  over_lanes(O, [&]<class L>(int64_t o) {
    L s[2][4];  // A^T m
    for (int j = 0; j < 4; ++j) {
      const L m0 = load<L>(m + j * ms + o), m1 = load<L>(m + (4 + j) * ms + o),
              m2 = load<L>(m + (8 + j) * ms + o), m3 = load<L>(m + (12 + j) * ms + o);
      s[0][j] = m0 + m1 + m2;
      s[1][j] = m1 - m2 - m3;
    }
    for (int i = 0; i < 2; ++i) {  // (A^T m) A
      store<L>(out + i * rs + o, s[i][0] + s[i][1] + s[i][2]);
      store<L>(out + i * rs + O + o, s[i][1] - s[i][2] - s[i][3]);
    }
  });
}

}  // namespace

bool winograd_applies(const ConvGeometry& g, int64_t O) {
  return active_kernels().winograd && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 &&
         g.DW == 1 && g.C >= 16 && O >= 16 && g.OH >= 2 && g.OW >= 2;
}

void conv3x3_winograd(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w, float* y) {
  const int64_t C = g.C, TH = (g.OH + 1) / 2, TW = (g.OW + 1) / 2, tiles = N * TH * TW;
  if (tiles <= 0) return;
  thread_local Scratch u_scratch, p_scratch, v_scratch, m_scratch;
  float* U = u_scratch.get(16 * C * O);
  transform_filters(w, C, O, U);
  // The input zero-padded to whole tiles, so every tile reads one block.
  const int64_t Hp = 2 * TH + 2, Wp = 2 * TW + 2, rs = Wp * C;
  float* padded = p_scratch.get(N * Hp * rs);
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      pad_image(x + n * g.H * g.W * C, g.H, g.W, C, g.PT, g.PL, Hp, Wp, padded + n * Hp * rs);
  });
  // Each GEMM packs its U_xi, so chunks of tiles are as large as the V and M
  // buffers' budget allows (one chunk for most layers).
  constexpr int64_t kBudgetFloats = int64_t{1} << 22;
  const int64_t chunk = std::clamp<int64_t>(kBudgetFloats / (16 * std::max(C, O)), 1, tiles);
  float* V = v_scratch.get(16 * chunk * C);
  float* M = m_scratch.get(16 * chunk * O);
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t nt = std::min(chunk, tiles - t0);
    parallel_for(nt, std::max<int64_t>(1, 2048 / C), [&](int64_t a, int64_t b) {
      for (int64_t t = a; t < b; ++t) {
        const int64_t tile = t0 + t, n = tile / (TH * TW), th = tile / TW % TH, tw = tile % TW;
        transform_tile(padded + (n * Hp + 2 * th) * rs + 2 * tw * C, rs, C, V + t * C, nt * C);
      }
    });
    for (int xi = 0; xi < 16; ++xi)
      gemm(false, false, nt, O, C, 1.0f, V + xi * nt * C, C, U + xi * C * O, O, 0.0f, M + xi * nt * O, O);
    parallel_for(nt, std::max<int64_t>(1, 2048 / O), [&](int64_t a, int64_t b) {
      thread_local std::vector<float> edge;  // a tile that crosses the output's edge
      edge.resize(static_cast<size_t>(4 * O));
      for (int64_t t = a; t < b; ++t) {
        const int64_t tile = t0 + t, n = tile / (TH * TW), th = tile / TW % TH, tw = tile % TW;
        const int64_t oh = 2 * th, ow = 2 * tw;
        float* at = y + ((n * g.OH + oh) * g.OW + ow) * O;
        if (oh + 1 < g.OH && ow + 1 < g.OW) {
          inverse_tile(M + t * O, nt * O, O, at, g.OW * O);
          continue;
        }
        inverse_tile(M + t * O, nt * O, O, edge.data(), 2 * O);
        for (int64_t i = 0; i < 2 && oh + i < g.OH; ++i)
          for (int64_t j = 0; j < 2 && ow + j < g.OW; ++j)
            std::copy(edge.data() + (i * 2 + j) * O, edge.data() + (i * 2 + j + 1) * O,
                      at + (i * g.OW + j) * O);
      }
    });
  }
}

}  // namespace cnn::kernels
