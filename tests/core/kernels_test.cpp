// The fast kernels against their references: every ISA's GEMM against the
// double-precision triple loop over odd shapes and tails, the single-channel
// direct conv against im2col + that loop, results independent of the thread
// count, and the thread pool's contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "cnn/error.h"
#include "cnn/kernels/conv_c1.h"
#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"
#include "cnn/kernels/isa.h"
#include "cnn/kernels/winograd.h"
#include "cnn/parallel.h"
#include "test_util.h"

using namespace cnn;

namespace {

// Restores the ISA and thread count a test changes.
struct KernelSettings {
  kernels::Isa isa = kernels::active_isa();
  int threads = num_threads();
  ~KernelSettings() {
    kernels::set_isa(isa);
    set_num_threads(threads);
  }
};

// 2 threads (where the machine has them) and the machine's count: which
// path a threaded product takes depends on its rows per thread.
std::vector<int> two_and_all_threads() {
  std::vector<int> counts{std::min(2, max_threads())};
  if (max_threads() > 2) counts.push_back(max_threads());
  return counts;
}
}  // namespace

TEST(Gemm, EveryIsaMatchesTheReferenceOnOddShapes) {
  KernelSettings restore;
  // Tails in every direction, one row or column, and shapes that cross the
  // kc (256, or 512 on AVX2), MC (~120) and NC (2048; 512 in wasm) block edges, and a
  // single row block's narrower panels (half of L2's worth of columns).
  const int64_t shapes[][3] = {{1, 1, 1},
                               {3, 5, 7},
                               {17, 9, 33},
                               {130, 70, 300},
                               {4, 1030, 2},
                               {257, 8, 513},
                               {6, 16, 256},
                               {7, 17, 257},
                               {6, 16, 512},
                               {7, 17, 513},
                               {130, 70, 1100},
                               {121, 2050, 3},
                               {5, 2100, 300},
                               {1, 300, 40},
                               {300, 1, 40},
                               {100, 6, 25},
                               {37, 8, 19},
                               {250, 16, 150},
                               // a long K over a small C: cut into K chunks (split-K)
                               {27, 16, 17000}};
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (auto& s : shapes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
          const int64_t M = s[0], N = s[1], K = s[2];
          Tensor A = test::random_tensor({M, K}, 1), B = test::random_tensor({K, N}, 2);
          Tensor C1 = test::random_tensor({M, N}, 3), C2 = C1.clone();
          const int64_t lda = ta ? M : K, ldb = tb ? K : N;
          kernels::gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C1.data(), N);
          kernels::gemm_reference(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C2.data(), N);
          EXPECT_LT(test::rel_error(C1, C2), 1e-5)
              << kernels::isa_name(isa) << " " << M << "x" << N << "x" << K << " ta=" << ta << " tb=" << tb;
        }
  }
}

TEST(Gemm, EveryPartialRowTileMatchesTheReference) {
  KernelSettings restore;
  // A product's last row tile is computed by a tile of exactly its rows
  // (1 .. MR-1; the narrow tiles' MR reaches 24): every row count, on the
  // packed, in-place, transposed and row-pointer paths, wide and narrow.
  const int64_t K = 37;
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (int64_t M = 1; M <= 25; ++M)
      for (int64_t N : {5, 40, 300})
        for (int ta = 0; ta < 2; ++ta) {
          Tensor A = test::random_tensor({M, K}, 41), B = test::random_tensor({K, N}, 42);
          Tensor C1 = test::random_tensor({M, N}, 43), C2 = C1.clone();
          const int64_t lda = ta ? M : K;
          kernels::gemm(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), N, 0.5f, C1.data(), N);
          kernels::gemm_reference(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), N, 0.5f, C2.data(), N);
          EXPECT_LT(test::rel_error(C1, C2), 1e-5)
              << kernels::isa_name(isa) << " " << M << "x" << N << "x" << K << " ta=" << ta;
        }
    for (int64_t M = 1; M <= 25; ++M)
      for (int64_t N : {int64_t{5}, std::min<int64_t>(40, kernels::gemm_rows_max_n())}) {
        Tensor A = test::random_tensor({M, K}, 44), B = test::random_tensor({K, N}, 45), got({M, N}),
               want({M, N});
        std::vector<const float*> rows(M);
        for (int64_t i = 0; i < M; ++i) rows[i] = A.data() + i * K;
        kernels::gemm_rows(M, N, 1, K, rows.data(), 0, B.data(), N, got.data(), N);
        kernels::gemm_reference(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, want.data(), N);
        EXPECT_LT(test::rel_error(got, want), 1e-5) << kernels::isa_name(isa) << " rows " << M << "x" << N;
      }
  }
}

TEST(Gemm, TailTilesMatchTheReference) {
  KernelSettings restore;
  // A packed product's last 1 or 2 rows run across a group of B's slivers
  // (gemm_tile_tail), or, where the ISA has the registers (AVX-512), a last
  // single row joins the tile before it (gemm_tile_wide, 13 rows packed 13
  // wide): rows that leave 1 or 2 after the tiles of 5 (SSE4.1), 6 (AVX2)
  // and 12 (AVX-512) rows, A stored either way, one K block and several, C
  // overwritten (beta 0, over NaN) and updated, on one thread and on more
  // (which cut B's columns, and so the groups, elsewhere). 300 columns are
  // too many for A to be read in place.
  const int64_t N = 300;
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (int64_t M : {1, 2, 13, 14, 25, 26, 49, 50, 51, 52})
      for (int64_t K : {37, 600})
        for (int ta = 0; ta < 2; ++ta)
          for (float beta : {0.0f, 0.25f})
            for (int threads : {1, std::min(2, max_threads())}) {
              set_num_threads(threads);
              Tensor A = test::random_tensor({M, K}, 51), B = test::random_tensor({K, N}, 52);
              Tensor C1 = test::random_tensor({M, N}, 53);
              if (beta == 0.0f) C1.fill(std::numeric_limits<float>::quiet_NaN());
              Tensor C2 = beta == 0.0f ? Tensor::zeros({M, N}) : C1.clone();
              const int64_t lda = ta ? M : K;
              kernels::gemm(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), N, beta, C1.data(), N);
              kernels::gemm_reference(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), N, beta, C2.data(),
                                      N);
              EXPECT_LT(test::rel_error(C1, C2), 1e-5)
                  << kernels::isa_name(isa) << " " << M << "x" << N << "x" << K << " ta=" << ta << " beta "
                  << beta << ", " << threads << " threads";
            }
  }
}

