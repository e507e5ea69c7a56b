"""fp32 ONNX -> fp16 ONNX for GPU, keeping the fp32 interface (inputs and output stay float32).

Torch 1.13 cannot run half-precision layers on CPU, so the fp16 graph is made by rewriting the
traced fp32 graph: float initializers and Constant/ConstantOfShape values become float16 (finite
values clipped to +-65504 so fp32's finfo.min mask value stays finite instead of becoming -inf),
Cast-to-float nodes cast to float16, and Casts are inserted after float inputs and before the output.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_F16_MAX = 65504.0


def _to_f16(t: TensorProto) -> TensorProto:
    arr = numpy_helper.to_array(t)
    finite = np.isfinite(arr)
    arr = np.where(finite, np.clip(arr, -_F16_MAX, _F16_MAX), arr).astype(np.float16)
    return numpy_helper.from_array(arr, t.name)


def _convert_node(node: onnx.NodeProto) -> None:
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT:
            attr.t.CopyFrom(_to_f16(attr.t))
        if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
            attr.i = TensorProto.FLOAT16


def convert(src: str, dst: str) -> None:
    model = onnx.load(src)
    g = model.graph
    for i, init in enumerate(g.initializer):
        if init.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(_to_f16(init))
    for node in g.node:
        _convert_node(node)
    casts = []
    for inp in g.input:
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            half = inp.name + "_f16"
            for node in g.node:
                node.input[:] = [half if n == inp.name else n for n in node.input]
            casts.append(helper.make_node("Cast", [inp.name], [half], to=TensorProto.FLOAT16))
    for out in g.output:
        if out.type.tensor_type.elem_type == TensorProto.FLOAT:
            half = out.name + "_f16"
            for node in g.node:
                node.output[:] = [half if n == out.name else n for n in node.output]
            g.node.append(helper.make_node("Cast", [half], [out.name], to=TensorProto.FLOAT))
    for c in reversed(casts):
        g.node.insert(0, c)
    del g.value_info[:]
    onnx.save(model, dst)
