#!/usr/bin/python3
"""fp32 ONNX -> int8 ONNX for CPUs: the transformer's weight matmuls dynamic int8, the ResNet static int8.

  /usr/bin/python3 models/export/quantize.py --model-dir DIR [--out OUT] [--op contrib|onnx] [--reduce-range]
                                             [--resnet static|fp32] [--calibration-images DIR]

The ResNet stem's convolutions are quantised statically, with activation scales calibrated once
(quantize_resnet.py); what follows is the transformer's dynamic pass.

Every MatMul whose weight (second input) is a 2-D float initializer, and every Gemm with such a weight
(transA 0, alpha 1, beta 1), inside the encoder or decoder scopes (node names under /encoder/ or /decoder/)
is rewritten:

  weight   int8, symmetric, one scale per output channel: scale[n] = max|W[:, n]| / 127
  input    quantised at run time to uint8 over the whole tensor (min/max of this call)
  op       contrib: com.microsoft DynamicQuantizeMatMul(x, Wq, scale, None, bias) - one node
           onnx:    DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x_scale * scale) [-> Add bias]
  bias     a Gemm's bias, or the Add of a 1-D [N] initializer that is a MatMul's only consumer (how torch
           exports a Linear on 3-D input), becomes the int8 node's bias: one pass over the output less

The embeddings (Gather), the attention score matmuls (no constant weight), the
position-bias linears (`pos_q_linear`, `self_pos_k_linear`, …: their image rows read only weights, so onnxruntime
folds them into constants at load, and their text rows are a handful; quantising them would cost accuracy and buy
nothing) and the answer head (/MatMul, outside the scopes: it reads only 3 columns) stay fp32.
The ResNet's convolutions are not quantised dynamically (ConvInteger measured no faster than onnxruntime's fp32 NCHWc
convolutions once each activation's range is scanned); quantize_resnet.py quantises them statically instead. Inputs and output keep their
float32/int64 types, so the int8 graph is a drop-in variant of model.onnx (models/README.md §1.4).

With --model-dir, model.onnx of DIR is read and model.int8.onnx written to OUT (default DIR), and OUT's
manifest.json lists it (onnx.int8). When OUT differs from DIR the other files are hard-linked (or copied)
there, so DIR is left untouched.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import quantize_resnet

SCOPES = ("/encoder/", "/decoder/")
MS_DOMAIN = "com.microsoft"
INT8_FILE = "model.int8.onnx"


def quantize_weight(w: np.ndarray, qmax: int = 127) -> Tuple[np.ndarray, np.ndarray]:
    """[K, N] float -> (int8 [K, N], float32 scale [N]) with W ~= q * scale column by column, |q| <= qmax."""
    peak = np.abs(w).max(axis=0).astype(np.float32)
    scale = np.where(peak > 0, peak / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _weight_of(node: onnx.NodeProto, inits: Dict[str, TensorProto]) -> Optional[Tuple[np.ndarray, Optional[str]]]:
    """The [K, N] weight and the bias name of a quantisable node, or None when the node stays fp32."""
    if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2:
        return None
    init = inits.get(node.input[1])
    if init is None or init.data_type != TensorProto.FLOAT or len(init.dims) != 2:
        return None
    w = numpy_helper.to_array(init)
    if node.op_type == "MatMul":
        return w, None
    if _attr(node, "transA", 0) or _attr(node, "alpha", 1.0) != 1.0 or _attr(node, "beta", 1.0) != 1.0:
        return None
    bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
    if bias is not None and (bias not in inits or len(inits[bias].dims) != 1):
        return None
    return (w.T if _attr(node, "transB", 0) else w), bias


def _position_term(node: onnx.NodeProto) -> bool:
    """A linear of the absolute-position bias (encoder pos_q/k_linear, decoder self_/cross_pos_q/k_linear)."""
    return "pos_q_linear" in node.name or "pos_k_linear" in node.name


def _bias_add(node: onnx.NodeProto, n_out: int, consumers: Dict[str, List[onnx.NodeProto]],
              inits: Dict[str, TensorProto], outputs: set) -> Optional[Tuple[onnx.NodeProto, str]]:
    """MatMul -> Add(bias [N]) as torch exports a 3-D Linear: the Add and its bias, to fold into the int8 node."""
    y = node.output[0]
    users = consumers.get(y, [])
    if node.op_type != "MatMul" or y in outputs or len(users) != 1 or users[0].op_type != "Add":
        return None
    add = users[0]
    other = add.input[1] if add.input[0] == y else add.input[0]
    b = inits.get(other)
    if b is None or b.data_type != TensorProto.FLOAT or list(b.dims) != [n_out]:
        return None
    return add, other


def _replacement(node: onnx.NodeProto, wq: str, scale: str, bias: Optional[str], op: str,
                 y: Optional[str] = None) -> List[onnx.NodeProto]:
    x, y, base = node.input[0], y or node.output[0], node.name or node.output[0]
    if op == "contrib":
        inputs = [x, wq, scale, "", bias] if bias else [x, wq, scale]
        return [helper.make_node("DynamicQuantizeMatMul", inputs, [y], name=base + "_int8", domain=MS_DOMAIN)]
    t = lambda s: f"{base}_int8_{s}"  # noqa: E731
    nodes = [
        helper.make_node("DynamicQuantizeLinear", [x], [t("xq"), t("xs"), t("xzp")], name=t("quant")),
        helper.make_node("MatMulInteger", [t("xq"), wq, t("xzp")], [t("acc")], name=t("matmul")),
        helper.make_node("Cast", [t("acc")], [t("accf")], name=t("cast"), to=TensorProto.FLOAT),
        helper.make_node("Mul", [t("xs"), scale], [t("scale")], name=t("scale_mul")),
    ]
    if bias:
        nodes += [helper.make_node("Mul", [t("accf"), t("scale")], [t("out")], name=t("rescale")),
                  helper.make_node("Add", [t("out"), bias], [y], name=t("bias"))]
    else:
        nodes.append(helper.make_node("Mul", [t("accf"), t("scale")], [y], name=t("rescale")))
    return nodes


def quantize_model(model: onnx.ModelProto, op: str = "contrib", scopes: Iterable[str] = SCOPES,
                   qmax: int = 127) -> int:
    """Rewrites `model` in place; returns how many matmuls became int8."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    scopes = tuple(scopes)
    new_nodes: List[onnx.NodeProto] = []
    new_inits: List[TensorProto] = []
    done: Dict[str, Tuple[str, str]] = {}  # weight name (+transB) -> (int8 name, scale name)
    consumers: Dict[str, List[onnx.NodeProto]] = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {o.name for o in g.output}
    folded: set = set()  # outputs of the bias Adds now inside an int8 node (output names are unique in ONNX)
    count = 0
    for node in g.node:
        found = _weight_of(node, inits) if node.name.startswith(scopes) and not _position_term(node) else None
        if found is None:
            if not (node.op_type == "Add" and node.output[0] in folded):
                new_nodes.append(node)
            continue
        w, bias = found
        y = None
        fold = _bias_add(node, w.shape[1], consumers, inits, outputs) if bias is None else None
        if fold is not None:
            folded.add(fold[0].output[0])
            bias, y = fold[1], fold[0].output[0]
        key = f"{node.input[1]}|{_attr(node, 'transB', 0) if node.op_type == 'Gemm' else 0}"
        if key not in done:
            q, s = quantize_weight(w, qmax)
            names = (f"{node.input[1]}_int8_{len(done)}", f"{node.input[1]}_scale_{len(done)}")
            new_inits += [numpy_helper.from_array(q, names[0]), numpy_helper.from_array(s, names[1])]
            done[key] = names
        new_nodes.extend(_replacement(node, *done[key], bias, op, y))
        count += 1
    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(new_inits)
    _drop_unused_initializers(g)
    del g.value_info[:]  # shapes between rewritten nodes changed type; onnxruntime re-infers them
    if op == "contrib" and not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return count


