// cnnp-bench: the engine's workloads under Google Benchmark. Names are stable
// so scripts can select them; every benchmark takes a thread count and
// reports items_per_second (images/s, or FLOP/s for the GEMMs and the peak).
//   BM_W1_LeNetTrain/threads:N    LeNet training, 28x28x1, batch 32, Adam
//   BM_W2_CourseCNNTrain/threads:N  the course CNN training, 150x150x3, batch 16, Adam
//   BM_W2_AugmentedTrain/threads:N  the same behind Keras's RandomFlip, RandomRotation, RandomZoom
//   BM_W3_ResNet50Infer/batch:B/threads:N  ResNet50 inference, 224x224x3, batch 1 or 8
//   BM_W4_ResNet50Transfer/threads:N  frozen ResNet50 + GAP + Dense(12) training, 150x150x3, batch 16, Adam
//   BM_GEMM/size:S/threads:N      square S^3 single-precision GEMM
//   BM_GEMM_Conv/<layer>/threads:N  the im2col GEMMs of ResNet50's convs (224x224, batch 1)
//   BM_PeakFlops/threads:N        a register-only multiply-add loop: the cores' peak
// The active kernels (CNN_ISA may choose them) are printed in the context.
// --device=cuda runs W1-W4 on the GPU (the CUDA backend): the model's
// weights live there and each batch is copied in, as fit() does; W3's input
// is put there once, as a GPU inference server would hold it.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/data/synthetic.h"
#include "cnn/device.h"
#include "cnn/kernels/gemm.h"
#include "cnn/kernels/isa.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/optim/optimizer.h"
#include "cnn/parallel.h"
#include "cnn/rng.h"
#include "cnn/tensor.h"
#include "cnn/train/fit_loop.h"