TEST(Gemm, OneRowBlockMatchesTheReferenceOnEveryThreadCount) {
  KernelSettings restore;
  // One row block of A (few rows) on one thread: each sliver's first tile
  // reads B where it lies and packs it for the others
  // (KernelTable::gemm_tile_pack_b, AVX-512), over K blocks as deep as fit
  // L1, a last partial sliver packed first, B a window of a wider buffer
  // (ldb > N); over a wider B, whose rows are far apart (ldb 1500), in
  // shallower K blocks taken across several narrow panels (the last one
  // partial) with A packed once. A stored either way, C overwritten
  // (over NaN) and updated. More threads cut the rows into two blocks (or
  // B's columns), so B is packed first there: the sums must not change.
  const int64_t cases[][2] = {{100, 500}, {490, 500}, {1500, 1500}};  // N, ldb
  const int64_t K = 700;
  for (int64_t M : {12, 14, 25, 49, 98})
    for (const auto& nl : cases)
      for (int ta = 0; ta < 2; ++ta)
        for (float beta : {0.0f, 0.5f}) {
          const int64_t N = nl[0], ldb = nl[1], lda = ta ? M : K;
          Tensor A = test::random_tensor({M, K}, 61), B = test::random_tensor({K, ldb}, 62);
          Tensor C0 = test::random_tensor({M, N}, 63);
          if (beta == 0.0f) C0.fill(std::numeric_limits<float>::quiet_NaN());
          Tensor want = beta == 0.0f ? Tensor::zeros({M, N}) : C0.clone();
          kernels::gemm_reference(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), ldb, beta, want.data(),
                                  N);
          for (kernels::Isa isa : kernels::supported_isas()) {
            kernels::set_isa(isa);
            SCOPED_TRACE(std::string(kernels::isa_name(isa)) + " " + std::to_string(M) + "x" +
                         std::to_string(N) + " ta=" + std::to_string(ta) + " beta " + std::to_string(beta));
            Tensor one = C0.clone();
            set_num_threads(1);
            kernels::gemm(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), ldb, beta, one.data(), N);
            EXPECT_LT(test::rel_error(one, want), 1e-5);
            for (int threads : two_and_all_threads()) {
              set_num_threads(threads);
              Tensor many = C0.clone();
              kernels::gemm(ta, false, M, N, K, 1.5f, A.data(), lda, B.data(), ldb, beta, many.data(), N);
              EXPECT_EQ(one.to_vector(), many.to_vector()) << threads << " threads";
            }
          }
        }
}

TEST(Gemm, BetaZeroClearsNaNsAndLeadingDimensionsAreHonoured) {
  // C is a window of a buffer three columns wider; beta 0 must overwrite
  // NaNs, and the columns outside the window stay untouched. Also where K
  // is summed in chunks added afterwards: a small C over a long K (split-K)
  // and a few rows over a long K (two halves).
  const int64_t shapes[][3] = {{5, 7, 9}, {20, 10, 16400}, {49, 130, 4100}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2], ldc = N + 3;
    SCOPED_TRACE(std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K));
    Tensor A = test::random_tensor({M, K}, 4), B = test::random_tensor({K, N}, 5);
    std::vector<float> C(M * ldc, std::numeric_limits<float>::quiet_NaN());
    kernels::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), ldc);
    Tensor want({M, N});
    kernels::gemm_reference(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, want.data(), N);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) ASSERT_NEAR(C[i * ldc + j], want[i * N + j], 1e-5 * std::sqrt(K));
      for (int64_t j = N; j < ldc; ++j) ASSERT_TRUE(std::isnan(C[i * ldc + j]));
    }
  }
}