def _drop_unused_initializers(g: onnx.GraphProto) -> None:
    used = {name for n in g.node for name in n.input} | {o.name for o in g.output}
    for a in (a for n in g.node for a in n.attribute if a.type == onnx.AttributeProto.GRAPH):
        used |= {name for n in a.g.node for name in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)


def convert(src: str, dst: str, op: str = "contrib", qmax: int = 127, resnet: str = "static",
            calibration_dir: Optional[str] = None, mean: Sequence[float] = (0.5,) * 3,
            std: Sequence[float] = (0.5,) * 3) -> int:
    """fp32 file -> int8 file; returns how many matmuls became int8 (and logs the convolutions)."""
    model = onnx.load(src)
    if resnet == "static" and quantize_resnet.resnet_nodes(model):
        size = model.graph.input[[i.name for i in model.graph.input].index("patch_images")].type.tensor_type.shape.dim[2].dim_value
        images = (quantize_resnet.folder_images(calibration_dir, size, mean, std) if calibration_dir
                  else quantize_resnet.synthetic_images(size, mean, std))
        convs = quantize_resnet.static_resnet(model, images)
        log(f"{convs} ResNet convolutions static int8, calibrated on {len(images)} "
            f"{'images from ' + calibration_dir if calibration_dir else 'synthetic images'}")
    count = quantize_model(model, op, qmax=qmax)
    tmp = dst + ".partial"
    onnx.save(model, tmp)
    os.replace(tmp, dst)
    return count


