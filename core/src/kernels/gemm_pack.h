// Private: the blocking constants and packing passes that gemm.cpp's GEMM
// and gemm_rows.cpp's in-place conv products share.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cnn/kernels/gemm.h"

namespace cnn::kernels {

// K blocks are KernelTable::kc deep.
constexpr int64_t NC = 2048;  // a B panel (kc x NC, 2-4 MiB) stays in L3
// Below this many multiply-adds (~20 us of work) a call runs on one thread:
// waking the pool would cost more than it saves.
constexpr int64_t kParallelWork = int64_t{1} << 20;
// Up to this many B slivers the tiles read A in place (see gemm()). Wider B
// reuses each packed A value more often, and large power-of-two row strides
// (a 1024^3 GEMM) make the in-place rows collide in the caches.
constexpr int64_t kDirectASlivers = 8;

// The depth of a product's K blocks: the table's kc, but a short last block
// (under half of kc) is spread over the others when each stays within 1.25
// kc. A block costs a pass over C and the tiles' start-up whatever its
// depth: K = 576 (ResNet50's conv2 3x3) as 2 blocks of 288 instead of 256,
// 256 and 64, Intel Xeon (AVX-512), in one process: +5% at 1 thread, +8% at
// 2; the other conv GEMMs and the course CNN (K = 288) level.
int64_t k_block_depth(int64_t K, int64_t kc);

// L1's and L2's sizes in bytes, per core; 0 where unknown (WebAssembly).
int64_t l1_bytes();
int64_t l2_bytes();

// A small C over a long K (a conv's filter gradient: KKC x O summed over
// every pixel of the batch) gives threads nothing to share in M or N, so K
// is cut into fixed chunks, each summed into its own C, then added in order.
// The cut depends on the shape only, so results do not depend on the thread
// count.
constexpr int64_t kSplitKChunk = 4096;
constexpr int64_t kSplitKMaxMN = 128 * 128;
inline bool split_k(int64_t M, int64_t N, int64_t K) {
  return M * N <= kSplitKMaxMN && K >= 4 * kSplitKChunk;
}

// A's M rows cut into blocks of whole MR slivers, at most max_rows rows each
// (120: an L2-resident block of A; one sliver where MR is taller), as many
// blocks as a multiple of the thread count and as even as the slivers allow
// (sizes differ by one sliver at most): with a fixed block size, a 1024-row
// A made 9 blocks, 5 for one thread and 4 for the other.
class RowBlocks {
 public:
  RowBlocks(int64_t M, int64_t MR, int64_t threads, int64_t max_rows = 120)
      : M_(M), MR_(MR), slivers_((M + MR - 1) / MR) {
    const int64_t per = std::max<int64_t>(1, max_rows / MR);  // slivers per block at most
    count_ = (slivers_ + per - 1) / per;
    if (threads > 1) count_ = std::min(slivers_, (count_ + threads - 1) / threads * threads);
    max_rows_ = (slivers_ + count_ - 1) / count_ * MR;
  }
  int64_t count() const { return count_; }
  int64_t max_rows() const { return max_rows_; }
  int64_t begin(int64_t b) const { return b * slivers_ / count_ * MR_; }
  int64_t end(int64_t b) const { return std::min(M_, (b + 1) * slivers_ / count_ * MR_); }

 private:
  int64_t M_, MR_, slivers_, count_, max_rows_;
};

// Products whose threads each pack B for themselves (gemm_own_b,
// gemm_rows) cut A into row blocks of at most kOwnBRows rows (one sliver
// where the tile is taller), as small as a tile or two. Against blocks of 48
// rows, 2 threads, AMD EPYC (Zen 3), in one process: GEMM 1024^3 +11-13%,
// 512^3 +10%, ResNet50's GEMMs +3-22%, ResNet50 batch 8 +6%, batch 1 +4%; the
// in-place conv products +2-8% (-3% on one); at 1 thread the block size did
// not matter (+-1.5%). The threads take the blocks a few at a time, in chunks
// of one pool task.
constexpr int64_t kOwnBRows = 12;
// They do so only with at least this many rows of A per thread, so that
// packing B again costs a few percent of the product; fewer rows share one
// packed B.
constexpr int64_t kOwnBMinRowsPerThread = 72;
inline bool threads_own_b(int64_t M, int64_t threads) {
  return threads > 1 && M >= kOwnBMinRowsPerThread * threads;
}

// `rows` rows (rows <= width) of kc floats (row r at src + r * ld)
// interleaved as out[p * width + r]: a packed sliver of A, or of B^T.
void interleave_rows(const float* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, float* out);

// Copies `rows` rows of `width` floats (stride ld) into a dense (rows, width)
// block; the widths of the ISAs' tiles get fixed-length copies the compiler
// turns into vector moves. False for other widths.
bool copy_rows_fixed(int64_t width, const float* src, int64_t ld, int64_t rows, float* out);

// The same with each row anywhere: row p at rows[p] + offset.
bool gather_rows_fixed(int64_t width, const float* const* rows, int64_t offset, int64_t n, float* out);

// Packs slivers [s0, s1) of op(B)[p0:p0+kc, j0:j0+nc], each (kc, NR),
// zero-padded to whole slivers.
void pack_b(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
            int64_t NR, int64_t s0, int64_t s1, float* panel);

// C(M, N) *= beta; beta 0 writes zeros (dropping NaN/Inf left in C).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc);

// The epilogue on C[i0:i1, j0:j1].
void apply_epilogue(const Epilogue& ep, float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                    int64_t j1);

// C(M, N) (+)= alpha * A (M, K = segments * L) op(B) (K, N) with A's rows
// outermost (see gemm_rows.cpp), row i's segment s the L floats at rows[i] +
// s * seg_stride: C is written over by the first K block when
// first_overwrites, else added to. N <= gemm_rows_max_n().
void gemm_row_order(const float* const* rows, int64_t seg_stride, int64_t M, int64_t N, int64_t segments,
                    int64_t L, bool trans_b, const float* B, int64_t ldb, float alpha, bool first_overwrites,
                    float* C, int64_t ldc, const Epilogue* epilogue);

}  // namespace cnn::kernels
