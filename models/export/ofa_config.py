"""Architecture settings for the OFA visual-entailment graph: presets and HF config.json reading.

Field names follow the HF/ModelScope `OFAConfig` (docs/ofa-ve.md §6, §9) so a checkpoint's
config.json maps onto them one to one. `resnet_width` and `image_size` are ours: the first lets the
tiny preset shrink the ResNet (OFA fixes it at 64), the second fixes the traced image size.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List

# ResNet depth per `resnet_type` (ModelScope modeling_ofa.py builds only stages 1-3).
RESNET_LAYERS = {
    "resnet50": [3, 4, 6],
    "resnet101": [3, 4, 23],
    "resnet152": [3, 8, 36],
}


@dataclass
class OfaConfig:
    """One OFA encoder-decoder; the defaults are OFA-Large as used for SNLI-VE (docs/ofa-ve.md §6)."""

    vocab_size: int = 59457
    d_model: int = 1024
    encoder_layers: int = 12
    decoder_layers: int = 12
    encoder_attention_heads: int = 16
    decoder_attention_heads: int = 16
    encoder_ffn_dim: int = 4096
    decoder_ffn_dim: int = 4096
    max_position_embeddings: int = 1024
    token_bucket_size: int = 256
    image_bucket_size: int = 42
    attn_scale_factor: float = 2.0
    code_image_size: int = 128
    resnet_layers: List[int] = field(default_factory=lambda: [3, 8, 36])
    resnet_width: int = 64
    image_size: int = 480
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    normformer: bool = True
    encoder_normalize_before: bool = True
    decoder_normalize_before: bool = True
    layernorm_embedding: bool = True
    patch_layernorm_embedding: bool = True
    code_layernorm_embedding: bool = True
    add_type_embedding: bool = True
    scale_embedding: bool = False
    share_attn_bias: bool = False
    entangle_position_embedding: bool = False
    disable_entangle: bool = False
    interpolate_position: bool = False
    orig_patch_image_size: int = 224

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def large_config() -> OfaConfig:
    """OFA-Large shapes (HF `OFA-Sys/ofa-large` config.json + train_snli_ve.sh flags)."""
    return OfaConfig()


def tiny_config(vocab_size: int) -> OfaConfig:
    """Same graph, toy sizes: 96 px image -> 6x6 grid, d 32, 2+2 layers, 4 heads.

    token_bucket_size 16 makes texts longer than 8 tokens use the logarithmic relative-position
    buckets, and image_bucket_size 6 equals the grid side, so every code path of the large model
    is exercised by the committed tiny model.
    """
    return OfaConfig(
        vocab_size=vocab_size, d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
        decoder_ffn_dim=64, token_bucket_size=16, image_bucket_size=6, code_image_size=32,
        resnet_layers=[1, 1, 1], resnet_width=8, image_size=96)


def nano480_config(vocab_size: int) -> OfaConfig:
    """The tiny model's sizes at OFA-large's 480 px input (30x30 grid, image_bucket_size 30): a model that obeys
    the contract at the production image size but costs next to nothing to run, for measuring the CPU side
    (decode, resize, bus) of the service on its own (bench: CPU-side capacity)."""
    return dataclasses.replace(
        tiny_config(vocab_size), d_model=8, encoder_layers=1, decoder_layers=1, encoder_attention_heads=1,
        decoder_attention_heads=1, encoder_ffn_dim=8, decoder_ffn_dim=8, resnet_width=1,
        image_size=480, image_bucket_size=30)


# config.json keys whose only accepted value is the one our graph implements.
_REQUIRED_VALUES = {
    "use_ofasys": False, "use_gamma_feature": False, "use_image_feature": True,
    "share_decoder_input_output_embed": True, "activation_function": "gelu",
}


def from_hf_config(cfg: Dict[str, Any], image_size: int) -> OfaConfig:
    """Map a ModelScope/HF OFA config.json onto OfaConfig; refuse settings the graph does not implement."""
    problems = [f"{k}={cfg[k]!r} (only {v!r} is supported)"
                for k, v in _REQUIRED_VALUES.items() if k in cfg and cfg[k] != v]
    resnet_type = cfg.get("resnet_type", "resnet152")
    if resnet_type not in RESNET_LAYERS:
        problems.append(f"resnet_type={resnet_type!r} (supported: {sorted(RESNET_LAYERS)})")
    if problems:
        raise ValueError("unsupported OFA config.json: " + "; ".join(problems))
    out = OfaConfig(resnet_layers=list(RESNET_LAYERS[resnet_type]), image_size=image_size)
    for f in dataclasses.fields(OfaConfig):
        if f.name in cfg and f.name not in ("resnet_layers", "resnet_width", "image_size"):
            setattr(out, f.name, type(getattr(out, f.name))(cfg[f.name]))
    return out
