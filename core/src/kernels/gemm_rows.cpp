// The GEMMs of a convolution read straight from its (padded) input: A's rows
// are given as one pointer per output pixel, one window row per segment, so
// the im2col columns are never stored. gemm_rows is the forward product
// (gemm_row_order, which also takes plain GEMMs' tall products against a
// few slivers of B); gemm_rows_tn the filter gradient, which packs A^T's
// slivers from the windows as it goes (im2col fused into the packing).
#include <algorithm>
#include <atomic>

#include "cnn/error.h"
#include "cnn/kernels/gemm.h"
#include "cnn/parallel.h"
#include "kernels/gemm_pack.h"
#include "kernels/kernel_table.h"
#include "kernels/scratch.h"

namespace cnn::kernels {

int64_t gemm_rows_max_n() { return kDirectASlivers * active_kernels().nr; }

namespace {

// The stretches of K whose packed B (every sliver) fits `budget` bytes (no
// limit at 0), as even as they can be, cut between segments where a segment
// fits (a conv's kernel rows), else inside each segment: stretch i is
// [begin(i), begin(i + 1)) for i < count(). Computed, not stored, so a
// product allocates nothing for them.
class KStretches {
 public:
  KStretches(int64_t segments, int64_t L, int64_t row_bytes, int64_t budget) : L_(L) {
    const int64_t fit = budget > 0 ? std::max<int64_t>(16, budget / row_bytes) : segments * L;  // K rows
    if (L <= fit) {  // groups of whole segments
      const int64_t per = fit / L;
      count_ = (segments + per - 1) / per;
      segments_ = segments;
    } else {  // pieces of each segment
      const int64_t parts = (L + fit - 1) / fit;
      part_ = (L + parts - 1) / parts;
      pieces_ = (L + part_ - 1) / part_;
      count_ = segments * pieces_;
    }
  }
  int64_t count() const { return count_; }
  int64_t begin(int64_t i) const {
    if (part_ == 0) return i * segments_ / count_ * L_;
    return i / pieces_ * L_ + std::min(i % pieces_ * part_, L_);
  }

