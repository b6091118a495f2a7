// cnnp-bench: the engine's workloads under Google Benchmark, each reporting
// items_per_second (images/s). Names are stable so scripts can select them.
//   W1 LeNet training, 28x28x1, batch 32, Adam.
// The fast-kernels work adds W2-W4 and GEMM sizes, and a thread count.
#include <benchmark/benchmark.h>

#include "cnn/data/synthetic.h"
#include "cnn/nn/presets.h"
#include "cnn/optim/optimizer.h"
#include "cnn/train/fit_loop.h"

namespace {

void BM_W1_LeNetTrain(benchmark::State& state) {
  const int64_t batch = 32;
  auto task = cnn::data::make_synthetic_task({.samples = batch * 8, .seed = 1});
  auto model = cnn::nn::lenet({28, 28, 1}, 10, 7);
  model->compile(std::make_shared<cnn::optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  // An endless fit, stepped one batch per iteration.
  cnn::train::FitLoop loop(*model, task.x, task.y, {.batch_size = batch, .epochs = 1 << 30, .seed = 3});
  for (auto _ : state) loop.step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = 1;
}
BENCHMARK(BM_W1_LeNetTrain)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