TEST(Gemm, ResultsDoNotDependOnTheThreadCount) {
  KernelSettings restore;
  const int64_t M = 300, N = 500, K = 700;
  Tensor A = test::random_tensor({M, K}, 6), B = test::random_tensor({K, N}, 7);
  Tensor one({M, N}), many({M, N});
  set_num_threads(1);
  kernels::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, one.data(), N);
  set_num_threads(max_threads());
  kernels::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, many.data(), N);
  EXPECT_EQ(one.to_vector(), many.to_vector());  // the same sums in the same order
  // A small M (ResNet50's conv5 at batch 1): threads take B's columns (so
  // each packs part of every row of B), with C scaled by beta first. K is
  // not a multiple of the packing's row blocks. Over a long K the product is
  // cut into two halves of K instead, on one thread too.
  const int64_t sm = 49, sn = 700;
  for (const int64_t sk : {603, 4500})
    for (const bool trans_b : {false, true}) {
      SCOPED_TRACE(std::string(trans_b ? "B^T" : "B") + " K=" + std::to_string(sk));
      const int64_t ldb = trans_b ? sk : sn;
      Tensor sa = test::random_tensor({sm, sk}, 10), sb = test::random_tensor({sk * sn}, 11);
      Tensor s0 = test::random_tensor({sm, sn}, 12);
      Tensor s1 = s0.clone(), s2 = s0.clone(), sref = s0.clone();
      set_num_threads(1);
      kernels::gemm(false, trans_b, sm, sn, sk, 1.5f, sa.data(), sk, sb.data(), ldb, 0.5f, s1.data(), sn);
      set_num_threads(max_threads());
      kernels::gemm(false, trans_b, sm, sn, sk, 1.5f, sa.data(), sk, sb.data(), ldb, 0.5f, s2.data(), sn);
      EXPECT_EQ(s1.to_vector(), s2.to_vector());
      kernels::gemm_reference(false, trans_b, sm, sn, sk, 1.5f, sa.data(), sk, sb.data(), ldb, 0.5f,
                              sref.data(), sn);
      EXPECT_LT(test::rel_error(s2, sref), 1e-5);
    }
  // Larger products, tall and wide, with A or B stored transposed and C
  // scaled by beta first, at 2 threads and at the machine's count; with
  // enough rows a thread, each thread packs B for itself, here also over
  // several K blocks and two B panels.
  const int64_t tall_wide[][3] = {{1100, 40, 70}, {530, 700, 45}, {400, 150, 1100}, {400, 2100, 30}};
  for (auto& s : tall_wide)
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int64_t lm = s[0], ln = s[1], lk = s[2];
      SCOPED_TRACE(std::to_string(lm) + "x" + std::to_string(ln) + " ta=" + std::to_string(ta) +
                   " tb=" + std::to_string(tb));
      Tensor la = test::random_tensor({lm * lk}, 13), lb = test::random_tensor({lk * ln}, 14);
      Tensor l0 = test::random_tensor({lm, ln}, 15), l1 = l0.clone(), lref = l0.clone();
      const int64_t llda = ta ? lm : lk, lldb = tb ? lk : ln;
      set_num_threads(1);
      kernels::gemm(ta, tb, lm, ln, lk, 0.5f, la.data(), llda, lb.data(), lldb, 0.25f, l1.data(), ln);
      for (int threads : two_and_all_threads()) {
        set_num_threads(threads);
        Tensor l2 = l0.clone();
        kernels::gemm(ta, tb, lm, ln, lk, 0.5f, la.data(), llda, lb.data(), lldb, 0.25f, l2.data(), ln);
        EXPECT_EQ(l1.to_vector(), l2.to_vector()) << threads << " threads";
      }
      kernels::gemm_reference(ta, tb, lm, ln, lk, 0.5f, la.data(), llda, lb.data(), lldb, 0.25f, lref.data(),
                              ln);
      EXPECT_LT(test::rel_error(l1, lref), 1e-5);
    }
  // The same for a filter-gradient shape, which splits K across threads.
  const int64_t m = 27, n = 16, k = 40000;
  Tensor a = test::random_tensor({k, m}, 8), b = test::random_tensor({k, n}, 9);
  Tensor c1({m, n}), c2({m, n}), ref({m, n});
  set_num_threads(1);
  kernels::gemm(true, false, m, n, k, 1.0f, a.data(), m, b.data(), n, 0.0f, c1.data(), n);
  set_num_threads(max_threads());
  kernels::gemm(true, false, m, n, k, 1.0f, a.data(), m, b.data(), n, 0.0f, c2.data(), n);
  EXPECT_EQ(c1.to_vector(), c2.to_vector());
  kernels::gemm_reference(true, false, m, n, k, 1.0f, a.data(), m, b.data(), n, 0.0f, ref.data(), n);
  EXPECT_LT(test::rel_error(c1, ref), 1e-5);
}

TEST(Gemm, RowsMatchTheReferenceOverSegmentsOnEveryIsa) {
  KernelSettings restore;
  // A (M, segments * L) whose rows are scattered in memory, segment s of row
  // i at rows[i] + s * stride: the tiles must read exactly those floats.
  // Segments longer than one kc block (256 or 512) too.
  const int64_t shapes[][4] = {{1, 1, 1, 1},      {37, 16, 3, 9}, {130, 6, 2, 300}, {40, 20, 2, 600},
                               {250, 64, 3, 150}, {7, 100, 5, 7}, {600, 33, 1, 27}};
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (auto& s : shapes) {
      const int64_t M = s[0], N = std::min(s[1], kernels::gemm_rows_max_n()), segs = s[2], L = s[3];
      const int64_t stride = 2 * L + 3, K = segs * L;
      Tensor pool = test::random_tensor({M * 7 + segs * stride + L}, 31);
      std::vector<const float*> rows(M);
      Tensor A({M, K});
      for (int64_t i = 0; i < M; ++i) {
        rows[i] = pool.data() + (i * 7) % (M * 7 + 1);
        for (int64_t sg = 0; sg < segs; ++sg)
          for (int64_t p = 0; p < L; ++p) A.data()[i * K + sg * L + p] = rows[i][sg * stride + p];
      }
      Tensor B = test::random_tensor({K, N}, 32), got({M, N}), want({M, N});
      got.fill(std::numeric_limits<float>::quiet_NaN());  // overwritten, never read
      kernels::gemm_rows(M, N, segs, L, rows.data(), stride, B.data(), N, got.data(), N);
      kernels::gemm_reference(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, want.data(), N);
      EXPECT_LT(test::rel_error(got, want), 1e-5)
          << kernels::isa_name(isa) << " " << M << "x" << N << " " << segs << "x" << L;
    }
  }
}

