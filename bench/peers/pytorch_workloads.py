#!/usr/bin/python3
"""The benchmark workloads on PyTorch (CPU, or CUDA for the GPU backend), the peer cnnp-bench is compared with.

usage: /usr/bin/python3 bench/peers/pytorch_workloads.py --workload w1|w2|w3|w4 [--threads 1] [--seconds 5]
       [--batch N] [--device cpu|cuda]
Prints {"workload", "peer": "pytorch", "threads", "batch", "images_per_s", "peak_rss_mib", "device"} as one
JSON line; with --device cuda also "peak_gpu_mib" (torch.cuda.max_memory_allocated). Exits 2 when CUDA is
asked for and torch sees no GPU.

  w1  LeNet training, 28x28x1, batch 32, Adam
  w2  the course CNN training, 150x150x3, batch 16, Adam
  w3  ResNet50 inference, 224x224x3 (batch 1 and 8: --batch)
  w4  ResNet50 frozen backbone + GAP + Dense(12) training, 150x150x3, batch 16, Adam
Same shapes, optimizer settings (Keras's Adam epsilon 1e-7) and batch sizes as the engine's workloads.
"""
import argparse
import json
import os
import resource
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--workload", default="w1", choices=["w1", "w2", "w3", "w4"])
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=5.0)
p.add_argument("--batch", type=int, default=0)
p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
args = p.parse_args()
# torch.set_num_threads sizes PyTorch's own pool, not OpenBLAS's, which Debian's PyTorch calls for its dense
# layers: OpenBLAS starts a thread per core, read from this variable when it loads (with torch). Unset, W1 at
# "1 thread" kept a second core busy (9.5 CPU-seconds in 5.2 s).
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

import torch  # noqa: E402 (after OPENBLAS_NUM_THREADS is set)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

cuda = args.device == "cuda"
if cuda and not torch.cuda.is_available():
    print("pytorch_workloads.py: --device cuda, but torch.cuda.is_available() is false "
          f"(no GPU visible, or torch {torch.__version__} is a CPU-only build)", file=sys.stderr)
    sys.exit(2)  # a usage-level failure, as argparse's, so callers can tell it from a crash
torch.set_num_threads(args.threads)
torch.manual_seed(0)
if cuda:
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest algorithms (in warm-up)
    # Full FP32, as the engine computes (cuDNN would otherwise use TF32 on Ampere and later).
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
dev = torch.device(args.device)  # data is drawn on the CPU then moved, so both devices see the same numbers


def sync():
    if cuda:
        torch.cuda.synchronize()  # CUDA calls return before the GPU is done: wait before reading a clock


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def course_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 17 * 17, 12))


def resnet50(**kw):
    import torchvision  # Debian python3-torchvision
    return torchvision.models.resnet50(weights=None, **kw)


def training_step(model, params, x, y, batch):
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    steps = x.shape[0] // batch

    def run():
        for i in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[i * batch:(i + 1) * batch]), y[i * batch:(i + 1) * batch])
            loss.backward()
            opt.step()
        return steps * batch
    return run


if args.workload == "w1":
    batch = args.batch or 32
    model = lenet().to(dev)
    run = training_step(model, model.parameters(), torch.rand(batch * 8, 1, 28, 28).to(dev),
                        torch.randint(0, 10, (batch * 8,)).to(dev), batch)
elif args.workload == "w2":
    batch = args.batch or 16
    model = course_cnn().to(dev)
    run = training_step(model, model.parameters(), torch.rand(batch * 2, 3, 150, 150).to(dev),
                        torch.randint(0, 12, (batch * 2,)).to(dev), batch)
elif args.workload == "w3":
    batch = args.batch or 8
    model = resnet50().eval().to(dev)
    x = torch.rand(batch, 3, 224, 224).to(dev)

    def run():
        with torch.no_grad():
            model(x)
        return batch
else:
    batch = args.batch or 16
    backbone = resnet50()
    backbone.fc = nn.Identity()  # include_top=False + the GAP torchvision's ResNet ends with
    backbone.eval()              # frozen: BatchNorm in inference mode
    for q in backbone.parameters():
        q.requires_grad_(False)
    backbone.to(dev)
    head = nn.Linear(2048, 12).to(dev)  # on the device before Adam takes its parameters
    x = torch.rand(batch * 2, 3, 150, 150).to(dev)
    y = torch.randint(0, 12, (batch * 2,)).to(dev)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3, eps=1e-7)

    def run():
        for i in range(2):
            with torch.no_grad():
                features = backbone(x[i * batch:(i + 1) * batch])
            opt.zero_grad()
            F.cross_entropy(head(features), y[i * batch:(i + 1) * batch]).backward()
            opt.step()
        return 2 * batch

# Warm-up: on CUDA several rounds, for cuDNN's algorithm search, lazy module loading and the allocator.
for _ in range(5 if cuda else 1):
    run()
sync()
images, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < args.seconds:
    images += run()
    sync()
elapsed = time.perf_counter() - t0
result = {"workload": args.workload, "peer": "pytorch", "threads": args.threads, "batch": batch,
          "images_per_s": round(images / elapsed, 2),
          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
          "device": args.device}
if cuda:
    result["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
print(json.dumps(result))
