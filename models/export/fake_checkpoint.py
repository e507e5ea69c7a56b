"""Stand-in official checkpoints for testing the `--config real` path without the real weights.

Writes a ModelScope-style directory (config.json, configuration.json, pytorch_model.bin with a
`model.` prefix, vocab.json, merges.txt, answer2label json) or a fairseq-style .pt (fairseq layer
names, `version` buffers, task args), both holding the same small random OFA with a real OFA
ResNet (width 64) so nothing but the sizes differs from OFA-large.
"""
from __future__ import annotations

import argparse
import json
import os
import re

import torch

from ofa_config import OfaConfig
from ofa_model import OfaModel
from ofa_ve import randomize_
from tokenizer_files import tiny_assets

HF_CONFIG = {"vocab_size": None, "d_model": 32, "encoder_layers": 2, "decoder_layers": 2,
             "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 64,
             "decoder_ffn_dim": 64, "resnet_type": "resnet50", "token_bucket_size": 16,
             "image_bucket_size": 6, "code_image_size": 32, "normformer": True, "model_type": "ofa",
             "use_ofasys": False, "activation_function": "gelu"}
# ModelScope configuration.json `model` section, differing from the code defaults on purpose.
MS_MODEL = {"type": "ofa", "prompt_type": "prev_output", "max_src_length": 80, "patch_image_size": 96,
            "answer2label": "ans2label.json", "gen_type": "traverse"}
ANSWER2LABEL = {"yes": 0, "no": 1, "maybe": 2}  # an order other than OFA's default, to see it carried
TO_FAIRSEQ = [(r"^(encoder\.layers\.\d+)\.self_attn_mid_layer_norm\.", r"\1.attn_ln."),
              (r"^(decoder\.layers\.\d+)\.self_attn_mid_layer_norm\.", r"\1.self_attn_ln."),
              (r"\.cross_attn_mid_layer_norm\.", ".cross_attn_ln."), (r"\.ffn_layer_norm\.", ".ffn_layernorm."),
              (r"\.cross_attn_layer_norm\.", ".encoder_attn_layer_norm."), (r"\.cross_attn\.", ".encoder_attn.")]


def _tokenizer_files(out: str) -> int:
    tok = tiny_assets()
    vocab = {t: i for t, i in tok.vocab.items()}
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in tok.merges))
    return max(vocab.values()) + 1 + 8192 + 1000


def make_model(vocab_size: int, seed: int) -> OfaModel:
    cfg = OfaConfig(**{k: v for k, v in HF_CONFIG.items() if hasattr(OfaConfig, k) and k != "resnet_type"},
                    resnet_layers=[3, 4, 6], resnet_width=64, image_size=96)
    cfg.vocab_size = vocab_size
    model = OfaModel(cfg)
    randomize_(model, seed)
    return model.eval()


def write_modelscope_dir(out: str, seed: int = 5) -> OfaModel:
    os.makedirs(out, exist_ok=True)
    vocab_size = _tokenizer_files(out)
    model = make_model(vocab_size, seed)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({**HF_CONFIG, "vocab_size": vocab_size}, f)
    with open(os.path.join(out, "configuration.json"), "w") as f:
        json.dump({"framework": "pytorch", "task": "visual-entailment", "model": MS_MODEL}, f)
    with open(os.path.join(out, "ans2label.json"), "w") as f:
        json.dump(ANSWER2LABEL, f)
    torch.save({"model." + k: v for k, v in model.state_dict().items()}, os.path.join(out, "pytorch_model.bin"))
    return model


def write_fairseq_dir(ms_dir: str, out: str, model: OfaModel) -> str:
    """An official-looking fairseq .pt of `model` in `out`, with config.json and the vocab files copied
    from `ms_dir` but no configuration.json: settings then come from the checkpoint's task args."""
    os.makedirs(out, exist_ok=True)
    for name in ("config.json", "vocab.json", "merges.txt"):
        with open(os.path.join(ms_dir, name), "rb") as src, open(os.path.join(out, name), "wb") as dst:
            dst.write(src.read())
    sd = {}
    for k, v in model.state_dict().items():
        if k.endswith("_rp_bucket") or k.endswith("image_position_idx"):
            continue  # derived buffers the loader must rebuild
        for pat, rep in TO_FAIRSEQ:
            k = re.sub(pat, rep, k)
        sd[k] = v
    sd["encoder.version"] = sd["decoder.version"] = torch.tensor([3.0])
    path = os.path.join(out, "ofa_fake_snli_ve.pt")
    args = argparse.Namespace(prompt_type="prev_output", max_src_length=80, patch_image_size=96)
    torch.save({"model": sd, "args": args, "extra_state": {}}, path)
    return path
