"""The networks of genblocks' step benchmarks, written in PyTorch (plain torch, no other package).

Each builder mirrors the genblocks/tfjs network of the same name layer for layer, so that the
trainable parameter counts are equal (bench/pytorch/steps.py prints both sides' counts):

- mlp_gan:   bench/mlp-gan-step.bench.ts (G 100-256-512-1024-784 tanh, D 784-1024-512-256-1,
             LeakyReLU 0.2).
- dcgan:     bench/dcgan-step.bench.ts (the TF DCGAN tutorial networks; Keras' LeakyReLU default
             slope 0.3, batch norm epsilon 1e-3, dropout 0.3 in the discriminator).
- Gpt:       nets.gpt (pre-LN blocks, fused QKV, GELU MLP 4x in its tanh form as genblocks'
             `gelu`, tied embeddings, biases by default, normal(0.02) initialisation with the
             residual projections at 0.02 / sqrt(2 * layers)).
- Unet:      nets.unet (GroupNorm + SiLU residual blocks with a time-embedding shift, attention
             at the chosen resolutions and in the middle, strided-conv downsampling, nearest
             upsampling + conv, concatenated skips).
- pixel_cnn: nets.pixelCnn (masked 7x7 type-A conv, residual blocks of ReLU, masked 3x3 'B' conv,
             ReLU, 1x1 conv; a 1x1 head).

Layout is PyTorch's own (NCHW); tfjs' 'same' padding pads stride-2 convolutions of even inputs
asymmetrically (0 before, 1 after) where PyTorch's padding=1 pads both sides: the output shapes
and FLOPs are the same.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def trainable_parameters(*modules):
    """Number of trainable parameters (tfjs' trainableWeights; batch-norm statistics are buffers)."""
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


# --- GANs -------------------------------------------------------------------------------------


def mlp(units, output):
    layers = []
    for i in range(1, len(units)):
        layers.append(nn.Linear(units[i - 1], units[i]))
        if i < len(units) - 1:
            layers.append(nn.LeakyReLU(0.2))
    if output == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def mlp_gan():
    """(generator, discriminator, latent, image shape) of bench/mlp-gan-step.bench.ts."""
    return mlp([100, 256, 512, 1024, 784], "tanh"), mlp([784, 1024, 512, 256, 1], "linear"), 100, (784,)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


def dcgan():
    """(generator, discriminator, latent, image shape) of bench/dcgan-step.bench.ts (NCHW)."""
    # Keras defaults: LeakyReLU alpha 0.3; BatchNormalization momentum 0.99 (PyTorch's 0.01), epsilon 1e-3.
    bn1 = lambda n: nn.BatchNorm1d(n, eps=1e-3, momentum=0.01)  # noqa: E731
    bn2 = lambda n: nn.BatchNorm2d(n, eps=1e-3, momentum=0.01)  # noqa: E731
    generator = nn.Sequential(
        nn.Linear(100, 7 * 7 * 256, bias=False),
        bn1(7 * 7 * 256),
        nn.LeakyReLU(0.3),
        Reshape(256, 7, 7),
        nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False),
        bn2(128),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        bn2(64),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(7 * 7 * 128, 1),
    )
    return generator, discriminator, 100, (1, 28, 28)


# --- GPT (nets.gpt) ---------------------------------------------------------------------------


def gelu(x):
    """genblocks' GELU (tanh form): x * sigmoid(2 * sqrt(2 / pi) * (x + 0.044715 x^3))."""
    return F.gelu(x, approximate="tanh")


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, block_size, bias):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width, bias=bias)
        self.c_proj = nn.Linear(width, width, bias=bias)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (m.view(b, t, self.heads, c // self.heads).transpose(1, 2) for m in (q, k, v))
        # PyTorch 1.13 has no fused scaled_dot_product_attention: nanoGPT's explicit path.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, width, heads, block_size, bias):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-5, elementwise_affine=True)
        self.attn = CausalSelfAttention(width, heads, block_size, bias)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.c_fc = nn.Linear(width, 4 * width, bias=bias)
        self.c_proj = nn.Linear(4 * width, width, bias=bias)
        if not bias:
            # nanoGPT's LayerNorm(bias=False); PyTorch 1.13's LayerNorm has no such option.
            self.ln_1.bias = None
            self.ln_2.bias = None

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(gelu(self.c_fc(self.ln_2(x))))


class Gpt(nn.Module):
    """nets.gpt({ vocabSize, blockSize, layers, heads, width, dropout: 0, bias, tieWeights: true })."""

    def __init__(self, vocab_size, block_size, layers=4, heads=4, width=128, bias=True):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, width)
        self.wpe = nn.Embedding(block_size, width)
        self.blocks = nn.ModuleList([Block(width, heads, block_size, bias) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width, eps=1e-5)
        if not bias:
            self.ln_f.bias = None
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids):
        t = ids.shape[1]
        h = self.wte(ids) + self.wpe(torch.arange(t, device=ids.device))
        for block in self.blocks:
            h = block(h)
        # The output head is the token embedding, transposed (tied weights, no bias).
        return self.ln_f(h) @ self.wte.weight.t()


def adamw_groups(model, weight_decay):
    """genblocks' train.adamW decay groups (nanoGPT's original `configure_optimizers`): matrices
    of the linear maps decay; biases, layer norms and the (tied) embeddings do not."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and not name.startswith(("wte", "wpe")) else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


# --- UNet (nets.unet) -------------------------------------------------------------------------


def sinusoidal_embedding(t, dim, max_period=10000.0):
    """genblocks' layers.sinusoidalEmbedding: [sin(t w_i), cos(t w_i)], w_i = exp(-ln(P) i / (dim/2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float().view(-1, 1) * freqs.view(1, -1)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, time_dim, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(time_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x))) + self.time(temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class Attention(nn.Module):
    """x + SpatialAttention(GroupNorm(x)): fused QKV and output projections with biases."""

    def __init__(self, channels, groups, heads):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)

    def forward(self, x):
        b, c, hh, ww = x.shape
        n, d = hh * ww, c // self.heads
        flat = self.norm(x).flatten(2).transpose(1, 2)  # [b, positions, c]
        q, k, v = self.qkv(flat).view(b, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        att = ((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))).softmax(dim=-1)
        mixed = (att @ v).transpose(1, 2).reshape(b, n, c)
        return x + self.out(mixed).transpose(1, 2).reshape(b, c, hh, ww)


