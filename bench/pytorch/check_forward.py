"""Checks that a PyTorch net of bench/pytorch/nets.py computes the same function as genblocks' net:
reads genblocks' weights, an input and genblocks' output as JSON on stdin, loads the weights into
the PyTorch net (in order; dense kernels [in, out] transposed to [out, in], conv kernels
[k, k, in, out] to [out, in, k, k]), runs it and prints the largest absolute difference.

    {"net": "gpt" | "pixelcnn" | "unet", "config": {...}, "weights": [{"shape": [...], "values": [...]}, ...],
     "input": {"shape": [...], "values": [...]}, "output": {"shape": [...], "values": [...]}, "t": (unet) {...}}

For "unet" the weights come grouped by layer class (Dense, Conv2D, GroupNormalization, then
SpatialAttention: qkv kernel, qkv bias, out kernel, out bias), each class in creation order.

Used by test/bench/pytorch.test.ts (tfjs layouts: ids [B, T]; images and logits NHWC).
"""

import json
import os
import sys

sys.dont_write_bytecode = True


def unet_parameters(model):
    """The UNet's parameters in the order of the "weights" list for "unet": genblocks' layers
    grouped by class (Dense, Conv2D, GroupNormalization, SpatialAttention), each class in the
    order nets.unet creates its layers, which is the order these modules are registered in."""
    import torch.nn as nn

    import nets

    attentions = [m for m in model.modules() if isinstance(m, nets.Attention)]
    inside = {id(m.qkv) for m in attentions} | {id(m.out) for m in attentions}
    by_class = {
        "Dense": [m for m in model.modules() if isinstance(m, nn.Linear) and id(m) not in inside],
        "Conv2D": [m for m in model.modules() if isinstance(m, nn.Conv2d)],
        "GroupNormalization": [m for m in model.modules() if isinstance(m, nn.GroupNorm)],
        "SpatialAttention": attentions,
    }
    order = []
    for cls in ("Dense", "Conv2D", "GroupNormalization", "SpatialAttention"):
        for m in by_class[cls]:
            if cls == "SpatialAttention":
                order += [("qkv.weight", m.qkv.weight), ("qkv.bias", m.qkv.bias), ("out.weight", m.out.weight),
                          ("out.bias", m.out.bias)]
            else:
                order += [(cls, m.weight), (cls, m.bias)]
    return order


def main():
    import torch

    import nets

    spec = json.load(sys.stdin)
    config = spec["config"]
    if spec["net"] == "gpt":
        model = nets.Gpt(config["vocabSize"], config["blockSize"], config["layers"], config["heads"], config["width"])
    elif spec["net"] == "pixelcnn":
        model = nets.PixelCnn(config["filters"], config["layers"], config["levels"])
    elif spec["net"] == "unet":
        model = nets.Unet(image_shape=tuple(config["imageShape"]), base=config["baseChannels"],
                          multipliers=tuple(config["channelMultipliers"]), residual_blocks=config["residualBlocks"],
                          attention_at=config.get("attentionAt"), groups=config["groups"],
                          tf_padding=True)
    else:
        raise SystemExit(f"unknown net {spec['net']}")
    if spec["net"] == "unet":
        parameters = unet_parameters(model)
    else:
        parameters = list(model.named_parameters())
    if len(parameters) != len(spec["weights"]):
        raise SystemExit(f"{len(parameters)} PyTorch parameters, {len(spec['weights'])} genblocks weights")
    with torch.no_grad():
        for (name, p), w in zip(parameters, spec["weights"]):
            value = torch.tensor(w["values"], dtype=torch.float32).view(w["shape"])
            if value.dim() == 2 and not name.startswith(("wte", "wpe")):
                value = value.t()  # dense kernel [in, out] -> Linear weight [out, in]
            elif value.dim() == 4:
                value = value.permute(3, 2, 0, 1)  # [k, k, in, out] -> [out, in, k, k]
            if tuple(p.shape) != tuple(value.shape):
                raise SystemExit(f"shape mismatch: PyTorch {tuple(p.shape)}, genblocks {w['shape']}")
            p.copy_(value)
        model.eval()
        x = torch.tensor(spec["input"]["values"]).view(spec["input"]["shape"])
        if spec["net"] == "gpt":
            out = model(x.long())
        elif spec["net"] == "unet":
            t = torch.tensor(spec["t"]["values"]).view(-1)
            out = model(x.float().permute(0, 3, 1, 2), t).permute(0, 2, 3, 1)
        else:
            out = model(x.float().permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    expected = torch.tensor(spec["output"]["values"], dtype=torch.float32).view(spec["output"]["shape"])
    print(json.dumps({"maxAbsDiff": (out - expected).abs().max().item(), "maxAbs": expected.abs().max().item()}))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