namespace {

cnn::Device g_device = cnn::Device::CPU;  // --device=cpu|cuda

void thread_counts(benchmark::internal::Benchmark* b) {
  for (int t = 1; t <= cnn::max_threads(); t *= 2) b->Arg(t);
  b->ArgName("threads");
}

void BM_W1_LeNetTrain(benchmark::State& state) {
  cnn::set_num_threads(static_cast<int>(state.range(0)));
  const int64_t batch = 32;
  auto task = cnn::data::make_synthetic_task({.samples = batch * 8, .seed = 1});
  auto model = cnn::nn::lenet({28, 28, 1}, 10, 7);
  model->to(g_device);
  model->compile(std::make_shared<cnn::optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  // An endless fit, stepped one batch per iteration.
  cnn::train::FitLoop loop(*model, task.x, task.y, {.batch_size = batch, .epochs = 1 << 30, .seed = 3});
  for (auto _ : state) loop.step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_W1_LeNetTrain)->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_W2_CourseCNNTrain(benchmark::State& state) {
  cnn::set_num_threads(static_cast<int>(state.range(0)));
  const int64_t batch = 16;
  auto task = cnn::data::make_synthetic_task(
      {.samples = batch * 2, .height = 150, .width = 150, .channels = 3, .classes = 12, .seed = 1});
  auto model = cnn::nn::course_cnn({150, 150, 3}, 12, 7);
  model->to(g_device);
  model->compile(std::make_shared<cnn::optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  cnn::train::FitLoop loop(*model, task.x, task.y, {.batch_size = batch, .epochs = 1 << 30, .seed = 3});
  for (auto _ : state) loop.step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_W2_CourseCNNTrain)
    ->Apply(thread_counts)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

// W2 with Keras's augmentation layers in front (RandomFlip('horizontal'),
// RandomRotation(0.1), RandomZoom(0.1)): what they add to a training step.
void BM_W2_AugmentedTrain(benchmark::State& state) {
  cnn::set_num_threads(static_cast<int>(state.range(0)));
  const int64_t batch = 16;
  auto task = cnn::data::make_synthetic_task(
      {.samples = batch * 2, .height = 150, .width = 150, .channels = 3, .classes = 12, .seed = 1});
  const auto course = cnn::nn::course_cnn({150, 150, 3}, 12, 7);
  const cnn::nn::FactorRange tenth{-0.1f, 0.1f, true};
  std::vector<cnn::nn::LayerPtr> layers{std::make_shared<cnn::nn::InputLayer>(cnn::Shape{150, 150, 3}),
                                        std::make_shared<cnn::nn::RandomFlip>("horizontal"),
                                        std::make_shared<cnn::nn::RandomRotation>(tenth),
                                        std::make_shared<cnn::nn::RandomZoom>(tenth, std::nullopt)};
  for (const cnn::nn::LayerPtr& l : course->sequential_layers()) layers.push_back(l);
  cnn::nn::Sequential model(layers, "sequential", 7);
  model.to(g_device);
  model.compile(std::make_shared<cnn::optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  cnn::train::FitLoop loop(model, task.x, task.y, {.batch_size = batch, .epochs = 1 << 30, .seed = 3});
  for (auto _ : state) loop.step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_W2_AugmentedTrain)
    ->Apply(thread_counts)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

// The process's peak resident set so far, in MiB (W4's memory figure: run it
// alone, with --benchmark_filter, for a figure of its own).
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void BM_W3_ResNet50Infer(benchmark::State& state) {
  const int64_t batch = state.range(0);
  cnn::set_num_threads(static_cast<int>(state.range(1)));
  auto model = cnn::nn::resnet50({.seed = 7});
  cnn::Rng rng(1);
  cnn::Tensor x({batch, 224, 224, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(0.0f, 255.0f);
  if (g_device == cnn::Device::CPU) {
    for (auto _ : state) benchmark::DoNotOptimize(model->predict(x, batch).data());
  } else {
    model->to(g_device);
    const cnn::Tensor xd = x.to(g_device);
    cnn::NoGradGuard no_grad;
    // Reading the probabilities back waits for the GPU to finish.
    for (auto _ : state) benchmark::DoNotOptimize(model->call(xd).to_vector());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(1));
}
BENCHMARK(BM_W3_ResNet50Infer)
    ->ArgNames({"batch", "threads"})
    ->ArgsProduct({{1, 8}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

void BM_W4_ResNet50Transfer(benchmark::State& state) {
  cnn::set_num_threads(static_cast<int>(state.range(0)));
  const int64_t batch = 16;
  auto task = cnn::data::make_synthetic_task(
      {.samples = batch * 2, .height = 150, .width = 150, .channels = 3, .classes = 12, .seed = 1});
  // include_top with 12 classes is the course's GAP + Dense(12, softmax) head;
  // everything before it is the frozen backbone.
  auto model = cnn::nn::resnet50({.input_shape = {150, 150, 3}, .classes = 12, .seed = 7});
  model->set_trainable(false);
  model->get_layer("predictions")->set_trainable(true);
  model->to(g_device);
  model->compile(std::make_shared<cnn::optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  cnn::train::FitLoop loop(*model, task.x, task.y, {.batch_size = batch, .epochs = 1 << 30, .seed = 3});
  for (auto _ : state) loop.step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
  state.counters["peak_rss_mib"] = peak_rss_mib();
}
BENCHMARK(BM_W4_ResNet50Transfer)
    ->Apply(thread_counts)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

// The operands are the engine's tensors, 64-byte aligned as every GEMM in
// the engine sees them (the OpenBLAS peer aligns its own the same way).
void run_gemm(benchmark::State& state, int64_t M, int64_t N, int64_t K, int threads) {
  cnn::set_num_threads(threads);
  cnn::Rng rng(1);
  cnn::Tensor A({M, K}), B({K, N}), C({M, N});
  for (float* p = A.data(); p != A.data() + M * K; ++p) *p = rng.uniform(-1.0f, 1.0f);
  for (float* p = B.data(); p != B.data() + K * N; ++p) *p = rng.uniform(-1.0f, 1.0f);
  for (auto _ : state) {
    cnn::kernels::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
  }
  state.SetItemsProcessed(state.iterations() * 2 * M * N * K);  // FLOP/s
  state.counters["threads"] = threads;
}

void BM_GEMM(benchmark::State& state) {
  const int64_t s = state.range(0);
  run_gemm(state, s, s, s, static_cast<int>(state.range(1)));
}
BENCHMARK(BM_GEMM)
    ->ArgNames({"size", "threads"})
    ->ArgsProduct({{256, 512, 1024}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);

// (OH*OW, O, KH*KW*C) of ResNet50's distinct conv layers at 224x224.
struct ConvShape {
  const char* name;
  int64_t M, N, K;
};
const ConvShape kResNetConvs[] = {
    {"conv1_7x7s2", 112 * 112, 64, 7 * 7 * 3}, {"conv2_1x1", 56 * 56, 64, 64},
    {"conv2_3x3", 56 * 56, 64, 9 * 64},        {"conv2_1x1_expand", 56 * 56, 256, 64},
    {"conv3_3x3", 28 * 28, 128, 9 * 128},      {"conv3_1x1_expand", 28 * 28, 512, 128},
    {"conv4_3x3", 14 * 14, 256, 9 * 256},      {"conv4_1x1_expand", 14 * 14, 1024, 256},
    {"conv5_3x3", 7 * 7, 512, 9 * 512},        {"conv5_1x1_expand", 7 * 7, 2048, 512},
};

void register_conv_gemms() {
  for (const ConvShape& c : kResNetConvs)
    for (int t = 1; t <= std::min(2, cnn::max_threads()); ++t)
      benchmark::RegisterBenchmark(
          (std::string("BM_GEMM_Conv/") + c.name + "/threads:" + std::to_string(t)).c_str(),
          [c, t](benchmark::State& s) { run_gemm(s, c.M, c.N, c.K, t); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
}

void BM_PeakFlops(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  cnn::set_num_threads(threads);
  const int64_t iterations = 1 << 22;
  double flops = 0;
  for (auto _ : state) {
    std::vector<double> done(static_cast<size_t>(threads));
    cnn::parallel_for(threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        done[static_cast<size_t>(i)] = cnn::kernels::run_peak_flops_loop(iterations);
    });
    for (double d : done) flops += d;
  }
  state.SetItemsProcessed(static_cast<int64_t>(flops));  // FLOP/s
  state.counters["threads"] = threads;
}
BENCHMARK(BM_PeakFlops)->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);

}  // namespace

// Takes --device=cpu|cuda out of argv (Google Benchmark refuses flags it
// does not know); exits with a message when the device is unusable.
bool take_device_flag(int& argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--device=", 0) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    try {
      g_device = cnn::parse_device(a.substr(9));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cnnp-bench: %s\n", e.what());
      return false;
    }
  }
  argc = kept;
  if (!cnn::device_available(g_device)) {
    std::fprintf(stderr, "cnnp-bench: %s\n", cnn::device_description(g_device).c_str());
    return false;
  }
  return true;
}

int main(int argc, char** argv) {
  if (!take_device_flag(argc, argv)) return 2;
  benchmark::AddCustomContext("cnn_device", cnn::device_description(g_device));
  benchmark::AddCustomContext("cnn_isa", cnn::kernels::isa_name(cnn::kernels::active_isa()));
  benchmark::AddCustomContext("cnn_max_threads", std::to_string(cnn::max_threads()));
  register_conv_gemms();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