 private:
  int64_t L_, count_ = 0, segments_ = 0, part_ = 0, pieces_ = 0;
};

}  // namespace

// Goto's order turned around, A's rows outermost: B is packed a stretch of
// K at a time, as much as fits half of L2 (all of it, mostly), then each
// task takes an MC block of rows (and, with few blocks, a group of slivers)
// and runs every K block of the stretch over it while that block of C stays
// in cache (measured against K blocks outermost at row_order in gemm.cpp).
// Threads take blocks of rows, or where B is large beside A, its columns.
void gemm_row_order(const float* const* rows, int64_t seg_stride, int64_t M, int64_t N, int64_t segments,
                    int64_t L, bool trans_b, const float* B, int64_t ldb, float alpha, bool first_overwrites,
                    float* C, int64_t ldc, const Epilogue* epilogue) {
  const int64_t K = segments * L;
  const KernelTable& kt = active_kernels();
  const bool narrow = N <= kt.narrow_nr;
  const int64_t MR = narrow ? kt.narrow_mr : kt.mr, NR = narrow ? kt.narrow_nr : kt.nr;
  const auto tile = narrow ? kt.gemm_tile_rows_narrow : kt.gemm_tile_rows;
  const bool threaded = M * N * K >= kParallelWork && threads_here() > 1;
  const int64_t threads = threaded ? threads_here() : 1;
  const int64_t slivers = (N + NR - 1) / NR;
  // The stretches depend on the whole of B, so that the sums do not depend
  // on how the threads share it out.
  const KStretches stretches(segments, L, slivers * NR * static_cast<int64_t>(sizeof(float)), l2_bytes() / 2);

  // Packs slivers [s0, s1) of the stretch [k0, k0 + depth): sliver s (depth,
  // NR) at b_pack + s * depth * NR.
  const auto pack = [&](int64_t k0, int64_t depth, int64_t s0, int64_t s1, float* b_pack) {
    pack_b(trans_b, B, ldb, k0, 0, depth, N, NR, s0, s1, b_pack);
  };
  // A product whose rows are each one run of A (a plain GEMM, a 1x1 conv)
  // reads every row once, from memory where A is large; its tiles then
  // waited on them (the hardware prefetchers fell behind twelve row streams
  // at once), so the first sliver's tile asks for the next tile's rows as it
  // runs, a line a k step. A conv's windows (several segments) overlap those
  // of the tiles before, mostly in cache already: asking for them too,
  // ResNet50 at batch 8 and W4 ran 3% slower than asking for plain rows only
  // (a 1 x KW conv's windows, one segment, are still asked for: no such conv
  // in the workloads). A line a step reaches all of AVX-512's twelve next
  // rows where K is 48 or more (a shorter K leaves the last rows unasked); the
  // narrow tiles (N <= 16) have no such tile: unmeasured.
  // AMD EPYC (AVX-512), 1 thread, median of 5 in one process, against
  // without: 12544 x 64 x 147 (ResNet50's conv1 as a GEMM) 89 -> 104
  // GFLOP/s, 25088 x 64 x 256 83 -> 93-106, 25088 x 256 x 64 71 -> 91-97,
  // 25088 x 64 x 576 +10%, the shapes whose A fits L2 and 196 x 256 x 2304
  // level; at 2 threads 25088 x 64 x 256 and 25088 x 256 x 64 +20-30%; AVX2
  // on the same core 12544 x 64 x 147 +9-19%, 25088 x 64 x 64-256 +13-29%.
  const bool prefetch_rows = segments == 1 && !narrow && kt.gemm_tile_rows_prefetch;
  // Rows [i0, i0 + mc) of C (+)= their product with slivers [s0, s1) of the
  // stretch [k0, k0 + depth), packed at b_pack; the epilogue after the last.
  // Its whole tiles ask for the rows after them up to ahead_end (the end of
  // the caller's chunk of rows: the next chunk may be another thread's).
  const auto run_block = [&](int64_t i0, int64_t mc, int64_t s0, int64_t s1, int64_t k0, int64_t depth,
                             const float* b_pack, int64_t ahead_end) {
    // Natively a K block is as deep as the stretch (within a segment): the
    // tiles read each row of A in one long run and write C once. Against
    // blocks kc deep, Intel Xeon (AVX-512), in one process, 1 / 2 threads:
    // ResNet50's conv2 3x3 +2% / +2%, conv3 3x3 +3.6% / +5%, 1568 x 128 x
    // 1152 +5% / +4%, 300-400 x 256 x 1024 +3% / +5%, 3000 x 32 x 8192 (A's
    // rows 32 KiB apart) +54% / +4%, 25088 x 64 x 256 -2.5% / level;
    // ResNet50, W2 and W4 level. WebAssembly, with one stretch of the whole
    // K, keeps kc's depth (unmeasured in V8).
    const int64_t kc_max = l2_bytes() > 0 ? std::min(depth, L) : k_block_depth(std::min(depth, L), kt.kc);
    // K blocks of the stretch, none across a segment's end.
    for (int64_t k = k0; k < k0 + depth;) {
      const int64_t seg = k / L, off = k % L;
      const int64_t kc = std::min({kc_max, L - off, k0 + depth - k});
      const bool overwrite = first_overwrites && k == 0;
      // A tile's rows first, across the slivers: those rows of A come
      // from memory once and serve every sliver from L1, while the
      // slivers wait in L2. Against each sliver down the block's rows,
      // Intel Xeon (AVX-512), in one process, 1 thread: ResNet50's conv1
      // +4.5%, conv2 3x3 +1.5%, 300-1000 rows +2-7%, 25088 x 64 x 256 -2%,
      // ResNet50 at batch 8 +3%; at 2 threads (blocks of one tile) level.
      for (int64_t i = i0; i < i0 + mc; i += MR) {
        const int64_t m = std::min(MR, i0 + mc - i);
        for (int64_t s = s0; s < s1; ++s) {
          const int64_t j = s * NR, n = std::min(NR, N - j);
          const float* bp = b_pack + (s * depth + k - k0) * NR;
          if (prefetch_rows && s == s0 && m == MR && i + MR < ahead_end) {
            const RowsPrefetch pf{rows + i + MR, seg * seg_stride + off, std::min(MR, ahead_end - i - MR)};
            kt.gemm_tile_rows_prefetch(kc, rows + i, seg * seg_stride + off, bp, alpha, C + i * ldc + j, ldc,
                                       n, overwrite, pf);
          } else {
            tile(kc, rows + i, seg * seg_stride + off, bp, alpha, C + i * ldc + j, ldc, m, n, overwrite);
          }
        }
      }
      k += kc;
    }
    if (epilogue && k0 + depth == K)
      apply_epilogue(*epilogue, C, ldc, i0, i0 + mc, s0 * NR, std::min(N, s1 * NR));
  };
  thread_local Scratch b_scratch;  // in the threads' tasks, each thread's own

  // Where B is at least a quarter the size of A and has two slivers a
  // thread, the threads take B's columns, each packing only its slivers of
  // every stretch and running all the rows against them, with no wait
  // between stretches: packing all of B on every thread cost more than each
  // reading all of A. Against threads that each pack B whole, 2 threads,
  // Intel Xeon (AVX-512), in one process: ResNet50's conv4 3x3 (196 x 256 x
  // 2304) +3-4%, 200-400 x 256 x 1024 +6-8%, 392 x 256 x 2304 +3%; with B
  // smaller than that, 784-6272 x 128 x 512-1152 lost 1.5-7%.
  if (threaded && slivers >= 2 * threads && 4 * N >= M) {
    const RowBlocks rb(M, MR, 1);
    parallel_for_affine(threads, 1, [&](int64_t c0, int64_t c1) {  // the same slivers to a thread each call
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t s0 = c * slivers / threads, s1 = (c + 1) * slivers / threads;
        for (int64_t st = 0; st < stretches.count(); ++st) {
          const int64_t k0 = stretches.begin(st), depth = stretches.begin(st + 1) - k0;
          float* own = b_scratch.get(depth * slivers * NR);
          pack(k0, depth, s0, s1, own);
          for (int64_t block = 0; block < rb.count(); ++block)
            run_block(rb.begin(block), rb.end(block) - rb.begin(block), s0, s1, k0, depth, own, M);
        }
      }
    });
    return;
  }

