#!/usr/bin/env python3
"""Makes docs/train-section.png, the README's screenshot, from the one the
browser tests write (tests/web/screenshots/train.png): the top of the Train
section, 960 px wide, 256 colours, so the repository stays small.
Run after `npm test` (or `node --test tests/web/`): python3 scripts/readme-screenshot.py"""
from pathlib import Path

from PIL import Image

root = Path(__file__).resolve().parent.parent
im = Image.open(root / "tests/web/screenshots/train.png").convert("RGB")
w, h = im.size
im = im.crop((0, 0, w, min(h, 760)))
im = im.resize((960, im.size[1] * 960 // w), Image.LANCZOS)
im.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(root / "docs/train-section.png", optimize=True)
