#!/usr/bin/python3
"""W1 on PyTorch CPU: the course LeNet (28x28x1, batch 32, Adam) training images/s.

usage: /usr/bin/python3 bench/peers/pytorch_w1.py [--threads 1] [--seconds 5]
Prints {"workload": "w1", "peer": "pytorch", "threads", "images_per_s"}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=5.0)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
    nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
x = torch.rand(32 * 8, 1, 28, 28)
y = torch.randint(0, 10, (32 * 8,))


def epoch():
    for i in range(8):
        opt.zero_grad()
        loss = F.cross_entropy(model(x[i * 32:(i + 1) * 32]), y[i * 32:(i + 1) * 32])
        loss.backward()
        opt.step()


epoch()  # warm-up
images, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < args.seconds:
    epoch()
    images += 32 * 8
elapsed = time.perf_counter() - t0
print(json.dumps({"workload": "w1", "peer": "pytorch", "threads": args.threads,
                  "images_per_s": round(images / elapsed, 1)}))
