"""Write compiled shard folders in the documented format (docs/shard-format.md) for tests."""

import json
import os
import random
import struct
from typing import Dict, List, Sequence, Tuple

Row = Tuple[List[int], List[int], List[int]]  # tokens, mask, segments


def pack_documents(docs: Sequence[Sequence[int]], seq_len: int, pad_token_id: int = 0,
                   train_first: bool = False) -> List[Row]:
    """Greedy packing: documents (token lists) fill rows of seq_len; every token but a segment's first is a target."""
    rows: List[Row] = []
    cur: Row = ([], [], [])
    for doc in docs:
        doc = list(doc)[:seq_len]
        if len(cur[0]) + len(doc) > seq_len:
            rows.append(cur)
            cur = ([], [], [])
        seg = (max(cur[2]) if cur[2] else 0) + 1
        cur[0].extend(doc)
        cur[1].extend([1 if (i > 0 or train_first) else 0 for i in range(len(doc))])
        cur[2].extend([seg] * len(doc))
    if cur[0]:
        rows.append(cur)
    for tokens, mask, segments in rows:
        pad = seq_len - len(tokens)
        tokens.extend([pad_token_id] * pad)
        mask.extend([0] * pad)
        segments.extend([0] * pad)
    return rows


def write_shards(out_dir: str, splits: Dict[str, List[Row]], seq_len: int, vocab_size: int = 512,
                 pad_token_id: int = 0, header_overrides: dict = None) -> str:
    os.makedirs(out_dir, exist_ok=True)
    meta = {}
    for name, rows in splits.items():
        toks, masks, segs = [], [], []
        for tokens, mask, segments in rows:
            assert len(tokens) == len(mask) == len(segments) == seq_len, "every row must be seq_len long"
            toks += tokens
            masks += mask
            segs += segments
        with open(os.path.join(out_dir, f"{name}.tokens.bin"), "wb") as f:
            f.write(struct.pack(f"<{len(toks)}I", *toks))
        with open(os.path.join(out_dir, f"{name}.mask.bin"), "wb") as f:
            f.write(bytes(masks))
        with open(os.path.join(out_dir, f"{name}.segments.bin"), "wb") as f:
            f.write(struct.pack(f"<{len(segs)}H", *segs))
        meta[name] = {"sequences": len(rows), "tokens": sum(1 for s in segs if s != 0),
                      "documents": sum(len(set(r[2]) - {0}) for r in rows),
                      "trained_tokens": sum(masks), "truncated_documents": 0}
    header = {"format": "tunekit-shards", "version": 1, "seq_len": seq_len, "packing": True,
              "pad_token_id": pad_token_id, "bos_token_id": 1, "eos_token_id": 2, "vocab_size": vocab_size,
              "tokenizer_sha256": "0" * 64, "template_sha256": "0" * 64, "dataset_version": "test",
              "splits": meta, "truncation": {"policy": "drop", "examples": 0, "tokens": 0, "ids": []}}
    header.update(header_overrides or {})
    with open(os.path.join(out_dir, "header.json"), "w", encoding="utf-8") as f:
        json.dump(header, f, indent=2)
    return out_dir


def random_rows(n: int, seq_len: int, seed: int = 0, vocab_size: int = 512) -> List[Row]:
    rng = random.Random(seed)
    docs = [[1] + [rng.randrange(3, vocab_size) for _ in range(rng.randrange(3, seq_len))] for _ in range(n * 2)]
    return pack_documents(docs, seq_len)[:n]