TEST(Gemm, RowOrderOverStretchesOfKMatchesTheReferenceOnEveryThreadCount) {
  KernelSettings restore;
  // Products that take A's rows outermost pack B a stretch of K at a time,
  // as much as fits half of L2: a B of 2.2 MB is cut into stretches where
  // L2 holds up to 2 MiB, between a conv's kernel rows (segments) or inside
  // them. C adds up over the stretches (beta and alpha too), B also
  // transposed, and the sums do not depend on the thread count. 150 rows:
  // two blocks, the fewest a plain product takes that order with
  // (row_order); against B of 8 slivers, threads share out its columns.
  const int64_t M = 150, N = kernels::gemm_rows_max_n(), K = 2'200'000 / (4 * N) / 9 * 9;
  Tensor A = test::random_tensor({M, K}, 51), B = test::random_tensor({K * N}, 52);
  Tensor C0 = test::random_tensor({M, N}, 53);
  for (const bool trans_b : {false, true}) {
    SCOPED_TRACE(trans_b ? "B^T" : "B");
    const int64_t ldb = trans_b ? K : N;
    Tensor one = C0.clone(), want = C0.clone();
    set_num_threads(1);
    kernels::gemm(false, trans_b, M, N, K, 0.5f, A.data(), K, B.data(), ldb, 0.25f, one.data(), N);
    kernels::gemm_reference(false, trans_b, M, N, K, 0.5f, A.data(), K, B.data(), ldb, 0.25f, want.data(), N);
    EXPECT_LT(test::rel_error(one, want), 1e-5);
    for (int threads : two_and_all_threads()) {
      set_num_threads(threads);
      Tensor many = C0.clone();
      kernels::gemm(false, trans_b, M, N, K, 0.5f, A.data(), K, B.data(), ldb, 0.25f, many.data(), N);
      EXPECT_EQ(one.to_vector(), many.to_vector()) << threads << " threads";
    }
  }
  // A conv's windows: 9 kernel rows of K / 9, each row's segments 3 L + 1
  // apart. B of 64 columns, too few to share out by columns: each of 2
  // threads packs every stretch for itself.
  const int64_t n = 64, segs = 9, L = 2'200'000 / (4 * n) / segs, k = segs * L, stride = 3 * L + 1;
  Tensor b = test::random_tensor({k, n}, 55);
  Tensor pool = test::random_tensor({M * 5 + segs * stride}, 54);
  std::vector<const float*> rows(M);
  Tensor flat({M, k});
  for (int64_t i = 0; i < M; ++i) {
    rows[i] = pool.data() + i * 5;
    for (int64_t sg = 0; sg < segs; ++sg)
      for (int64_t p = 0; p < L; ++p) flat.data()[i * k + sg * L + p] = rows[i][sg * stride + p];
  }
  Tensor one({M, n}), want({M, n});
  set_num_threads(1);
  kernels::gemm_rows(M, n, segs, L, rows.data(), stride, b.data(), n, one.data(), n);
  kernels::gemm_reference(false, false, M, n, k, 1.0f, flat.data(), k, b.data(), n, 0.0f, want.data(), n);
  EXPECT_LT(test::rel_error(one, want), 1e-5) << "rows";
  for (int threads : two_and_all_threads()) {
    set_num_threads(threads);
    Tensor many({M, n});
    kernels::gemm_rows(M, n, segs, L, rows.data(), stride, b.data(), n, many.data(), n);
    EXPECT_EQ(one.to_vector(), many.to_vector()) << "rows, " << threads << " threads";
  }
}

TEST(Gemm, RowsTransposedMatchTheReferenceOnEveryIsa) {
  KernelSettings restore;
  // A (K, segments * L) given by row pointers, as a conv's windows are; C
  // (M, N) += A^T B. Runs that cross segment edges inside an MR sliver, M
  // and N tails, K across KC blocks, and both ways of summing over K: one
  // pass (large C) and fixed chunks (small C over K >= 16384).
  const int64_t shapes[][4] = {{1, 1, 1, 1},  {3, 9, 16, 600},   {2, 48, 32, 300},  {3, 7, 5, 257},
                               {1, 13, 3, 1}, {3, 96, 64, 1000}, {3, 9, 16, 20000}, {2, 48, 33, 17000}};
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (auto& s : shapes) {
      const int64_t segs = s[0], L = s[1], N = s[2], K = s[3], M = segs * L;
      const int64_t stride = L + 5;
      Tensor pool = test::random_tensor({K * 3 + segs * stride + L}, 41);
      std::vector<const float*> rows(K);
      Tensor A({K, M});
      for (int64_t p = 0; p < K; ++p) {
        rows[p] = pool.data() + (p * 3) % (K * 2 + 1);
        for (int64_t sg = 0; sg < segs; ++sg)
          for (int64_t c = 0; c < L; ++c) A.data()[p * M + sg * L + c] = rows[p][sg * stride + c];
      }
      Tensor B = test::random_tensor({K, N}, 42), got = test::random_tensor({M, N}, 43);
      Tensor want = got.clone();
      kernels::gemm_rows_tn(segs, L, N, K, rows.data(), stride, B.data(), N, got.data(), N);
      kernels::gemm_reference(true, false, M, N, K, 1.0f, A.data(), M, B.data(), N, 1.0f, want.data(), N);
      EXPECT_LT(test::rel_error(got, want), 1e-5)
          << kernels::isa_name(isa) << " " << segs << "x" << L << " " << N << " over " << K;
    }
  }
  // The chunked sum is the same whatever the thread count.
  const int64_t segs = 3, L = 9, N = 16, K = 20000;
  Tensor pool = test::random_tensor({K + segs * L}, 44), B = test::random_tensor({K, N}, 45);
  std::vector<const float*> rows(K);
  for (int64_t p = 0; p < K; ++p) rows[p] = pool.data() + p;
  Tensor c1({segs * L, N}), c2({segs * L, N});
  set_num_threads(1);
  kernels::gemm_rows_tn(segs, L, N, K, rows.data(), L, B.data(), N, c1.data(), N);
  set_num_threads(max_threads());
  kernels::gemm_rows_tn(segs, L, N, K, rows.data(), L, B.data(), N, c2.data(), N);
  EXPECT_EQ(c1.to_vector(), c2.to_vector());
}

