"""Writes torchvision's ResNet50 (random weights, seed 0) as ONNX for the
ONNX Runtime peers of W3: bench/peers/.cache/resnet50.onnx (about 100 MB,
never committed). Batch size is a dynamic axis; input (N, 3, 224, 224).

usage: /usr/bin/python3 bench/peers/export_resnet50_onnx.py [--out PATH]
"""
import argparse
import os

import torch
import torchvision  # Debian python3-torchvision

p = argparse.ArgumentParser()
p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache", "resnet50.onnx"))
args = p.parse_args()
os.makedirs(os.path.dirname(args.out), exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet50(weights=None).eval()
torch.onnx.export(model, torch.rand(1, 3, 224, 224), args.out, input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)
print(args.out)
