"""Parity of tunekit's tokenization, chat rendering and loss masks with Python `tokenizers` and transformers.

Input: bench/gpu/tokenize-parity-data/{qwen3,llama3}.json and the tokenizer folders beside them, written by
`npx tsx bench/gpu/tokenize-parity-dump.ts` (>= 1,000 conversations each, tools, unicode, emoji).
For every conversation:
  * text:  tokenizer.apply_chat_template(messages, tools=..., tokenize=False, **variables) == tunekit's rendering
  * ids:   tokenizers.Tokenizer.encode(text, add_special_tokens=False).ids == tunekit's ids
  * mask:  rebuilt here by prefix rendering with transformers (apply_chat_template(messages[:k],
           add_generation_prompt=True) must prefix the full text; span = prefix end .. first end-of-turn marker
           inclusive; tokens whose start offset lies in a span are trained) == tunekit's mask. Conversations where
           the prefix is not a prefix (tunekit's per-turn fallback) are counted separately.
Plain strings are compared too. Writes $OUT/tokenize-parity.json and prints a summary; exit 1 on any mismatch.
Run: python3 bench/gpu/tokenize-parity.py
"""
import json
import os
import sys

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "tokenize-parity-data")
OUT = os.environ.get("OUT", os.path.join(HERE, "out"))


def reference_mask(tok, case, ids_offsets, markers):
    messages, tools, variables = case["messages"], case["tools"], case["variables"]
    text = case["text"]
    spans, fallback = [], False
    for k, message in enumerate(messages):
        if message["role"] != "assistant" or case["weights"][k] == 0:
            continue
        prefix = tok.apply_chat_template(messages[:k], tools=tools, add_generation_prompt=True, tokenize=False, **variables)
        if not text.startswith(prefix):
            fallback = True
            continue
        start = len(prefix)
        hits = [(text.find(m, start), m) for m in markers if text.find(m, start) >= 0]
        end = min(hits)[0] + len(min(hits)[1]) if hits else len(text.rstrip())
        spans.append((start, end))
    mask = []
    for (s, e) in ids_offsets:
        mask.append(1 if e > s and any(a <= s < b for a, b in spans) else 0)
    return mask, fallback


def check(name):
    with open(os.path.join(DATA, f"{name}.json"), encoding="utf-8") as f:
        dump = json.load(f)
    folder = os.path.join(DATA, name)
    raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok = PreTrainedTokenizerFast.from_pretrained(folder)
    result = {"conversations": len(dump["cases"]), "text_mismatch": 0, "ids_mismatch": 0, "mask_mismatch": 0,
              "mask_fallback_skipped": 0, "strings": len(dump["strings"]), "strings_mismatch": 0, "examples": []}
    for s, ids in zip(dump["strings"], dump["plain"]):
        if raw.encode(s, add_special_tokens=False).ids != ids:
            result["strings_mismatch"] += 1
            result["examples"].append({"kind": "string", "text": s})
    for i, case in enumerate(dump["cases"]):
        text = tok.apply_chat_template(case["messages"], tools=case["tools"], tokenize=False, **case["variables"])
        if text != case["text"]:
            result["text_mismatch"] += 1
            if len(result["examples"]) < 20:
                at = next((j for j, (a, b) in enumerate(zip(text, case["text"])) if a != b), min(len(text), len(case["text"])))
                result["examples"].append({"kind": "text", "case": i, "python": text[max(0, at - 60):at + 60], "tunekit": case["text"][max(0, at - 60):at + 60]})
            continue
        enc = raw.encode(case["text"], add_special_tokens=False)
        if enc.ids != case["ids"]:
            result["ids_mismatch"] += 1
            if len(result["examples"]) < 20:
                result["examples"].append({"kind": "ids", "case": i})
            continue
        mask, fallback = reference_mask(tok, case, enc.offsets, dump["end_of_turn"])
        if fallback:
            result["mask_fallback_skipped"] += 1
            continue
        if mask != case["mask"]:
            result["mask_mismatch"] += 1
            if len(result["examples"]) < 20:
                diff = [t for t, (a, b) in enumerate(zip(mask, case["mask"])) if a != b]
                result["examples"].append({"kind": "mask", "case": i, "tokens": diff[:10],
                                           "pieces": [raw.id_to_token(case["ids"][t]) for t in diff[:10]]})
    return result


def main():
    os.makedirs(OUT, exist_ok=True)
    import tokenizers
    import transformers
    report = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__, "models": {}}
    ok = True
    for name in ("qwen3", "llama3"):
        r = check(name)
        report["models"][name] = r
        ok = ok and r["text_mismatch"] == r["ids_mismatch"] == r["mask_mismatch"] == r["strings_mismatch"] == 0
        print(f"{name}: {r['conversations']} conversations  text≠ {r['text_mismatch']}  ids≠ {r['ids_mismatch']}  "
              f"mask≠ {r['mask_mismatch']}  (fallback, not compared: {r['mask_fallback_skipped']})  "
              f"strings≠ {r['strings_mismatch']}/{r['strings']}")
    report["ok"] = ok
    with open(os.path.join(OUT, "tokenize-parity.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print("PARITY OK" if ok else "PARITY MISMATCH — see tokenize-parity.json")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