TEST(Gemm, EpilogueMatchesASeparatePassOnEveryPath) {
  KernelSettings restore;
  // {M, N, K, trans_a}: packed A, A read in place (narrow B), split K (small
  // C, long K), B wider than one NC panel, A^T, and (with more than one
  // thread) a small M whose threads take B's columns (50x2100) and larger
  // products whose threads each pack B (the last over two K blocks); and
  // gemm_rows. At 2 threads and at the machine's count (the paths depend on
  // the rows per thread).
  const int64_t shapes[][4] = {{300, 140, 70, 0}, {1000, 20, 64, 0}, {27, 16, 20000, 1}, {50, 2100, 30, 0},
                               {130, 45, 300, 1}, {700, 300, 20, 0}, {530, 700, 20, 1},  {400, 150, 600, 0}};
  for (int threads : two_and_all_threads())
    for (kernels::Isa isa : kernels::supported_isas()) {
      set_num_threads(threads);
      kernels::set_isa(isa);
      for (auto& s : shapes)
        for (int terms : {0, 2, 3, 4, 8, 10, 11, 15}) {  // bit 0 scale, 1 shift, 2 residual, 3 relu
          const int64_t M = s[0], N = s[1], K = s[2];
          const bool ta = s[3] != 0;
          Tensor A = test::random_tensor({M * K}, 51), B = test::random_tensor({K, N}, 52);
          Tensor scale = test::random_tensor({N}, 53), shift = test::random_tensor({N}, 54);
          Tensor res = test::random_tensor({M, N + 3}, 55);
          kernels::Epilogue ep;
          ep.scale = terms & 1 ? scale.data() : nullptr;
          ep.shift = terms & 2 ? shift.data() : nullptr;
          ep.residual = terms & 4 ? res.data() : nullptr;
          ep.ldr = N + 3;
          ep.relu = (terms & 8) != 0;
          Tensor want({M, N}), got({M, N});
          kernels::gemm(ta, false, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), N, 0.0f, want.data(), N);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              float& v = want.data()[i * N + j];
              if (ep.scale) v *= scale.data()[j];
              if (ep.shift) v += shift.data()[j];
              if (ep.residual) v += res.data()[i * (N + 3) + j];
              if (ep.relu) v = std::max(v, 0.0f);
            }
          kernels::gemm(ta, false, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), N, 0.0f, got.data(), N,
                        &ep);
          EXPECT_LT(test::rel_error(got, want), 1e-6)
              << kernels::isa_name(isa) << " " << M << "x" << N << "x" << K << " terms " << terms;
          if (ta || N > kernels::gemm_rows_max_n()) continue;
          // The same product with A's rows given one by one.
          std::vector<const float*> rows(M);
          for (int64_t i = 0; i < M; ++i) rows[i] = A.data() + i * K;
          got.fill(std::numeric_limits<float>::quiet_NaN());
          kernels::gemm_rows(M, N, 1, K, rows.data(), 0, B.data(), N, got.data(), N, &ep);
          EXPECT_LT(test::rel_error(got, want), 1e-6)
              << "rows: " << kernels::isa_name(isa) << " " << M << "x" << N << "x" << K << " terms " << terms;
        }
    }
}

TEST(Gemm, ReluEpiloguePassesNaNOnEveryIsa) {
  KernelSettings restore;
  // C = a * ones(1, 11): each row one value, across whole vectors and a
  // tail. As Keras's relu, NaN stays NaN and only negatives become 0.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> a = {nan, -2.0f, 3.0f, -nan};
  const int64_t M = static_cast<int64_t>(a.size()), N = 11;
  const std::vector<float> ones(N, 1.0f);
  kernels::Epilogue ep;
  ep.relu = true;
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    std::vector<float> c(M * N, 7.0f);
    kernels::gemm(false, false, M, N, 1, 1.0f, a.data(), 1, ones.data(), N, 0.0f, c.data(), N, &ep);
    for (int64_t j = 0; j < N; ++j) {
      EXPECT_TRUE(std::isnan(c[j])) << kernels::isa_name(isa) << " column " << j;
      EXPECT_EQ(c[N + j], 0.0f) << kernels::isa_name(isa);
      EXPECT_EQ(c[2 * N + j], 3.0f) << kernels::isa_name(isa);
      EXPECT_TRUE(std::isnan(c[3 * N + j])) << kernels::isa_name(isa) << " column " << j;
    }
  }
}

namespace {

struct ConvC1Case {
  int64_t N, H, W, KH, KW, O, PT, PB, PL, PR;
};

kernels::ConvGeometry geometry(const ConvC1Case& c) {
  return {c.H, c.W, 1, c.KH, c.KW, c.H + c.PT + c.PB - c.KH + 1, c.W + c.PL + c.PR - c.KW + 1, 1,
          1,   1,   1, c.PT, c.PL};
}

}  // namespace