  // With rows enough (threads_own_b), each thread packs each stretch for
  // itself and takes row blocks as it comes free (as gemm_own_b in
  // gemm.cpp): 2 threads, ResNet50's 3x3 convs and W2's, AMD EPYC: -3% to
  // +7% when quiet, +31-76% with another process busy on one core (48-row
  // blocks; 12 rows since: +2-8% more on four shapes of five). Else the
  // threads pack it together first.
  const bool own_b = threads_own_b(M, threads);
  static std::atomic<uint64_t> stretches_posted{0};  // tells a thread whether its b_scratch holds a stretch
  const RowBlocks rb = own_b ? RowBlocks(M, MR, 1, kOwnBRows) : RowBlocks(M, MR, threads);
  const int64_t blocks = rb.count();
  const int64_t groups = blocks >= 2 * threads ? 1 : std::min(slivers, (2 * threads + blocks - 1) / blocks);
  for (int64_t st = 0; st < stretches.count(); ++st) {
    const int64_t k0 = stretches.begin(st), depth = stretches.begin(st + 1) - k0;
    float* shared_b = nullptr;
    if (!own_b) {
      shared_b = b_scratch.get(depth * slivers * NR);
      if (threaded)
        parallel_for(slivers, 1, [&](int64_t s0, int64_t s1) { pack(k0, depth, s0, s1, shared_b); });
      else
        pack(k0, depth, 0, slivers, shared_b);
    }
    const uint64_t posted = own_b ? stretches_posted.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
    const auto run = [&](int64_t t0, int64_t t1) {
      const float* b_pack = shared_b;
      if (own_b) {
        thread_local uint64_t packed = 0;
        float* own = b_scratch.get(depth * slivers * NR);
        if (packed != posted) {
          pack(k0, depth, 0, slivers, own);
          packed = posted;
        }
        b_pack = own;
      }
      const int64_t ahead_end = rb.end((t1 - 1) / groups);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t block = t / groups, group = t % groups;
        run_block(rb.begin(block), rb.end(block) - rb.begin(block), group * slivers / groups,
                  (group + 1) * slivers / groups, k0, depth, b_pack, ahead_end);
      }
    };
    if (threaded)
      // Each thread starts on its own share of the rows, so that call after
      // call (a layer's output, then the next layer's input) the same rows
      // meet the same core's cache. Against chunks taken as threads come
      // free, 2 threads, Intel Xeon (AVX-512), in one process: ResNet50's
      // conv2 1x1 expand +7.5%, conv2 1x1 +5%, conv2 3x3 +2.6%, conv1 +1%,
      // the rest level; ResNet50 at batch 8 +2%, W2 +1%, W4 level.
      parallel_for_affine(blocks * groups, 1, run);
    else
      run(0, blocks * groups);
  }
}

