#!/usr/bin/python3
"""Unit tests of quantize.py on a toy graph (no onnxruntime in Python here: the graph's structure and
the quantised weights are checked here; test/parity/int8.test.ts runs the toy graph in onnxruntime-node).

  /usr/bin/python3 models/export/test_quantize.py
"""
from __future__ import annotations

import os
import sys
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantize import MS_DOMAIN, quantize_model, quantize_weight  # noqa: E402

K, N = 64, 16


def build_toy_graph(seed: int = 0) -> onnx.ModelProto:
    """x [B,K] -> /encoder/ MatMul(W1) + b1 -> /decoder/ Gemm(W2 transposed, bias) -> /head/ MatMul(W3) -> y,
    plus an activation-activation MatMul and a Gather that shares W3's initializer (the tied-embedding case)."""
    rng = np.random.RandomState(seed)
    w1 = rng.normal(0, 0.2, (K, N)).astype(np.float32)
    w1[:, 3] *= 20.0  # one loud channel: per-channel scales keep the quiet ones precise
    b1 = rng.normal(0, 0.5, (N,)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (N, N)).astype(np.float32)  # Gemm transB=1: [N_out, K_in]
    b2 = rng.normal(0, 0.1, (N,)).astype(np.float32)
    w3 = rng.normal(0, 0.2, (N, N)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (w2, "w2"), (b2, "b2"), (w3, "w3"))]
    inits += [numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(np.array([0], dtype=np.int64), "idx")]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1m"], name="/encoder/fc/MatMul"),
        helper.make_node("Add", ["b1", "h1m"], ["h1"], name="/encoder/fc/Add"),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["h2"], name="/decoder/proj/Gemm", transB=1),
        helper.make_node("MatMul", ["h2", "h2t"], ["scores"], name="/decoder/attn/MatMul"),
        helper.make_node("Transpose", ["h2"], ["h2t"], name="/decoder/attn/Transpose"),
        helper.make_node("MatMul", ["h2", "w3"], ["y"], name="/head/MatMul"),
        helper.make_node("Gather", ["w3", "idx"], ["row"], name="/embed/Gather"),
    ]
    nodes[3], nodes[4] = nodes[4], nodes[3]  # topological order: the Transpose feeds the score MatMul
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", N]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["B", "B"]),
         helper.make_tensor_value_info("row", TensorProto.FLOAT, [1, N])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _ops(model: onnx.ModelProto):
    return [(n.op_type, n.domain) for n in model.graph.node]


class QuantizeWeightTest(unittest.TestCase):
    def test_per_channel_round_trip(self):
        w = build_toy_graph()
        w1 = numpy_helper.to_array(next(i for i in w.graph.initializer if i.name == "w1"))
        q, scale = quantize_weight(w1)
        self.assertEqual(q.dtype, np.int8)
        self.assertEqual(scale.shape, (N,))
        self.assertEqual(int(np.abs(q).max()), 127)
        err = np.abs(q.astype(np.float32) * scale - w1)
        self.assertTrue(np.all(err <= scale / 2 + 1e-7), "each weight within half a step of its channel")
        quiet = [c for c in range(N) if c != 3]
        self.assertLess(scale[quiet].max() * 10, scale[3], "the loud channel does not coarsen the others")

    def test_reduce_range_keeps_seven_bits(self):
        q, scale = quantize_weight(np.linspace(-2, 2, 64, dtype=np.float32).reshape(16, 4), qmax=63)
        self.assertEqual(int(np.abs(q).max()), 63)

    def test_zero_column_gets_a_finite_scale(self):
        q, scale = quantize_weight(np.zeros((4, 2), np.float32))
        self.assertTrue(np.all(np.isfinite(scale)))
        self.assertTrue(np.all(q == 0))


class QuantizeGraphTest(unittest.TestCase):
    def test_contrib_rewrites_only_weight_matmuls_in_scope(self):
        model = build_toy_graph()
        self.assertEqual(quantize_model(model, "contrib"), 2)
        ops = _ops(model)
        self.assertEqual(ops.count(("DynamicQuantizeMatMul", MS_DOMAIN)), 2)
        self.assertEqual(ops.count(("MatMul", "")), 2, "score matmul and the out-of-scope head stay fp32")
        self.assertNotIn(("Gemm", ""), ops)
        self.assertNotIn(("Add", ""), ops, "the Linear's bias Add is folded into the int8 node")
        enc = next(n for n in model.graph.node if n.name == "/encoder/fc/MatMul_int8")
        self.assertEqual((enc.input[4], enc.output[0]), ("b1", "h1"))
        self.assertIn(MS_DOMAIN, [o.domain for o in model.opset_import])
        gemm = next(n for n in model.graph.node if n.name == "/decoder/proj/Gemm_int8")
        self.assertEqual(list(gemm.input), ["h1", gemm.input[1], gemm.input[2], "", "b2"])
        inits = {i.name: i for i in model.graph.initializer}
        wq = numpy_helper.to_array(inits[gemm.input[1]])
        self.assertEqual(wq.shape, (N, N))
        w2 = numpy_helper.to_array(next(i for i in build_toy_graph().graph.initializer if i.name == "w2"))
        np.testing.assert_allclose(wq * numpy_helper.to_array(inits[gemm.input[2]]), w2.T, atol=0.01)

    def test_unused_fp32_weights_dropped_shared_kept(self):
        model = build_toy_graph()
        quantize_model(model, "contrib")
        names = {i.name for i in model.graph.initializer}
        self.assertNotIn("w1", names)
        self.assertNotIn("w2", names)
        self.assertIn("w3", names, "still read by the head MatMul and the Gather")
        types = {i.name: i.data_type for i in model.graph.initializer}
        self.assertEqual(sum(t == TensorProto.INT8 for t in types.values()), 2)

    def test_onnx_ops_variant_is_standard_onnx(self):
        model = build_toy_graph()
        self.assertEqual(quantize_model(model, "onnx"), 2)
        ops = {op for op, _ in _ops(model)}
        self.assertTrue({"DynamicQuantizeLinear", "MatMulInteger", "Cast", "Add"} <= ops)
        self.assertNotIn(MS_DOMAIN, [n.domain for n in model.graph.node])
        onnx.checker.check_model(model, full_check=True)

    def test_scopes_limit_the_rewrite(self):
        model = build_toy_graph()
        self.assertEqual(quantize_model(model, "contrib", scopes=("/decoder/",)), 1)
        self.assertIn("w1", {i.name for i in model.graph.initializer})

    def test_position_bias_linears_stay_fp32(self):
        model = build_toy_graph()
        gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
        gemm.name = "/decoder/cross_pos_q_linear/Gemm"  # onnxruntime folds its image rows into a constant
        self.assertEqual(quantize_model(model, "contrib"), 1)
        self.assertIn("/decoder/cross_pos_q_linear/Gemm", [n.name for n in model.graph.node])
        self.assertIn("w2", {i.name for i in model.graph.initializer})


if __name__ == "__main__":
    unittest.main()