TEST(ConvC1, EveryIsaMatchesIm2colAndTheReferenceGemm) {
  KernelSettings restore;
  // LeNet's first layer, one filter, odd filter counts whose rows end mid-vector,
  // asymmetric padding, rows several register chunks long, kernels taller
  // than one block of kernel rows (6: two blocks of 3; 7 and 11: blocks of
  // 1), output rows that are no multiple of the row block, and filter counts
  // that expand in whole or overlapping 4-float stores (2, 8).
  const ConvC1Case cases[] = {
      {5, 28, 28, 5, 5, 6, 2, 2, 2, 2}, {2, 7, 9, 3, 3, 1, 0, 0, 0, 0},   {3, 8, 7, 4, 3, 7, 1, 2, 0, 1},
      {2, 5, 13, 3, 3, 17, 1, 1, 1, 1}, {1, 6, 6, 2, 2, 33, 0, 0, 0, 0},  {2, 10, 40, 3, 3, 16, 1, 1, 1, 1},
      {9, 4, 3, 1, 1, 5, 1, 0, 2, 1},   {2, 12, 11, 7, 3, 5, 3, 3, 1, 1}, {1, 14, 20, 11, 2, 3, 0, 0, 0, 0},
      {2, 13, 10, 6, 2, 8, 1, 1, 0, 0}, {2, 9, 7, 3, 3, 2, 1, 1, 1, 1}};
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    for (const ConvC1Case& c : cases) {
      const kernels::ConvGeometry g = geometry(c);
      ASSERT_TRUE(kernels::conv_c1_applies(g, c.O));
      const int64_t P = g.OH * g.OW, K = c.KH * c.KW, rows = c.N * P;
      Tensor x = test::random_tensor({c.N, c.H, c.W, 1}, 11),
             w = test::random_tensor({c.KH, c.KW, 1, c.O}, 12);
      Tensor b = test::random_tensor({c.O}, 13), dy = test::random_tensor({c.N, g.OH, g.OW, c.O}, 14);
      // Reference: im2col, then the double-precision GEMMs.
      Tensor col({rows, K});
      for (int64_t n = 0; n < c.N; ++n) kernels::im2col(g, x.data() + n * c.H * c.W, col.data() + n * P * K);
      Tensor want_y({c.N, g.OH, g.OW, c.O});
      for (int64_t r = 0; r < rows; ++r) std::copy(b.data(), b.data() + c.O, want_y.data() + r * c.O);
      kernels::gemm_reference(false, false, rows, c.O, K, 1.0f, col.data(), K, w.data(), c.O, 1.0f,
                              want_y.data(), c.O);
      const std::string what = std::string(kernels::isa_name(isa)) + " case " + std::to_string(&c - cases);
      for (bool relu : {false, true}) {
        Tensor y({c.N, g.OH, g.OW, c.O});
        kernels::conv_c1_forward(g, c.N, c.O, x.data(), w.data(), b.data(), relu, y.data());
        Tensor want = want_y.clone();
        if (relu)
          for (int64_t i = 0; i < want.numel(); ++i) want.data()[i] = std::max(want.data()[i], 0.0f);
        EXPECT_LT(test::rel_error(y, want), 1e-5) << what << (relu ? " relu" : "");
        // Filter and bias gradients, through the fused ReLU's mask when relu.
        Tensor masked = dy.clone();
        if (relu)
          for (int64_t i = 0; i < masked.numel(); ++i)
            if (!(y.data()[i] > 0.0f)) masked.data()[i] = 0.0f;
        Tensor want_dw = test::random_tensor({c.KH, c.KW, 1, c.O}, 15), dw = want_dw.clone();
        Tensor want_db = test::random_tensor({c.O}, 16), db = want_db.clone();
        kernels::gemm_reference(true, false, K, c.O, rows, 1.0f, col.data(), K, masked.data(), c.O, 1.0f,
                                want_dw.data(), c.O);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t o = 0; o < c.O; ++o) want_db.data()[o] += masked.data()[r * c.O + o];
        kernels::conv_c1_backward_filter(g, c.N, c.O, x.data(), dy.data(), relu ? y.data() : nullptr,
                                         dw.data(), db.data());
        EXPECT_LT(test::rel_error(dw, want_dw), 1e-5) << what << (relu ? " relu" : "");
        EXPECT_LT(test::rel_error(db, want_db), 1e-5) << what << (relu ? " relu" : "");
      }
    }
  }
}

TEST(ConvC1, AnInfReachesOnlyTheOutputsAndGradientsWhoseWindowsHoldIt) {
  KernelSettings restore;
  // 'valid' convs with OH = 7, no multiple of any ISA's block of rows, and
  // an Inf in input row 7, which only kernel rows past the first reach: a
  // block that multiplied it by padding (a zero weight row, or a zero row
  // of dy past the last) would put NaN where the reference has a number.
  for (int64_t KH : {5, 7}) {
    const ConvC1Case c{2, 6 + KH, 9, KH, 3, 6, 0, 0, 0, 0};
    const kernels::ConvGeometry g = geometry(c);
    const int64_t P = g.OH * g.OW, K = c.KH * c.KW, rows = c.N * P;
    Tensor x = test::random_tensor({c.N, c.H, c.W, 1}, 31), w = test::random_tensor({c.KH, c.KW, 1, c.O}, 32);
    Tensor b = test::random_tensor({c.O}, 33), dy = test::random_tensor({c.N, g.OH, g.OW, c.O}, 34);
    x.data()[7 * c.W + 3] = std::numeric_limits<float>::infinity();
    Tensor col({rows, K});
    for (int64_t n = 0; n < c.N; ++n) kernels::im2col(g, x.data() + n * c.H * c.W, col.data() + n * P * K);
    Tensor want_y({c.N, g.OH, g.OW, c.O}), want_dw = Tensor::zeros({c.KH, c.KW, 1, c.O});
    for (int64_t r = 0; r < rows; ++r) std::copy(b.data(), b.data() + c.O, want_y.data() + r * c.O);
    kernels::gemm_reference(false, false, rows, c.O, K, 1.0f, col.data(), K, w.data(), c.O, 1.0f,
                            want_y.data(), c.O);
    kernels::gemm_reference(true, false, K, c.O, rows, 1.0f, col.data(), K, dy.data(), c.O, 1.0f,
                            want_dw.data(), c.O);
    // Where the reference is finite, ours must be too and agree; elsewhere ours must not be finite.
    const auto same = [](const Tensor& got, const Tensor& want) {
      int64_t finite = 0;
      for (int64_t i = 0; i < want.numel(); ++i) {
        const float a = got.data()[i], e = want.data()[i];
        if (std::isfinite(e) != std::isfinite(a)) return testing::AssertionFailure() << "element " << i;
        if (std::isfinite(e) && std::abs(a - e) > 1e-4f * (1.0f + std::abs(e)))
          return testing::AssertionFailure() << "element " << i << ": " << a << " against " << e;
        finite += std::isfinite(e);
      }
      if (finite == 0 || finite == want.numel())
        return testing::AssertionFailure() << "the case tests nothing";
      return testing::AssertionSuccess();
    };
    for (kernels::Isa isa : kernels::supported_isas()) {
      kernels::set_isa(isa);
      Tensor y({c.N, g.OH, g.OW, c.O}), dw = Tensor::zeros({c.KH, c.KW, 1, c.O}), db = Tensor::zeros({c.O});
      kernels::conv_c1_forward(g, c.N, c.O, x.data(), w.data(), b.data(), false, y.data());
      kernels::conv_c1_backward_filter(g, c.N, c.O, x.data(), dy.data(), nullptr, dw.data(), db.data());
      EXPECT_TRUE(same(y, want_y)) << kernels::isa_name(isa) << " KH " << KH << " forward";
      EXPECT_TRUE(same(dw, want_dw)) << kernels::isa_name(isa) << " KH " << KH << " filter gradient";
    }
  }
}

