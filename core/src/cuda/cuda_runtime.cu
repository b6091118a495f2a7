// The CUDA backend's runtime: finding the GPU, the caching allocator, the
// cuBLAS handle and host <-> device copies.
#include <dlfcn.h>

#include <map>
#include <mutex>
#include <vector>

#include "cnn/error.h"
#include "cnn/memory.h"
#include "cuda/cuda_runtime.h"

namespace cnn::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw DeviceError(std::string("cuda: ") + what + " failed: " + cudaGetErrorString(status));
}

namespace {

// cuBLAS is opened on the first GEMM rather than linked: loading it costs a
// process about 150 MiB of resident memory, which every CPU-only run of a
// CUDA build would otherwise pay.
struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSgemm_v2) sgemm;
  decltype(&cublasGetStatusString) status_string;
};

const CublasApi& cublas_api() {
  static const CublasApi* api = [] {
    const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* lib = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen((std::string(CNN_CUDA_LIBRARY_DIR) + "/" + soname).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      throw DeviceError("cuda: " + soname + " could not be loaded (" + dlerror() +
                        "); add the CUDA toolkit's library folder to LD_LIBRARY_PATH");
    auto* a = new CublasApi;
    const auto get = [lib](const char* name) {
      void* f = dlsym(lib, name);
      if (!f) throw DeviceError(std::string("cuda: cuBLAS has no ") + name);
      return f;
    };
    a->create = reinterpret_cast<decltype(a->create)>(get("cublasCreate_v2"));
    a->set_math_mode = reinterpret_cast<decltype(a->set_math_mode)>(get("cublasSetMathMode"));
    a->sgemm = reinterpret_cast<decltype(a->sgemm)>(get("cublasSgemm_v2"));
    a->status_string = reinterpret_cast<decltype(a->status_string)>(get("cublasGetStatusString"));
    return a;
  }();
  return *api;
}

}  // namespace

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw DeviceError(std::string("cuda: ") + what + " failed: " + cublas_api().status_string(status));
}

bool probe(std::string* description) {
  // Kept for the process's life: device tensors freed during exit still ask.
  static const auto* found = [] {
    auto* r = new std::pair<bool, std::string>{false, ""};
    int count = 0;
    const cudaError_t st = cudaGetDeviceCount(&count);
    if (st != cudaSuccess) {
      r->second = std::string("no usable NVIDIA GPU (the CUDA runtime says: ") + cudaGetErrorString(st) + ")";
    } else if (count == 0) {
      r->second = "no NVIDIA GPU was found";
    } else {
      cudaDeviceProp prop{};
      int runtime = 0;
      if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess ||
          cudaRuntimeGetVersion(&runtime) != cudaSuccess) {
        r->second = "the GPU's properties could not be read";
      } else {
        r->first = true;
        r->second = str_cat(prop.name, ", ", human_bytes(static_cast<double>(prop.totalGlobalMem)),
                            ", compute ", prop.major, ".", prop.minor, ", CUDA runtime ", runtime / 1000, ".",
                            (runtime % 1000) / 10);
      }
    }
    return r;
  }();
  if (description) *description = found->second;
  return found->first;
}

namespace {
// C[0:M, 0:N] (row stride ldc) *= beta, or = 0 for beta 0 (NaN left in C dropped).
__global__ void scale_rows_kernel(float* C, int64_t ldc, int64_t M, int64_t N, float beta) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < M * N;
       i += int64_t{blockDim.x} * gridDim.x) {
    float& c = C[(i / N) * ldc + i % N];
    c = beta == 0.0f ? 0.0f : c * beta;
  }
}
}  // namespace

cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublas_api().create(&h), "cublasCreate");
    // Plain FP32 (no TF32) so results match the CPU backend's to 1e-4.
    check(cublas_api().set_math_mode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    return h;
  }();
  return handle;
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C, as the CPU's gemm
    if (beta != 1.0f) {
      scale_rows_kernel<<<blocks_for(M * N), kThreads>>>(C, ldc, M, N, beta);
      check_launch("gemm");
    }
    return;
  }
  // Row-major X is column-major X^T: C^T(N, M) = op(B)^T (N, K) op(A)^T (K, M).
  check(cublas_api().sgemm(cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                           static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, B,
                           static_cast<int>(ldb), A, static_cast<int>(lda), &beta, C, static_cast<int>(ldc)),
        "cublasSgemm");
}

namespace {

// Size classes: 512-byte steps below 1 MiB, 2 MiB steps above, so a
// training step's tensors find the blocks the last step freed.
size_t size_class(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t{2} << 20;
  return bytes < (size_t{1} << 20) ? (bytes + kSmall - 1) / kSmall * kSmall
                                   : (bytes + kLarge - 1) / kLarge * kLarge;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;
  size_t cached = 0;

  void drop_all() {
    for (auto& [bytes, blocks] : free_blocks)
      for (void* p : blocks) cudaFree(p);
    free_blocks.clear();
    cached = 0;
  }
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: tensors may be freed during exit
  return *c;
}

}  // namespace

float* allocate(size_t bytes) {
  const size_t n = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(n);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= n;
      return static_cast<float*>(p);
    }
  }
  void* p = nullptr;
  cudaError_t st = cudaMalloc(&p, n);
  if (st == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it, give the cached blocks back and try once more
    std::lock_guard<std::mutex> lock(c.mu);
    c.drop_all();
    st = cudaMalloc(&p, n);
  }
  if (st != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw ResourceError("out of GPU memory: a tensor of " + human_bytes(static_cast<double>(bytes)) +
                        " could not be allocated (" + human_bytes(static_cast<double>(free_b)) + " free of " +
                        human_bytes(static_cast<double>(total_b)) +
                        "); use a smaller batch size, smaller images or a smaller model");
  }
  return static_cast<float*>(p);
}

void release(float* p, size_t bytes) {
  if (!p) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  const size_t n = size_class(bytes);
  c.free_blocks[n].push_back(p);
  c.cached += n;
}

}  // namespace cnn::cuda
