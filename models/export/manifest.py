"""manifest.json: the contract between the exporter and the TypeScript runtime (models/README.md).

Written last and atomically (temp file + rename), so its presence means the directory is complete.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Dict, List, Optional

from text_ref import HYPOTHESIS_ONLY, WITH_PREMISE

MANIFEST_VERSION = 1


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_manifest(*, name: str, version_prefix: str, meaningful: bool, source: str, onnx_dir: str,
                   fp16: bool, int8: bool, image_size: int, mean: List[float], std: List[float],
                   max_source_tokens: int, prompt_type: str, prompt: Optional[Dict[str, str]],
                   answers: List[Dict[str, object]], special: Dict[str, int]) -> dict:
    digest = sha256_file(os.path.join(onnx_dir, "model.onnx"))[:12]
    templates = prompt or {"hypothesisOnly": HYPOTHESIS_ONLY, "withPremise": WITH_PREMISE}
    return {
        "manifestVersion": MANIFEST_VERSION,
        "name": name,
        "version": f"{version_prefix}-{digest}",
        "meaningful": meaningful,
        "source": source,
        "onnx": {"fp32": "model.onnx", "fp16": "model.fp16.onnx" if fp16 else None,
                 **({"int8": "model.int8.onnx"} if int8 else {})},
        "inputs": {"inputIds": "input_ids", "patchImages": "patch_images",
                   "decoderInputIds": "decoder_input_ids"},
        "output": "answer_logits",
        "image": {"size": image_size, "resize": "bicubic", "mean": mean, "std": std},
        "text": {"tokenizer": "tokenizer.json", "maxSourceTokens": max_source_tokens,
                 "bosId": special["bos"], "padId": special["pad"], "eosId": special["eos"]},
        "prompt": {"type": prompt_type, **templates},
        "answers": answers,
    }


def write_manifest(out_dir: str, manifest: dict) -> str:
    path = os.path.join(out_dir, "manifest.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path
