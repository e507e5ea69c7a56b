"""Static int8 for OFA's ResNet stem: calibrated QuantizeLinear/DequantizeLinear pairs that onnxruntime fuses.

Why static: the ResNet is a quarter of the int8 graph's time once the transformer's matmuls are int8, and its
convolutions do not gain from dynamic quantisation (ConvInteger measured no faster than onnxruntime's fp32 NCHWc
convolutions, because each activation must be scanned for its range first). With fixed activation scales the graph
is the standard QDQ form: onnxruntime (graph optimisation level "all") turns DQ -> Conv -> Q into QLinearConv in
NHWC, Add into QLinearAdd and drops the Relus into the zero points, so activations stay uint8 from one convolution
to the next (measured on the OFA-large block shapes, 2 cores: 2-3.6x faster than fp32).

What gets quantised (nodes under /encoder/embed_images/, the traced ResNetStem3 of ofa_resnet.py):
  activations  uint8, one scale per tensor from calibration (min/max over the calibration images, widened to
               include 0): the max-pool output, every Relu output, and every Conv output that feeds a residual Add
  weights      int8, symmetric, one scale per output channel (BatchNorm is already folded into each Conv)
  biases       int32 at scale (input scale x weight scale), as QLinearConv takes them
The first convolution (3 input channels, the pixels themselves) stays fp32: it is a few percent of the work and
the one place where the input's own precision matters most.

Calibration runs the fp32 ResNet subgraph in numpy (Conv, Relu, Add, MaxPool are all it holds), so nothing
beyond python3-onnx and numpy is needed. The default images are synthetic (smooth colour fields with texture and
edges, a fixed seed); `calibration_images` takes a folder of real photographs instead, preprocessed exactly as
the service does (EXIF transpose, RGB, Pillow bicubic to the model's size, normalised).
"""
from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCOPE = "/encoder/embed_images/"
CALIBRATION_IMAGES = 8


def _attrs(node: onnx.NodeProto) -> Dict[str, object]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _conv(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], strides, pads) -> np.ndarray:
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    sh, sw = strides
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho, wo = (h + pads[0] + pads[2] - kh) // sh + 1, (wd + pads[1] + pads[3] - kw) // sw + 1
    cols = np.empty((n, c, kh, kw, ho, wo), np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw]
    out = np.matmul(w.reshape(o, -1), cols.reshape(n, c * kh * kw, ho * wo)).reshape(n, o, ho, wo)
    return out + b[None, :, None, None] if b is not None else out


def _maxpool(x: np.ndarray, kernel, strides, pads) -> np.ndarray:
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=-np.inf)
    ho, wo = (h + pads[0] + pads[2] - kernel[0]) // strides[0] + 1, (w + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
    out = np.full((n, c, ho, wo), -np.inf, np.float32)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out = np.maximum(out, xp[:, :, i:i + strides[0] * ho:strides[0], j:j + strides[1] * wo:strides[1]])
    return out


def resnet_nodes(model: onnx.ModelProto) -> List[onnx.NodeProto]:
    return [n for n in model.graph.node if n.name.startswith(SCOPE)]


def calibrate(model: onnx.ModelProto, images: np.ndarray) -> Dict[str, Tuple[float, float]]:
    """Runs the ResNet nodes on `images` [N,3,S,S] one at a time; (min, max) of every tensor they produce."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    nodes = resnet_nodes(model)
    ranges: Dict[str, Tuple[float, float]] = {}
    for image in images:
        env: Dict[str, np.ndarray] = {"patch_images": image[None].astype(np.float32)}
        for node in nodes:
            a = _attrs(node)
            ins = [env[i] if i in env else inits[i] for i in node.input if i]
            if node.op_type == "Conv":
                if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                    raise ValueError(f"{node.name}: grouped or dilated convolution")
                out = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]), a.get("pads", [0] * 4))
            elif node.op_type == "Relu":
                out = np.maximum(ins[0], 0)
            elif node.op_type == "Add":
                out = ins[0] + ins[1]
            elif node.op_type == "MaxPool":
                if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
                    raise ValueError(f"{node.name}: ceil-mode or dilated max-pool")
                out = _maxpool(ins[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0] * 4))
            else:
                raise ValueError(f"{node.name}: {node.op_type} is not part of the ResNet this pass knows")
            env[node.output[0]] = out
            lo, hi = float(out.min()), float(out.max())
            old = ranges.get(node.output[0], (lo, hi))
            ranges[node.output[0]] = (min(old[0], lo), max(old[1], hi))
    return ranges


def synthetic_images(size: int, mean: Sequence[float], std: Sequence[float], count: int = CALIBRATION_IMAGES,
                     seed: int = 0) -> np.ndarray:
    """Photo-like inputs without photographs: smooth colour fields, texture and a few hard edges, normalised."""
    rng = np.random.RandomState(seed)
    out = np.empty((count, 3, size, size), np.float32)
    ys, xs = np.mgrid[0:size, 0:size] / size
    for k in range(count):
        coarse = rng.uniform(0, 1, (3, 6, 6))
        idx = np.minimum((ys * 6).astype(int), 5), np.minimum((xs * 6).astype(int), 5)
        field = coarse[:, idx[0], idx[1]]
        field = 0.6 * field + 0.3 * np.sin(ys * rng.uniform(2, 20) + xs * rng.uniform(2, 20))[None] ** 2
        field += rng.normal(0, 0.05, field.shape)
        out[k] = np.clip(field, 0, 1)
    m, s = np.asarray(mean, np.float32)[:, None, None], np.asarray(std, np.float32)[:, None, None]
    return (out - m) / s


def folder_images(folder: str, size: int, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The reference preprocessing of every JPEG/PNG/WebP in `folder` (docs/ofa-ve.md §2)."""
    from PIL import Image, ImageOps
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
    if not names:
        raise ValueError(f"{folder}: no .jpg/.jpeg/.png/.webp images to calibrate with")
    m, s = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    rows = []
    for name in names:
        with Image.open(os.path.join(folder, name)) as img:
            rgb = ImageOps.exif_transpose(img).convert("RGB").resize((size, size), Image.BICUBIC)
        rows.append(((np.asarray(rgb, np.float32) / 255.0 - m) / s).transpose(2, 0, 1))
    return np.stack(rows)


