#!/usr/bin/python3
"""Unit tests of quantize_resnet.py on a toy ResNet graph (the traced ResNetStem3's shape, tiny sizes): the numpy
calibration evaluator against direct loops, and the QDQ rewrite's structure. test/parity/int8.test.ts runs the toy
graph on onnxruntime-node (close to fp32, and fused into QLinearConv).

  /usr/bin/python3 models/export/test_quantize_resnet.py
"""
from __future__ import annotations

import os
import sys
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quantize_resnet as qr  # noqa: E402

P = qr.SCOPE


def build_toy_resnet(seed: int = 0, size: int = 16) -> onnx.ModelProto:
    """patch_images -> stem Conv 7x7/2 -> Relu -> MaxPool 3/2 -> one bottleneck with a downsample -> Relu -> y."""
    rng = np.random.RandomState(seed)
    inits, nodes = [], []

    def conv(name: str, x: str, cin: int, cout: int, k: int, stride: int = 1) -> str:
        w = rng.normal(0, (2.0 / (cin * k * k)) ** 0.5, (cout, cin, k, k)).astype(np.float32)
        b = rng.normal(0, 0.1, (cout,)).astype(np.float32)
        inits.extend([numpy_helper.from_array(w, f"{name}.w"), numpy_helper.from_array(b, f"{name}.b")])
        nodes.append(helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [f"{P}{name}/Conv_output_0"],
                                      name=f"{P}{name}/Conv", kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4))
        return f"{P}{name}/Conv_output_0"

    def relu(name: str, x: str) -> str:
        nodes.append(helper.make_node("Relu", [x], [f"{P}{name}_output_0"], name=f"{P}{name}"))
        return f"{P}{name}_output_0"

    h = relu("Relu", conv("conv1", "patch_images", 3, 4, 7, 2))
    nodes.append(helper.make_node("MaxPool", [h], [f"{P}maxpool/MaxPool_output_0"], name=f"{P}maxpool/MaxPool",
                                  kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    pooled = f"{P}maxpool/MaxPool_output_0"
    a = relu("layer1/Relu", conv("layer1/conv1", pooled, 4, 4, 1))
    a = relu("layer1/Relu_1", conv("layer1/conv2", a, 4, 4, 3))
    a = conv("layer1/conv3", a, 4, 16, 1)
    d = conv("layer1/downsample", pooled, 4, 16, 1)
    nodes.append(helper.make_node("Add", [d, a], [f"{P}layer1/Add_output_0"], name=f"{P}layer1/Add"))
    out = relu("layer1/Relu_2", f"{P}layer1/Add_output_0")
    nodes.append(helper.make_node("Identity", [out], ["y"], name="/encoder/image_proj/Identity"))
    graph = helper.make_graph(nodes, "toy-resnet",
                              [helper.make_tensor_value_info("patch_images", TensorProto.FLOAT, ["B", 3, size, size])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 16, size // 4, size // 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _naive_conv(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, o, ho, wo), np.float64)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


class EvaluatorTest(unittest.TestCase):
    def test_conv_matches_direct_loops(self):
        rng = np.random.RandomState(1)
        x = rng.normal(size=(2, 3, 9, 11)).astype(np.float32)
        for k, stride in ((1, 1), (3, 1), (3, 2), (7, 2)):
            w = rng.normal(size=(5, 3, k, k)).astype(np.float32)
            b = rng.normal(size=(5,)).astype(np.float32)
            got = qr._conv(x, w, b, [stride, stride], [k // 2] * 4)
            np.testing.assert_allclose(got, _naive_conv(x, w, b, stride, k // 2), rtol=1e-4, atol=1e-4)

    def test_maxpool_pads_with_minus_infinity(self):
        x = -np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4) - 1  # all negative: zero padding would win
        got = qr._maxpool(x, [3, 3], [2, 2], [1, 1, 1, 1])
        self.assertEqual(got.shape, (1, 1, 2, 2))
        self.assertEqual(got[0, 0, 0, 0], -1.0)

    def test_calibration_ranges_cover_every_tensor(self):
        model = build_toy_resnet()
        ranges = qr.calibrate(model, qr.synthetic_images(16, [0.5] * 3, [0.5] * 3, count=3))
        produced = {o for n in qr.resnet_nodes(model) for o in n.output}
        self.assertEqual(set(ranges), produced)
        relu = ranges[f"{P}layer1/Relu_2_output_0"]
        self.assertEqual(relu[0], 0.0)
        self.assertGreater(relu[1], 0.0)


class RewriteTest(unittest.TestCase):
    def setUp(self):
        self.model = build_toy_resnet()
        self.count = qr.static_resnet(self.model, qr.synthetic_images(16, [0.5] * 3, [0.5] * 3, count=3))
        self.nodes = list(self.model.graph.node)

    def test_every_conv_but_the_stem_reads_int8_weights_and_int32_bias(self):
        self.assertEqual(self.count, 4)
        producers = {o: n for n in self.nodes for o in n.output}
        inits = {i.name: i for i in self.model.graph.initializer}
        for conv in (n for n in self.nodes if n.op_type == "Conv"):
            if conv.input[0] == "patch_images":
                self.assertIn(conv.input[1], inits, "the stem convolution stays fp32")
                continue
            w, b, x = producers[conv.input[1]], producers[conv.input[2]], producers[conv.input[0]]
            self.assertEqual((w.op_type, b.op_type, x.op_type), ("DequantizeLinear",) * 3, conv.name)
            self.assertEqual(inits[w.input[0]].data_type, TensorProto.INT8)
            self.assertEqual(inits[b.input[0]].data_type, TensorProto.INT32)

    def test_residual_add_reads_dequantised_inputs_and_graph_is_valid(self):
        producers = {o: n for n in self.nodes for o in n.output}
        add = next(n for n in self.nodes if n.op_type == "Add")
        self.assertEqual([producers[i].op_type for i in add.input], ["DequantizeLinear"] * 2)
        relu_out = next(n for n in self.nodes if n.name == f"{P}Relu")
        self.assertEqual([n.op_type for n in self.nodes if relu_out.output[0] in n.input], ["MaxPool"],
                         "the stem's Relu feeds the max-pool directly: the pool's output is quantised once")
        onnx.checker.check_model(self.model, full_check=True)

    def test_relu_outputs_get_zero_point_zero(self):
        inits = {i.name: numpy_helper.to_array(i) for i in self.model.graph.initializer}
        q = next(n for n in self.nodes if n.op_type == "QuantizeLinear" and n.input[0].endswith("layer1/Relu_2_output_0"))
        self.assertEqual(int(inits[q.input[2]]), 0, "onnxruntime folds a Relu into Q only when its zero point is 0")


if __name__ == "__main__":
    unittest.main()
