"""examples/text-gpt's corpus, split and batches, in plain Python (no torch): the same characters,
the same vocabulary, the same 90/10 split and the same random windows as genblocks'
`data.textVocabulary` and `data.sequenceBatches`, so that a PyTorch run trains and validates on
exactly the batches the example uses.

    python3 bench/pytorch/corpus.py stats [--text FILE]          # corpus size, vocabulary, split, ids hash
    python3 bench/pytorch/corpus.py starts SEED K BATCH RANGE    # sequenceBatches' window starts of batch K
"""

import array
import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOTU = os.path.join(HERE, "..", "..", "node_modules", "@stdlib", "datasets-sotu", "data")


def load_sotu(directory=SOTU):
    """examples/text-gpt's loadSotu: the `.txt` addresses in file-name (chronological) order,
    joined by a blank line, read as UTF-8 (invalid bytes replaced, as Node's readFileSync does)."""
    if not os.path.isdir(directory):
        raise SystemExit(f"corpus package missing ({directory}): run `npm install` in the repository, or pass --text FILE")
    files = sorted(f for f in os.listdir(directory) if f.endswith(".txt"))
    parts = []
    for name in files:
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace", newline="") as f:
            parts.append(f.read())
    return "\n\n".join(parts)


def load_text(path=None, limit_chars=None):
    if path is None:
        text = load_sotu()
    else:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            text = f.read()
    return text if limit_chars is None else text[:limit_chars]


def vocabulary(text):
    """data.textVocabulary: the distinct characters (code points) sorted by code point."""
    return sorted(set(text))


def encode_split(text):
    """(ids, vocabulary, split): ids of every character, and the first index of the validation
    split (the last 10%: Math.floor(0.9 * length), as examples/text-gpt)."""
    chars = vocabulary(text)
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    return ids, chars, math.floor(len(ids) * 0.9)


def mulberry32(seed):
    """genblocks' mulberry32 (src/random.ts): uniform floats in [0, 1), 32-bit integer arithmetic."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def draw():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return draw


def starts(seed, k, batch, span):
    """data.sequenceBatches(...).starts(k): batch K's window starts in [0, span), span = len - blockSize."""
    draw = mulberry32((seed ^ ((k + 1) * 0x9E3779B9)) & 0xFFFFFFFF)
    return [math.floor(draw() * span) for _ in range(batch)]


def ids_hash(ids):
    """SHA-256 of the ids as little-endian int32 (the bytes of the example's Int32Array)."""
    packed = array.array("i", ids)
    if sys.byteorder != "little":
        packed.byteswap()
    return hashlib.sha256(packed.tobytes()).hexdigest()


def main(argv):
    if argv[:1] == ["starts"] and len(argv) == 5:
        print(json.dumps(starts(*[int(a) for a in argv[1:]])))
    elif argv[:1] == ["stats"]:
        path = argv[argv.index("--text") + 1] if "--text" in argv else None
        ids, chars, split = encode_split(load_text(path))
        print(json.dumps({"characters": len(ids), "distinct": len(chars), "train": split, "validation": len(ids) - split,
                          "idsSha256": ids_hash(ids)}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