void gemm_rows(int64_t M, int64_t N, int64_t segments, int64_t L, const float* const* rows,
               int64_t seg_stride, const float* B, int64_t ldb, float* C, int64_t ldc,
               const Epilogue* epilogue) {
  if (M <= 0 || N <= 0) return;
  if (segments * L <= 0) {
    scale_c(M, N, 0.0f, C, ldc);
    if (epilogue) apply_epilogue(*epilogue, C, ldc, 0, M, 0, N);
    return;
  }
  if (N > gemm_rows_max_n())
    throw ValueError(str_cat("gemm_rows: B has ", N, " columns, more than the ", gemm_rows_max_n(),
                             " the in-place tiles take"));
  gemm_row_order(rows, seg_stride, M, N, segments, L, false, B, ldb, 1.0f, true, C, ldc, epilogue);
}

namespace {

// One sliver of A^T: out[p * MR + r] = A[p][i0 + r] for the kc rows p of A
// (row p's segments at rows[p] + s * seg_stride), columns i0 .. i0 + m,
// zero from m to MR. The sliver's columns fall into runs, one per segment
// they cross; a run as wide as the sliver is a fixed-length copy.
void pack_at_rows(const float* const* rows, int64_t seg_stride, int64_t L, int64_t i0, int64_t m, int64_t kc,
                  int64_t MR, float* out) {
  // A partial sliver is cleared whole first: one fill, not a short one per row.
  if (m < MR) std::fill(out, out + kc * MR, 0.0f);
  for (int64_t r = 0; r < m;) {
    const int64_t seg = (i0 + r) / L, off = (i0 + r) % L, len = std::min(L - off, m - r);
    const int64_t src = seg * seg_stride + off;
    if (len < MR || !gather_rows_fixed(MR, rows, src, kc, out))
      for (int64_t p = 0; p < kc; ++p) {
        const float* a = rows[p] + src;
        float* o = out + p * MR + r;
        for (int64_t c = 0; c < len; ++c) o[c] = a[c];
      }
    r += len;
  }
}

}  // namespace