TEST(ConvC1, ResultsDoNotDependOnTheThreadCountAndOtherShapesAreLeftToIm2col) {
  KernelSettings restore;
  const ConvC1Case c{13, 28, 28, 5, 5, 6, 2, 2, 2, 2};
  const kernels::ConvGeometry g = geometry(c);
  Tensor x = test::random_tensor({c.N, c.H, c.W, 1}, 21), w = test::random_tensor({5, 5, 1, 6}, 22);
  Tensor dy = test::random_tensor({c.N, g.OH, g.OW, 6}, 23);
  std::vector<float> y[2], dw[2], db[2];
  for (int t = 0; t < 2; ++t) {
    set_num_threads(t == 0 ? 1 : max_threads());
    Tensor out({c.N, g.OH, g.OW, 6}), gw = Tensor::zeros({5, 5, 1, 6}), gb = Tensor::zeros({6});
    kernels::conv_c1_forward(g, c.N, 6, x.data(), w.data(), nullptr, true, out.data());
    kernels::conv_c1_backward_filter(g, c.N, 6, x.data(), dy.data(), out.data(), gw.data(), gb.data());
    y[t] = out.to_vector(), dw[t] = gw.to_vector(), db[t] = gb.to_vector();
  }
  EXPECT_EQ(y[0], y[1]);
  EXPECT_EQ(dw[0], dw[1]);
  EXPECT_EQ(db[0], db[1]);
  kernels::ConvGeometry strided = g, two_channels = g, dilated = g;
  strided.SW = 2, two_channels.C = 2, dilated.DH = 2;
  for (const kernels::ConvGeometry& other : {strided, two_channels, dilated})
    EXPECT_FALSE(kernels::conv_c1_applies(other, 6));
  // An empty batch writes nothing and adds nothing to the gradients.
  Tensor gw = Tensor::zeros({5, 5, 1, 6}), gb = Tensor::zeros({6});
  kernels::conv_c1_forward(g, 0, 6, x.data(), w.data(), nullptr, true, nullptr);
  kernels::conv_c1_backward_filter(g, 0, 6, x.data(), dy.data(), nullptr, gw.data(), gb.data());
  kernels::conv3x3_winograd({28, 28, 16, 3, 3, 28, 28, 1, 1, 1, 1, 1, 1}, 0, 16, x.data(), w.data(), nullptr);
  EXPECT_EQ(gw.to_vector(), std::vector<float>(150, 0.0f));
  EXPECT_EQ(gb.to_vector(), std::vector<float>(6, 0.0f));
}

TEST(Winograd, MatchesIm2colAndTheReferenceGemm) {
  KernelSettings restore;
  struct Case {
    int64_t N, H, W, C, O, PT, PB, PL, PR;
    int tile, simd128_tile;  // the output tile it takes: on the ISAs up to 4x4, on SIMD128 (up to 5x5)
  };
  // 'same' and 'valid', odd outputs (tiles that cross the edge), channel and
  // filter counts that are not multiples of a vector, one 3x3 output; every
  // tile size. On SIMD128 the products are fused (fused_products) up to 512
  // channels: with several panels of filters (300 channels), and without
  // (520).
  const Case cases[] = {{2, 5, 7, 16, 16, 1, 1, 1, 1, 3, 3},   {1, 8, 8, 17, 33, 0, 0, 0, 0, 2, 2},
                        {3, 6, 5, 20, 18, 1, 1, 1, 1, 3, 3},   {1, 3, 3, 16, 16, 1, 1, 1, 1, 2, 2},
                        {2, 10, 9, 32, 64, 0, 0, 0, 0, 4, 4},  {1, 19, 19, 64, 40, 1, 1, 1, 1, 4, 5},
                        {2, 22, 19, 18, 21, 0, 0, 0, 0, 4, 5}, {1, 20, 20, 300, 24, 1, 1, 1, 1, 4, 5},
                        {1, 7, 7, 520, 16, 1, 1, 1, 1, 2, 2}};
  for (kernels::Isa isa : kernels::supported_isas()) {
    kernels::set_isa(isa);
    const bool simd128 = isa == kernels::Isa::SSE41, avx512 = isa == kernels::Isa::AVX512;
    for (const Case& c : cases) {
      const kernels::ConvGeometry g{c.H, c.W, c.C, 3,    3,   c.H + c.PT + c.PB - 2, c.W + c.PL + c.PR - 2, 1,
                                    1,   1,   1,   c.PT, c.PL};
      const int64_t P = g.OH * g.OW, K = 9 * c.C;
      Tensor x = test::random_tensor({c.N, c.H, c.W, c.C}, 41), w = test::random_tensor({3, 3, c.C, c.O}, 42);
      Tensor col({c.N * P, K}), want({c.N, g.OH, g.OW, c.O});
      for (int64_t n = 0; n < c.N; ++n)
        kernels::im2col(g, x.data() + n * c.H * c.W * c.C, col.data() + n * P * K);
      kernels::gemm_reference(false, false, c.N * P, c.O, K, 1.0f, col.data(), K, w.data(), c.O, 0.0f,
                              want.data(), c.O);
      std::vector<float> by_threads[2];
      for (int t = 0; t < 2; ++t) {
        set_num_threads(t == 0 ? 1 : max_threads());
        Tensor got({c.N, g.OH, g.OW, c.O});
        got.fill(std::numeric_limits<float>::quiet_NaN());  // every output written
        kernels::conv3x3_winograd(g, c.N, c.O, x.data(), w.data(), got.data());
        // Hundreds of channels round more: 300 took up to 2.1e-5 of the
        // largest output (in 4x4 tiles).
        EXPECT_LT(test::rel_error(got, want), c.C > 64 ? 4e-5 : 1e-5)
            << kernels::isa_name(isa) << " case " << (&c - cases);
        by_threads[t] = got.to_vector();
      }
      EXPECT_EQ(by_threads[0], by_threads[1]) << kernels::isa_name(isa) << " case " << (&c - cases);
      EXPECT_EQ(kernels::winograd_tile(g, c.N), simd128 ? c.simd128_tile : c.tile)
          << kernels::isa_name(isa) << " case " << (&c - cases);
      // The SIMD128 table takes every such conv; AVX-512 only many tiles
      // (none of these); the others never (see kernels/kernel_table.h).
      EXPECT_EQ(kernels::winograd_applies(g, c.N, c.O), simd128);
    }
    // ResNet50's first 3x3 conv, at batch 8 (1568 tiles) and batch 1 (196).
    const kernels::ConvGeometry stage2{56, 56, 64, 3, 3, 56, 56, 1, 1, 1, 1, 1, 1};
    EXPECT_EQ(kernels::winograd_applies(stage2, 8, 64), simd128 || avx512) << kernels::isa_name(isa);
    EXPECT_EQ(kernels::winograd_applies(stage2, 1, 64), simd128) << kernels::isa_name(isa);
    // W4's last two stages (150x150 inputs, batch 16): 10x10 and 5x5
    // outputs in 5x5 tiles on SIMD128, else in 4x4 and 3x3; ResNet50's 7x7
    // at batch 1 in 2x2.
    const auto same = [](int64_t hw, int64_t c) {
      return kernels::ConvGeometry{hw, hw, c, 3, 3, hw, hw, 1, 1, 1, 1, 1, 1};
    };
    EXPECT_EQ(kernels::winograd_tile(same(10, 256), 16), simd128 ? 5 : 4);
    EXPECT_EQ(kernels::winograd_tile(same(5, 512), 16), simd128 ? 5 : 3);
    EXPECT_EQ(kernels::winograd_tile(same(7, 512), 1), 2);
  }
}

