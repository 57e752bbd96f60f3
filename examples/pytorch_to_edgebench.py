"""Convert a small PyTorch CNN to a float .tflite with litert-torch, ready for edgebench.

Needs the `torch` extra (`pip install -e '.[torch]'`, litert-torch 0.10.0 with PyTorch, JAX and
transformers: about 2.1 GB with the CPU-only torch wheel) or any environment that has litert-torch;
edgebench itself is not imported, so the conversion may run in a separate venv and the .tflite be
carried over. See "Models from PyTorch" in README.md.

    python examples/pytorch_to_edgebench.py tiny_cnn.tflite [--seed 0] [--channels-last]
    edgebench inspect tiny_cnn.tflite
    edgebench quantize tiny_cnn.tflite --recipe int8_dynamic -o variants/
    edgebench push-and-run tiny_cnn.tflite variants/*.tflite --target local --protocol smoke
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

IMAGE_SHAPE = (1, 1, 28, 28)  # batch, channels, height, width: PyTorch's NCHW (an MNIST-sized image)
CLASSES = 10


class TinyCNN(nn.Module):
    """Two convolutions and a classifier: large enough (about 20k weights) for every recipe to act on."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
        )
        self.classifier = nn.Linear(32 * 7 * 7, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))  # logits


def convert_tiny_cnn(output: Path, seed: int = 0, channels_last: bool = False) -> float:
    """Write TinyCNN (random weights from `seed`) as a float .tflite; return the largest |difference|
    between PyTorch and the converted model on one seeded input (litert-torch runs it in LiteRT)."""
    import litert_torch  # the `torch` extra; imported here so a missing extra fails with its name

    torch.manual_seed(seed)
    model = TinyCNN().eval()
    sample = (torch.rand(IMAGE_SHAPE) * 2 - 1,)
    if channels_last:  # phones' camera buffers are NHWC: let the .tflite take [1, 28, 28, 1]
        model = litert_torch.to_channel_last_io(model, args=[0]).eval()
        sample = (sample[0].permute(0, 2, 3, 1).contiguous(),)
    edge_model = litert_torch.convert(model, sample)
    output.parent.mkdir(parents=True, exist_ok=True)
    edge_model.export(str(output))
    with torch.no_grad():
        expected = model(*sample).numpy()
    converted = np.asarray(edge_model(*(t.numpy() for t in sample)))
    return float(np.max(np.abs(converted - expected)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the .tflite to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and the check input")
    parser.add_argument("--channels-last", action="store_true", help="NHWC input [1, 28, 28, 1] instead of NCHW")
    args = parser.parse_args()
    max_diff = convert_tiny_cnn(args.output, args.seed, args.channels_last)
    print(f"wrote {args.output} ({args.output.stat().st_size:,} B); "
          f"max |PyTorch - LiteRT| on a seeded input: {max_diff:.3g}")


if __name__ == "__main__":
    main()
