#!/usr/bin/python3
"""Pillow side of the preprocessing comparisons (bench/preprocess.ts, test/parity/resize-sizes.test.ts).

One JSON request on stdin, one JSON answer on stdout:
  {"cmd": "resize", "cases": [{"in": path, "w": W, "h": H, "size": S, "out": path, "reps": N}]}
      raw interleaved RGB in -> Image.resize((S, S), BICUBIC) -> raw RGB out; per case the median and best ms
  {"cmd": "preprocess", "jpeg": path, "size": S, "reps": N}
      PIL decode (+ convert RGB), bicubic resize, numpy normalisation, each timed alone (median ms, CPU ms)
"""
import io
import json
import sys
import time

import numpy as np
from PIL import Image


def timed(fn, reps):
    fn()  # warm up
    wall, cpu = [], []
    out = None
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    cpu.sort()
    return out, {"medianMs": wall[len(wall) // 2], "bestMs": wall[0], "cpuMedianMs": cpu[len(cpu) // 2]}


def cmd_resize(req):
    out = []
    for c in req["cases"]:
        with open(c["in"], "rb") as f:
            img = Image.frombytes("RGB", (c["w"], c["h"]), f.read())
        res, t = timed(lambda: img.resize((c["size"], c["size"]), Image.BICUBIC), c.get("reps", 1))
        with open(c["out"], "wb") as f:
            f.write(res.tobytes())
        out.append(t)
    return {"cases": out, "pillow": Image.__version__}


def cmd_preprocess(req):
    with open(req["jpeg"], "rb") as f:
        data = f.read()
    size, reps = req["size"], req.get("reps", 20)
    mean = np.asarray([0.5] * 3, np.float32)
    std = np.asarray([0.5] * 3, np.float32)

    def decode():
        img = Image.open(io.BytesIO(data))
        return img.convert("RGB")

    rgb, t_decode = timed(decode, reps)
    small, t_resize = timed(lambda: rgb.resize((size, size), Image.BICUBIC), reps)

    def normalise():
        arr = np.asarray(small, dtype=np.float32) / 255.0
        return np.ascontiguousarray(((arr - mean) / std).transpose(2, 0, 1))

    _, t_norm = timed(normalise, reps)
    _, t_total = timed(lambda: normalise_of(decode(), size, mean, std), reps)
    return {"decode": t_decode, "resize": t_resize, "normalise": t_norm, "total": t_total, "pillow": Image.__version__}


def normalise_of(img, size, mean, std):
    arr = np.asarray(img.resize((size, size), Image.BICUBIC), dtype=np.float32) / 255.0
    return np.ascontiguousarray(((arr - mean) / std).transpose(2, 0, 1))


if __name__ == "__main__":
    request = json.load(sys.stdin)
    answer = {"resize": cmd_resize, "preprocess": cmd_preprocess}[request["cmd"]](request)
    json.dump(answer, sys.stdout)