TEST(Parallel, CoversEveryIndexOnceAndNestsSerially) {
  KernelSettings restore;
  set_num_threads(max_threads());
  std::vector<std::atomic<int>> hits(10007);
  std::atomic<int> inner_calls{0};
  parallel_for(10007, 64, [&](int64_t b, int64_t e) {
    EXPECT_LT(b, e);
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    // A nested loop runs whole, on this thread.
    parallel_for(100, 1, [&](int64_t nb, int64_t ne) {
      EXPECT_EQ(nb, 0);
      EXPECT_EQ(ne, 100);
      inner_calls++;
    });
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_GE(inner_calls.load(), 1);
}

TEST(Parallel, AffineLoopsCoverEveryIndexOnceAndNestSerially) {
  // Each thread starts on its own share and then takes the others' chunks:
  // every index once, whatever the split, and nested loops serial.
  KernelSettings restore;
  for (int threads : two_and_all_threads()) {
    set_num_threads(threads);
    for (const int64_t n : {2, 3, 17, 1000, 10007}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> nested_whole{0};
      parallel_for_affine(n, 1, [&](int64_t b, int64_t e) {
        EXPECT_LT(b, e);
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        parallel_for_affine(10, 1, [&](int64_t nb, int64_t ne) { nested_whole += nb == 0 && ne == 10; });
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << n << " indices, " << threads << " threads";
      EXPECT_GE(nested_whole.load(), 1);
    }
  }
}

TEST(Parallel, InsideALoopKernelsSeeOneThread) {
  // A kernel called from a parallel_for's fn (gemm's split-K halves) runs
  // serially there, so it must size its work for one thread.
  KernelSettings restore;
  set_num_threads(max_threads());
  EXPECT_EQ(threads_here(), max_threads());
  std::atomic<int> inside_not_one{0};
  parallel_for(64, 1, [&](int64_t, int64_t) {
    if (threads_here() != 1) inside_not_one++;
  });
  EXPECT_EQ(inside_not_one.load(), 0);
  EXPECT_EQ(threads_here(), max_threads());
}

TEST(Parallel, RethrowsTheFirstErrorAndStaysUsable) {
  KernelSettings restore;
  set_num_threads(max_threads());
  for (const auto loop : {&parallel_for, &parallel_for_affine}) {
    EXPECT_THROW(loop(1000, 1,
                      [](int64_t, int64_t e) {
                        if (e > 500) throw std::runtime_error("chunk failed");
                      }),
                 std::runtime_error);
    std::atomic<int64_t> sum{0};
    loop(1000, 1, [&](int64_t b, int64_t e) { sum += e - b; });
    EXPECT_EQ(sum.load(), 1000);
  }
}

TEST(Parallel, ThreadCountIsChecked) {
  KernelSettings restore;
  EXPECT_GE(max_threads(), 1);
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(max_threads() + 1), ValueError);
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
}

TEST(Isa, TheActiveIsaIsSupportedAndUnknownOnesAreRefused) {
  const auto isas = kernels::supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), kernels::Isa::Scalar);
  bool found = false;
  for (auto isa : isas) found |= isa == kernels::active_isa();
  EXPECT_TRUE(found);
#ifdef __EMSCRIPTEN__
  EXPECT_THROW(kernels::set_isa(kernels::Isa::AVX2), ValueError);
#endif
}