def _link_or_copy(src: str, dst: str) -> None:
    if os.path.exists(dst):
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def quantize_dir(model_dir: str, out: Optional[str] = None, op: str = "contrib", qmax: int = 127,
                 resnet: str = "static", calibration_dir: Optional[str] = None) -> str:
    """Adds model.int8.onnx to a complete model directory (or to a linked copy at `out`); returns the out dir."""
    out = out or model_dir
    with open(os.path.join(model_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if os.path.abspath(out) != os.path.abspath(model_dir):
        os.makedirs(out, exist_ok=True)
        stale = os.path.join(out, "manifest.json")
        if os.path.exists(stale):
            os.remove(stale)
        for name in os.listdir(model_dir):
            path = os.path.join(model_dir, name)
            if name != "manifest.json" and name != INT8_FILE and os.path.isfile(path):
                _link_or_copy(path, os.path.join(out, name))
    count = convert(os.path.join(model_dir, manifest["onnx"]["fp32"]), os.path.join(out, INT8_FILE), op, qmax, resnet,
                    calibration_dir, manifest["image"]["mean"], manifest["image"]["std"])
    log(f"{count} matmuls quantised to int8 ({op}); wrote {os.path.join(out, INT8_FILE)}")
    manifest["onnx"]["int8"] = INT8_FILE
    from manifest import write_manifest
    write_manifest(out, manifest)
    return out


def log(msg: str) -> None:
    print(f"[quantize] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", required=True, help="a complete model directory (manifest.json + model.onnx)")
    p.add_argument("--out", help="write the int8 variant into this directory instead (other files linked)")
    p.add_argument("--op", choices=["contrib", "onnx"], default="contrib",
                   help="DynamicQuantizeMatMul (onnxruntime contrib op) or standard ONNX integer ops")
    p.add_argument("--reduce-range", action="store_true",
                   help="7-bit weights (|q| <= 63): for CPUs without AVX-512 VNNI, whose uint8 x int8 kernels "
                        "sum pairs in saturating 16-bit lanes")
    p.add_argument("--resnet", choices=["static", "fp32"], default="static",
                   help="the ResNet stem's convolutions: static int8 with calibrated activation scales "
                        "(quantize_resnet.py), or left fp32")
    p.add_argument("--calibration-images", metavar="DIR",
                   help="calibrate the ResNet's activation scales on the photos in DIR (default: synthetic images); "
                        "with a real checkpoint, use a sample of the traffic the service will see")
    args = p.parse_args(argv)
    quantize_dir(args.model_dir, args.out, args.op, 63 if args.reduce_range else 127, args.resnet,
                 args.calibration_images)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