class Unet(nn.Module):
    """nets.unet({ imageShape, baseChannels, channelMultipliers, residualBlocks, attentionAt, groups });
    `tf_padding` pads the downsampling convs as tfjs does (for the equivalence check)."""

    def __init__(self, image_shape=(28, 28, 1), base=32, multipliers=(1, 2, 2), residual_blocks=2, attention_at=None,
                 groups=8, heads=1, dropout=0.0, tf_padding=False):
        super().__init__()
        height, _, channels = image_shape
        levels = len(multipliers)
        resolutions = [height // 2**i for i in range(levels)]
        attention_at = [resolutions[-1]] if attention_at is None else list(attention_at)
        time_dim = 4 * base
        self.embedding_dim = base if base % 2 == 0 else base + 1
        self.time1 = nn.Linear(self.embedding_dim, time_dim)
        self.time2 = nn.Linear(time_dim, time_dim)
        res = lambda cin, cout: ResBlock(cin, cout, time_dim, groups, dropout)  # noqa: E731
        attn = lambda c: Attention(c, groups, heads)  # noqa: E731

        self.conv_in = nn.Conv2d(channels, base, 3, padding=1)
        # The down path, as a list of ('res' | 'attn' | 'down', module) in nets.unet's order.
        self.down = nn.ModuleList()
        self.down_kinds = []
        skips = [base]
        c = base
        for level, m in enumerate(multipliers):
            for _ in range(residual_blocks):
                self.down.append(res(c, base * m))
                self.down_kinds.append("res")
                c = base * m
                if resolutions[level] in attention_at:
                    self.down.append(attn(c))
                    self.down_kinds.append("attn")
                skips.append(c)
            if level < levels - 1:
                # tfjs' 'same' pads a stride-2 conv of an even input by 0 before and 1 after; padding=1
                # (PyTorch's usual choice, the benchmarks') gives the same shapes and FLOPs.
                down = nn.Conv2d(c, c, 3, stride=2, padding=0 if tf_padding else 1)
                self.down.append(nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), down) if tf_padding else down)
                self.down_kinds.append("down")
                skips.append(c)
        self.mid1 = res(c, c)
        self.mid_attn = attn(c) if attention_at else nn.Identity()
        self.mid2 = res(c, c)
        self.up = nn.ModuleList()
        self.up_kinds = []
        for level in range(levels - 1, -1, -1):
            for _ in range(residual_blocks + 1):
                cout = base * multipliers[level]
                self.up.append(res(c + skips.pop(), cout))
                self.up_kinds.append("res")
                c = cout
                if resolutions[level] in attention_at:
                    self.up.append(attn(c))
                    self.up_kinds.append("attn")
            if level > 0:
                self.up.append(nn.Conv2d(c, base * multipliers[level], 3, padding=1))
                self.up_kinds.append("up")
                c = base * multipliers[level]
        self.norm_out = nn.GroupNorm(groups, c, eps=1e-5)
        self.conv_out = nn.Conv2d(c, channels, 3, padding=1)

    def forward(self, x, t):
        temb = F.silu(self.time2(F.silu(self.time1(sinusoidal_embedding(t, self.embedding_dim)))))
        h = self.conv_in(x)
        skips = [h]
        for kind, layer in zip(self.down_kinds, self.down):
            h = layer(h, temb) if kind == "res" else layer(h)
            if kind == "attn":
                skips[-1] = h  # a block with attention leaves its attended output as the skip
            else:
                skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        for kind, layer in zip(self.up_kinds, self.up):
            if kind == "res":
                h = layer(torch.cat([h, skips.pop()], dim=1), temb)
            elif kind == "attn":
                h = layer(h)
            else:
                h = layer(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


# --- PixelCNN (nets.pixelCnn) -----------------------------------------------------------------


class MaskedConv2d(nn.Conv2d):
    """A conv whose kernel sees only earlier pixels (raster order), and for type 'B' the centre."""

    def __init__(self, cin, cout, k, mask_type):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.zeros(k, k)
        centre = k // 2
        mask[:centre, :] = 1
        mask[centre, :centre] = 1
        if mask_type == "B":
            mask[centre, centre] = 1
        self.register_buffer("mask", mask.view(1, 1, k, k), persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCnn(nn.Module):
    """nets.pixelCnn({ imageShape: [28, 28, 1], filters, layers, levels }) without gating."""

    def __init__(self, filters=32, layers=4, levels=2, first_kernel=7):
        super().__init__()
        self.conv_a = MaskedConv2d(1, filters, first_kernel, "A")
        self.blocks = nn.ModuleList(
            [nn.ModuleList([MaskedConv2d(filters, filters, 3, "B"), MaskedConv2d(filters, filters, 1, "B")]) for _ in range(layers)]
        )
        self.head = MaskedConv2d(filters, filters, 1, "B")
        self.logits = MaskedConv2d(filters, levels, 1, "B")

    def forward(self, x):
        h = self.conv_a(x)
        for conv, mix in self.blocks:
            h = h + mix(F.relu(conv(F.relu(h))))
        return self.logits(F.relu(self.head(F.relu(h))))
