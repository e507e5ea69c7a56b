#!/usr/bin/python3
"""Export OFA visual entailment to a model directory: model.onnx, tokenizer.json, manifest.json.

  /usr/bin/python3 models/export/export.py --config tiny  --out models/tiny
  /usr/bin/python3 models/export/export.py --config large --out DIR           (random weights)
  /usr/bin/python3 models/export/export.py --config nano480 --out DIR         (tiny sizes at 480 px, benchmarks)
  /usr/bin/python3 models/export/export.py --config real  --checkpoint MS_DIR --out DIR [--fp16] [--int8]
  add --split for the split form: image_encoder.onnx + text_fusion.onnx instead of model.onnx
  --int8 (one-graph form only) also writes model.int8.onnx: dynamic int8 matmuls for CPUs (quantize.py)
  --providers cpu,webgpu (the default) writes a graph form for each execution provider: `cpu` the files above (the
  encoder's attention as onnxruntime MultiHeadAttention nodes), `webgpu` the same model as plain attention ops in
  *.webgpu.onnx files (models/README.md §1.1b); the manifest names both

See models/README.md. manifest.json is written last, so its presence means the directory is complete.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import List

import torch

from export_sources import Source, random_source, real_source
from manifest import PROVIDER_INFIX, build_manifest, write_manifest
from ofa_layers import attention_form
from onnx_export import export_onnx, trace_inputs
from text_ref import build_prompt, decoder_prompt, encode_prompt
from tokenizer_files import write_tokenizer

TRACE_TEXTS = [("two dogs are playing with a red ball in the park.", None),
               ("a man is sleeping.", "a man rides a bicycle.")]


def _trace_rows(src: Source):
    bpe = src.tokenizer.encoder()
    rows, dec = [], []
    for hyp, prem in TRACE_TEXTS:
        text = build_prompt(src.prompt, hyp, prem, src.max_source_tokens)
        ids = encode_prompt(bpe, text, src.max_source_tokens, src.bos, src.eos)
        rows.append(ids)
        dec.append(ids[:-1])  # prev_output-shaped rows: unequal decoder lengths get traced
    if len(set(map(len, rows))) < 2:
        raise AssertionError("trace rows must have unequal lengths")
    return rows, dec


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(2)
    t0 = time.time()
    src = real_source(args) if args.config == "real" else random_source(args)
    os.makedirs(args.out, exist_ok=True)
    stale = os.path.join(args.out, "manifest.json")
    if os.path.exists(stale):
        os.remove(stale)  # the directory is incomplete until the new manifest lands
    log(f"built {args.config} model: {src.params:,} parameters in {time.time() - t0:.1f}s")
    rows, dec = _trace_rows(src)
    inputs = trace_inputs(rows, dec, src.pad, src.cfg.image_size)
    onnx_files = [f for provider in args.providers for f in _export_graphs(src, inputs, args, provider)]
    for f in onnx_files:
        log(f"wrote {f} ({os.path.getsize(os.path.join(args.out, f)) / 1e6:.1f} MB) at {time.time() - t0:.1f}s")
    if args.fp16:
        import fp16
        for f in onnx_files:
            fp16.convert(os.path.join(args.out, f), os.path.join(args.out, f.replace(".onnx", ".fp16.onnx")))
        log(f"wrote the fp16 variants at {time.time() - t0:.1f}s")
    if args.int8:
        import quantize
        if "cpu" not in args.providers:
            raise SystemExit("--int8 quantises the cpu form: keep cpu in --providers")
        count = quantize.convert(os.path.join(args.out, "model.onnx"), os.path.join(args.out, quantize.INT8_FILE))
        log(f"wrote {quantize.INT8_FILE} ({count} matmuls in int8) at {time.time() - t0:.1f}s")
    write_tokenizer(src.tokenizer, args.out, src.max_source_tokens + 2)
    manifest = build_manifest(
        name=src.name, version_prefix=src.version_prefix, meaningful=src.meaningful, source=src.source,
        onnx_dir=args.out, fp16=args.fp16, int8=args.int8 and "cpu" in args.providers, providers=args.providers, image_size=src.cfg.image_size, mean=src.mean, std=src.std,
        max_source_tokens=src.max_source_tokens, prompt_type=src.prompt_type, prompt=src.prompt,
        answers=src.answers, special={"bos": src.bos, "pad": src.pad, "eos": src.eos}, split=args.split)
    write_manifest(args.out, manifest)
    log(f"done: {args.out} ({manifest['version']}) in {time.time() - t0:.1f}s")


def _export_graphs(src: Source, inputs, args: argparse.Namespace, provider: str) -> List[str]:
    """One provider's form: the one-graph model.onnx, or with --split the image-encoder and text+fusion graphs
    (ofa_split.py); the webgpu form's files are named *.webgpu.onnx."""
    infix = PROVIDER_INFIX[provider]
    with attention_form("plain" if provider == "webgpu" else "mha"):
        if args.split:
            from ofa_split import export_split
            paths = export_split(src.model, inputs, args.out, infix=infix, by_image=provider == "webgpu")
            return [os.path.basename(p) for p in paths]
        export_onnx(src.model, inputs, os.path.join(args.out, f"model{infix}.onnx"))
        return [f"model{infix}.onnx"]


def log(msg: str) -> None:
    print(f"[export] {msg}", file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", choices=["tiny", "nano480", "large", "real"], required=True)
    p.add_argument("--checkpoint", help="real: ModelScope/HF model dir, pytorch_model.bin, or fairseq .pt")
    p.add_argument("--vocab-dir", help="dir with vocab.json + merges.txt (default: the checkpoint's dir)")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--fp16", action="store_true", help="also write model.fp16.onnx (for GPU)")
    p.add_argument("--split", action="store_true",
                   help="export the split form (image encoder + text/fusion graphs) instead of one graph")
    p.add_argument("--int8", action="store_true",
                   help="also write model.int8.onnx (dynamic int8 matmuls, for CPUs; models/export/quantize.py)")
    p.add_argument("--providers", default="cpu,webgpu",
                   help="comma-separated execution providers to write a graph form for: cpu, webgpu (default both)")
    p.add_argument("--seed", type=int, default=0, help="random configs: weight seed")
    p.add_argument("--prompt-type", choices=["none", "prev_output"],
                   help="override the decoder prompt type (random configs default to none)")
    p.add_argument("--max-src-length", type=int, help="override max source tokens")
    args = p.parse_args(argv)
    args.providers = [x.strip() for x in args.providers.split(",") if x.strip()]
    unknown = [x for x in args.providers if x not in PROVIDER_INFIX]
    if unknown or not args.providers:
        p.error(f"--providers takes cpu and/or webgpu, not {','.join(unknown) or 'nothing'}")
    if args.int8 and args.split:
        p.error("--int8 quantises the one-graph form; export it without --split")
    return args


def main() -> int:
    from checkpoint import CheckpointMismatch
    try:
        run(parse_args())
    except CheckpointMismatch as e:
        log(f"FAILED: {e}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