def _uint8_params(lo: float, hi: float) -> Tuple[np.float32, np.uint8]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    return np.float32(scale), np.uint8(np.clip(round(-lo / scale), 0, 255))


def quantize_resnet(model: onnx.ModelProto, ranges: Dict[str, Tuple[float, float]]) -> int:
    """Inserts the QDQ pairs and int8 weights in place; returns how many convolutions became int8."""
    g = model.graph
    nodes = resnet_nodes(model)
    inits = {i.name: i for i in g.initializer}
    convs = [n for n in nodes if n.op_type == "Conv" and n.input[0] != "patch_images"]
    points = {n.output[0] for n in nodes if n.op_type in ("Relu", "MaxPool")}
    points |= {n.output[0] for n in convs if not any(m.op_type == "Relu" and m.input[0] == n.output[0] for m in nodes)}
    points -= {n.output[0] for n in nodes if n.op_type == "Relu" and _feeds_only_maxpool(n, nodes)}
    params = {t: _uint8_params(*ranges[t]) for t in sorted(points)}
    new_inits: List[TensorProto] = []
    weight_nodes: List[onnx.NodeProto] = []  # first in the graph: they read only initializers
    qdq: Dict[str, List[onnx.NodeProto]] = {}
    for t, (scale, zp) in params.items():
        s, z = f"{t}_qscale", f"{t}_qzero"
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), s), numpy_helper.from_array(np.array(zp, np.uint8), z)]
        qdq[t] = [helper.make_node("QuantizeLinear", [t, s, z], [f"{t}_q"], name=f"{t}_Q"),
                  helper.make_node("DequantizeLinear", [f"{t}_q", s, z], [f"{t}_dq"], name=f"{t}_DQ")]
    for node in g.node:  # consumers read the dequantised copy; the QDQ pair itself reads the original
        for i, name in enumerate(node.input):
            if name in qdq:
                node.input[i] = f"{name}_dq"
    for conv in convs:
        x = conv.input[0][:-3] if conv.input[0].endswith("_dq") else conv.input[0]
        if x not in params:
            raise ValueError(f"{conv.name}: its input {x} has no activation scale")
        made, dq = _quantize_conv(conv, inits, params[x][0])
        new_inits += made
        weight_nodes += dq
    out: List[onnx.NodeProto] = list(weight_nodes)
    for node in g.node:
        out.append(node)
        for t in node.output:
            out.extend(qdq.get(t, []))
    del g.node[:]
    g.node.extend(out)
    g.initializer.extend(new_inits)
    return len(convs)


def _feeds_only_maxpool(relu: onnx.NodeProto, nodes: Iterable[onnx.NodeProto]) -> bool:
    users = [n for n in nodes if relu.output[0] in n.input]
    return bool(users) and all(u.op_type == "MaxPool" for u in users)


def _quantize_conv(conv: onnx.NodeProto, inits: Dict[str, TensorProto],
                   x_scale: np.float32) -> Tuple[List[TensorProto], List[onnx.NodeProto]]:
    """int8 per-channel weight and int32 bias, each behind a DequantizeLinear (axis 0) the Conv now reads."""
    w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float32)
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    w_scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    wq = np.clip(np.rint(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
    base = conv.name
    made = [numpy_helper.from_array(wq, f"{base}_wq"), numpy_helper.from_array(w_scale, f"{base}_wscale"),
            numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f"{base}_wzero")]
    extra = [helper.make_node("DequantizeLinear", [f"{base}_wq", f"{base}_wscale", f"{base}_wzero"], [f"{base}_w"],
                              name=f"{base}_wDQ", axis=0)]
    conv.input[1] = f"{base}_w"
    if len(conv.input) > 2 and conv.input[2]:
        b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
        b_scale = (np.float64(x_scale) * w_scale.astype(np.float64)).astype(np.float32)
        bq = np.clip(np.rint(b / b_scale), -2 ** 31, 2 ** 31 - 1).astype(np.int32)
        made += [numpy_helper.from_array(bq, f"{base}_bq"), numpy_helper.from_array(b_scale, f"{base}_bscale"),
                 numpy_helper.from_array(np.zeros(w.shape[0], np.int32), f"{base}_bzero")]
        extra.append(helper.make_node("DequantizeLinear", [f"{base}_bq", f"{base}_bscale", f"{base}_bzero"],
                                      [f"{base}_b"], name=f"{base}_bDQ", axis=0))
        conv.input[2] = f"{base}_b"
    return made, extra


def static_resnet(model: onnx.ModelProto, images: np.ndarray) -> int:
    """Calibrate on `images`, then quantise; returns how many convolutions became int8."""
    return quantize_resnet(model, calibrate(model, images))
