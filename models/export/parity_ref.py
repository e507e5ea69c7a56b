#!/usr/bin/python3
"""Reference numbers for the TypeScript parity tests (test/parity/*.test.ts).

Reads one JSON request on stdin, writes one JSON answer on stdout. Float tensors travel as base64
little-endian float32. Commands:
  logits   torch answer_logits of the seed-built random model for given (or default) inputs
  cases    the default inputs of a model directory, without torch logits (for ONNX-only comparisons)
  text     reference pre_caption + prompt + BPE ids for a list of {hypothesis, premise?}
  images   write synthetic PNG/JPEG test images, return the PIL-bicubic reference tensors
  decode   reference softmax/argmax verdicts for given logits rows
  large    parameter count and state-dict names/shapes of the large config vs OFA-large's
  regen    re-export the tiny model from its seed into a directory
  quanttoy write quantize.py's toy graph, fp32 and int8, and quantize_resnet.py's toy ResNet, into a directory
  fakereal export stand-in ModelScope/fairseq checkpoints through --config real
"""
from __future__ import annotations

import base64
import json
import math
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr, dtype="<f4").tobytes()).decode()


def unb64(s: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").reshape(shape).copy()


def _load_manifest(model_dir: str) -> dict:
    with open(os.path.join(model_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def _bpe(model_dir: str):
    from tokenizer_files import load_tokenizer_json
    return load_tokenizer_json(os.path.join(model_dir, "tokenizer.json")).encoder()


def cmd_text(req: dict) -> dict:
    from text_ref import build_prompt, decoder_prompt, encode_prompt
    man = _load_manifest(req["dir"])
    bpe, t = _bpe(req["dir"]), man["text"]
    out = []
    for item in req["items"]:
        prompt = build_prompt(man["prompt"], item["hypothesis"], item.get("premise"), t["maxSourceTokens"])
        ids = encode_prompt(bpe, prompt, t["maxSourceTokens"], t["bosId"], t["eosId"])
        out.append({"prompt": prompt, "inputIds": ids,
                    "decoderInputIds": decoder_prompt(ids, man["prompt"]["type"], t["bosId"])})
    return {"items": out}


def default_cases(model_dir: str) -> list:
    """Fixed inputs: padded batches in both decoder-prompt forms and one long single row."""
    from onnx_export import pad_batch
    man = _load_manifest(model_dir)
    size, pad = man["image"]["size"], man["text"]["padId"]
    texts = cmd_text({"dir": model_dir, "items": [
        {"hypothesis": "Two dogs are playing with a red ball."},
        {"hypothesis": "a man is sleeping", "premise": "A man rides a bicycle down the street."},
        {"hypothesis": "the kids " + "play soccer on the grass and " * 12 + "laugh."}]})["items"]
    rng = np.random.RandomState(7)
    cases = []
    for rows, prev in (([0, 1], False), ([0, 1], True), ([2], True), ([1, 2, 0], False)):
        src = [texts[i]["inputIds"] for i in rows]
        dec = [s[:-1] if prev else [man["text"]["bosId"]] for s in src]
        img = rng.uniform(-1, 1, size=(len(rows), 3, size, size)).astype(np.float32)
        cases.append({"inputIds": pad_batch(src, pad).tolist(), "decoderInputIds": pad_batch(dec, pad).tolist(),
                      "patchImages": b64(img), "imageShape": list(img.shape)})
    return cases


def _random_model(config: str, seed: int):
    import argparse
    import torch
    from export_sources import random_source
    torch.set_num_threads(2)
    args = argparse.Namespace(config=config, seed=seed, prompt_type=None, max_src_length=None)
    return random_source(args).model


def cmd_logits(req: dict) -> dict:
    import torch
    model = _random_model(req.get("config", "tiny"), int(req.get("seed", 0)))
    cases = req.get("cases") or default_cases(req["dir"])
    for case in cases:
        img = torch.from_numpy(unb64(case["patchImages"], case["imageShape"]))
        ids = torch.tensor(case["inputIds"], dtype=torch.long)
        dec = torch.tensor(case["decoderInputIds"], dtype=torch.long)
        with torch.no_grad():
            case["logits"] = model(ids, img, dec).tolist()
    return {"cases": cases}


def cmd_cases(req: dict) -> dict:
    return {"cases": default_cases(req["dir"])}


def cmd_images(req: dict) -> dict:
    from image_ref import preprocess_bytes, synthetic_image
    os.makedirs(req["outDir"], exist_ok=True)
    out = []
    for spec in req["specs"]:
        fmt = spec.get("format", "png")
        path = os.path.join(req["outDir"], f"img_{spec['w']}x{spec['h']}_{spec['seed']}.{fmt}")
        synthetic_image(spec["w"], spec["h"], spec["seed"]).save(path, "JPEG" if fmt == "jpg" else "PNG")
        with open(path, "rb") as f:
            ref = preprocess_bytes(f.read(), req["size"], req.get("mean", [0.5] * 3), req.get("std", [0.5] * 3))
        out.append({"path": path, "tensor": b64(ref), "shape": list(ref.shape)})
    return {"images": out}


def cmd_decode(req: dict) -> dict:
    """softmax over the answer logits; label = argmax (first on ties), score = its probability."""
    out = []
    for row in req["logits"]:
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        probs = [e / sum(exps) for e in exps]
        best = max(range(len(row)), key=lambda i: (probs[i], -i))
        out.append({"label": req["answers"][best]["label"], "score": probs[best], "probs": probs})
    return {"verdicts": out}


def cmd_large(_req: dict) -> dict:
    import torch
    from ofa_config import large_config
    from ofa_model import OfaModel
    t0 = time.time()
    torch.set_num_threads(2)
    model = OfaModel(large_config())
    params = sum(p.numel() for p in model.parameters())
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    with open(os.path.join(HERE, "fixtures", "ofa_large_state_dict.json"), encoding="utf-8") as f:
        ref = json.load(f)
    missing = sorted(set(ref["shapes"]) - set(shapes))
    extra = sorted(set(shapes) - set(ref["shapes"]))
    wrong = sorted(k for k in shapes if k in ref["shapes"] and shapes[k] != ref["shapes"][k])
    return {"params": params, "refParams": ref["params"], "keys": len(shapes), "refKeys": len(ref["shapes"]),
            "missing": missing, "unexpected": extra, "wrongShape": wrong, "seconds": time.time() - t0}


def cmd_regen(req: dict) -> dict:
    from export import parse_args, run
    run(parse_args(["--config", req.get("config", "tiny"), "--seed", str(req.get("seed", 0)),
                    "--out", req["out"], "--int8"]))
    return {"dir": req["out"]}


def cmd_quanttoy(req: dict) -> dict:
    """The toy graph of test_quantize.py, fp32 and quantised both ways, written to req["out"]."""
    import onnx
    from quantize import quantize_model
    from test_quantize import build_toy_graph
    os.makedirs(req["out"], exist_ok=True)
    paths = {}
    for name, op in (("fp32", None), ("contrib", "contrib"), ("onnx", "onnx")):
        model = build_toy_graph()
        if op:
            quantize_model(model, op)
        paths[name] = os.path.join(req["out"], f"toy-{name}.onnx")
        onnx.save(model, paths[name])
    from quantize_resnet import static_resnet, synthetic_images
    from test_quantize_resnet import build_toy_resnet
    for name, static in (("resnet-fp32", False), ("resnet-static", True)):
        model = build_toy_resnet(size=32)
        if static:
            static_resnet(model, synthetic_images(32, [0.5] * 3, [0.5] * 3))
        paths[name] = os.path.join(req["out"], f"toy-{name}.onnx")
        onnx.save(model, paths[name])
    return paths


def cmd_fakereal(req: dict) -> dict:
    """Export stand-in ModelScope and fairseq checkpoints with --config real; torch logits for each."""
    import torch
    from export import parse_args, run
    from fake_checkpoint import write_fairseq_dir, write_modelscope_dir
    from ofa_ve import OfaVisualEntailment
    torch.set_num_threads(2)
    root = req["root"]
    ms_dir, fs_dir = os.path.join(root, "ms-checkpoint"), os.path.join(root, "fairseq-checkpoint")
    model = write_modelscope_dir(ms_dir)
    pt = write_fairseq_dir(ms_dir, fs_dir, model)
    out = {}
    for name, ck in (("modelscope", ms_dir), ("fairseq", pt)):
        dst = os.path.join(root, f"export-{name}")
        run(parse_args(["--config", "real", "--checkpoint", ck, "--out", dst]))
        answers = [a["tokenId"] for a in _load_manifest(dst)["answers"]]
        ve = OfaVisualEntailment(model, answers).eval()
        cases = default_cases(dst)
        for case in cases:
            with torch.no_grad():
                case["logits"] = ve(torch.tensor(case["inputIds"]),
                                    torch.from_numpy(unb64(case["patchImages"], case["imageShape"])),
                                    torch.tensor(case["decoderInputIds"])).tolist()
        out[name] = {"dir": dst, "cases": cases}
    broken = os.path.join(root, "ms-broken")
    os.makedirs(broken, exist_ok=True)
    for f in os.listdir(ms_dir):
        if f != "pytorch_model.bin":
            shutil.copy(os.path.join(ms_dir, f), broken)
    sd = torch.load(os.path.join(ms_dir, "pytorch_model.bin"))
    sd.pop("model.encoder.layers.1.fc2.bias")
    sd["model.encoder.extra_head.weight"] = torch.zeros(2)
    torch.save(sd, os.path.join(broken, "pytorch_model.bin"))
    try:
        run(parse_args(["--config", "real", "--checkpoint", broken, "--out", os.path.join(root, "export-broken")]))
        out["brokenError"] = None
    except ValueError as e:
        out["brokenError"] = str(e)
    return out


COMMANDS = {"text": cmd_text, "logits": cmd_logits, "cases": cmd_cases, "images": cmd_images, "decode": cmd_decode,
            "large": cmd_large, "regen": cmd_regen, "fakereal": cmd_fakereal, "quanttoy": cmd_quanttoy}


def main() -> None:
    try:
        import torch  # noqa: F401  (CI installs python3-torch; say so plainly when it is missing)
    except ImportError as e:
        sys.stderr.write(f"parity_ref: {sys.executable} cannot import torch ({e}); "
                         "install python3-torch python3-onnx libopenblas0-pthread python3-pil\n")
        sys.exit(3)
    req = json.load(sys.stdin)
    json.dump(COMMANDS[req["cmd"]](req), sys.stdout)


if __name__ == "__main__":
    main()