// Goto's order over K blocks of pixels: each block packs B (kc pixels of
// dy), then every MR sliver of A^T is packed once and run against all of
// B's slivers. A small C over many pixels is summed in fixed chunks of
// pixels (split_k), one chunk per task, then the chunks in order; a large C
// is shared out by slivers of rows.
void gemm_rows_tn(int64_t segments, int64_t L, int64_t N, int64_t K, const float* const* rows,
                  int64_t seg_stride, const float* B, int64_t ldb, float* C, int64_t ldc) {
  const int64_t M = segments * L;
  if (M <= 0 || N <= 0 || K <= 0) return;
  const KernelTable& kt = active_kernels();
  const bool narrow = N <= kt.narrow_nr;
  const int64_t MR = narrow ? kt.narrow_mr : kt.mr, NR = narrow ? kt.narrow_nr : kt.nr;
  const auto tile = narrow ? kt.gemm_tile_narrow : kt.gemm_tile;
  const int64_t slivers = (N + NR - 1) / NR;
  const bool threaded = M * N * K >= kParallelWork && threads_here() > 1;

  // Rows [i0, i1) of C (ld ldc) += the product over pixels [k0, k1); with
  // overwrite, the first K block writes C instead.
  const auto product = [&](int64_t k0, int64_t k1, int64_t i0, int64_t i1, float* c, int64_t ld,
                           bool overwrite, const float* b_pack) {
    thread_local Scratch a_scratch;
    float* a_pack = a_scratch.get(kt.kc * MR);
    for (int64_t p0 = k0; p0 < k1; p0 += kt.kc) {
      const int64_t kc = std::min(kt.kc, k1 - p0);
      const float* bp = b_pack;
      if (!bp) {  // this task packs its own B block
        thread_local Scratch b_scratch;
        float* own = b_scratch.get(kt.kc * slivers * NR);
        pack_b(false, B, ldb, p0, 0, kc, N, NR, 0, slivers, own);
        bp = own;
      }
      for (int64_t i = i0; i < i1; i += MR) {
        const int64_t m = std::min(MR, i1 - i);
        pack_at_rows(rows + p0, seg_stride, L, i, m, kc, MR, a_pack);
        for (int64_t s = 0; s < slivers; ++s)
          tile(kc, a_pack, 0, bp + s * kc * NR, 1.0f, c + i * ld + s * NR, ld, m, std::min(NR, N - s * NR),
               overwrite && p0 == k0);
      }
    }
  };

  if (split_k(M, N, K)) {
    const int64_t chunks = (K + kSplitKChunk - 1) / kSplitKChunk;
    thread_local Scratch partial_scratch;
    float* partial = partial_scratch.get(chunks * M * N);
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        product(c * kSplitKChunk, std::min(K, (c + 1) * kSplitKChunk), 0, M, partial + c * M * N, N, true,
                nullptr);
    });
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float sum = C[i * ldc + j];
        for (int64_t c = 0; c < chunks; ++c) sum += partial[(c * M + i) * N + j];
        C[i * ldc + j] = sum;
      }
    return;
  }
  // One pass over K: each block of B is packed once (across threads), then
  // the rows of C are shared out by MR slivers (each packs its own A).
  const int64_t row_slivers = (M + MR - 1) / MR;
  thread_local Scratch b_scratch;
  float* b_pack = b_scratch.get(kt.kc * slivers * NR);
  for (int64_t p0 = 0; p0 < K; p0 += kt.kc) {
    const int64_t kc = std::min(kt.kc, K - p0);
    const auto pack = [&](int64_t s0, int64_t s1) {
      pack_b(false, B, ldb, p0, 0, kc, N, NR, s0, s1, b_pack);
    };
    const auto run = [&](int64_t r0, int64_t r1) {
      product(p0, p0 + kc, r0 * MR, std::min(M, r1 * MR), C, ldc, false, b_pack);
    };
    if (threaded) {
      parallel_for(slivers, 1, pack);
      parallel_for(row_slivers, 1, run);
    } else {
      pack(0, slivers);
      run(0, row_slivers);
    }
  }
}

}  // namespace cnn::kernels
