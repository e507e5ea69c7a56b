"""manifest.json: the contract between the exporter and the TypeScript runtime (models/README.md).

Written last and atomically (temp file + rename), so its presence means the directory is complete.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Dict, List, Optional, Sequence

from text_ref import HYPOTHESIS_ONLY, WITH_PREMISE

MANIFEST_VERSION = 1
# The file-name infix of each execution provider's graph form (export.py --providers): the cpu form is the reference
# naming, so directories exported before the webgpu form still load on the CPU.
PROVIDER_INFIX = {"cpu": "", "webgpu": ".webgpu"}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_manifest(*, name: str, version_prefix: str, meaningful: bool, source: str, onnx_dir: str,
                   fp16: bool, int8: bool, image_size: int, mean: List[float], std: List[float],
                   max_source_tokens: int, prompt_type: str, prompt: Optional[Dict[str, str]],
                   answers: List[Dict[str, object]], special: Dict[str, int], split: bool = False,
                   providers: Sequence[str] = ("cpu",)) -> dict:
    from ofa_split import EMBEDS_NAME, FUSION_FILE, IMAGE_FILE, IMAGE_ROWS_NAME
    named = lambda f, p: f.replace(".onnx", f"{PROVIDER_INFIX[p]}.onnx")  # noqa: E731
    # The version hashes the first form's graphs: the others compute the same model (the parity suites check it).
    graphs = [named(g, providers[0]) for g in ([IMAGE_FILE, FUSION_FILE] if split else ["model.onnx"])]
    digest = _digest([os.path.join(onnx_dir, g) for g in graphs])
    templates = prompt or {"hypothesisOnly": HYPOTHESIS_ONLY, "withPremise": WITH_PREMISE}
    fp16_of = lambda f: f.replace(".onnx", ".fp16.onnx") if fp16 else None  # noqa: E731

    def form(provider: str) -> dict:
        """A split directory describes its two graphs under `split` and has no one-graph `onnx` entry."""
        image, fusion, one = named(IMAGE_FILE, provider), named(FUSION_FILE, provider), named("model.onnx", provider)
        if split:
            by_image = {"imageRows": IMAGE_ROWS_NAME} if provider == "webgpu" else {}
            return {"split": {"imageEncoder": {"fp32": image, "fp16": fp16_of(image)},
                              "textFusion": {"fp32": fusion, "fp16": fp16_of(fusion)},
                              "imageEmbeds": EMBEDS_NAME, **by_image}}
        return {"onnx": {"fp32": one, "fp16": fp16_of(one),
                         **({"int8": "model.int8.onnx"} if int8 and provider == "cpu" else {})}}

    # The cpu form at the top level (as before); the webgpu form under `webgpu`.
    top = form("cpu") if "cpu" in providers else {}
    extra = {"webgpu": form("webgpu")} if "webgpu" in providers else {}
    return {
        "manifestVersion": MANIFEST_VERSION,
        "name": name,
        "version": f"{version_prefix}-{digest}",
        "meaningful": meaningful,
        "source": source,
        **top,
        **extra,
        "inputs": {"inputIds": "input_ids", "patchImages": "patch_images",
                   "decoderInputIds": "decoder_input_ids"},
        "output": "answer_logits",
        "image": {"size": image_size, "resize": "bicubic", "mean": mean, "std": std},
        "text": {"tokenizer": "tokenizer.json", "maxSourceTokens": max_source_tokens,
                 "bosId": special["bos"], "padId": special["pad"], "eosId": special["eos"]},
        "prompt": {"type": prompt_type, **templates},
        "answers": answers,
    }


def _digest(paths: List[str]) -> str:
    """The version suffix: the ONNX file's sha256 (one graph), or the sha256 of both graphs' hashes."""
    if len(paths) == 1:
        return sha256_file(paths[0])[:12]
    return hashlib.sha256("".join(sha256_file(p) for p in paths).encode()).hexdigest()[:12]


def write_manifest(out_dir: str, manifest: dict) -> str:
    path = os.path.join(out_dir, "manifest.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path
