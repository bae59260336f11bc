#!/usr/bin/env python3
"""Reference values for tunekit's text metrics, computed by the reference libraries.

Run on the GPU machine (it has sacrebleu):
    python3 bench/gpu/eval-reference.py src/eval/metrics/reference-pairs.json src/eval/metrics/reference-values.json

Writes, for every hypothesis/reference pair: sacrebleu sentence BLEU (sentence_bleu defaults: exp smoothing,
effective order), sentence chrF and chrF++, the 13a tokenisation of both sides; SQuAD exact match and token F1
(the official evaluation script's functions, copied below); ROUGE-L F1 over lower-cased Unicode word tokens
(LCS, no stemming — the tokenisation tunekit documents). Plus corpus BLEU/chrF/chrF++ over all pairs.
src/eval/metrics/reference-values.test.ts compares tunekit's values to these within 1e-6.
"""
import collections
import json
import re
import string
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a


# --- SQuAD v1.1/v2.0 official evaluation functions -------------------------------------------------------
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def exact_match(prediction, ground_truth):
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def token_f1(prediction, ground_truth):
    pred = normalize_answer(prediction).split()
    gold = normalize_answer(ground_truth).split()
    if len(pred) == 0 or len(gold) == 0:
        return float(pred == gold)
    common = collections.Counter(pred) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p = same / len(pred)
    r = same / len(gold)
    return 2 * p * r / (p + r)


# --- ROUGE-L (LCS F1) -------------------------------------------------------------------------------------
def rouge_tokens(text):
    # Lower-cased runs of letters and digits (Python's \w without the underscore).
    return re.findall(r"[^\W_]+", text.lower())


def lcs(a, b):
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            cur[j] = prev[j - 1] + 1 if a[i - 1] == b[j - 1] else max(prev[j], cur[j - 1])
        prev = cur
    return prev[len(b)]


def rouge_l(prediction, reference):
    p_toks, r_toks = rouge_tokens(prediction), rouge_tokens(reference)
    if not p_toks or not r_toks:
        return 0.0
    n = lcs(r_toks, p_toks)
    p, r = n / len(p_toks), n / len(r_toks)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def main():
    pairs_path = sys.argv[1] if len(sys.argv) > 1 else "src/eval/metrics/reference-pairs.json"
    out_path = sys.argv[2] if len(sys.argv) > 2 else None
    pairs = json.load(open(pairs_path, encoding="utf-8"))
    hyps = [p["hypothesis"] for p in pairs]
    refs = [p["reference"] for p in pairs]
    tok = Tokenizer13a()
    sent_bleu = BLEU(effective_order=True)
    chrf = CHRF()
    chrfpp = CHRF(word_order=2)
    rows = []
    for h, r in zip(hyps, refs):
        rows.append({
            "hypothesis": h,
            "reference": r,
            "tok13a_hypothesis": tok(h.rstrip()),
            "tok13a_reference": tok(r.rstrip()),
            "sentence_bleu": sent_bleu.sentence_score(h, [r]).score,
            "sentence_chrf": chrf.sentence_score(h, [r]).score,
            "sentence_chrfpp": chrfpp.sentence_score(h, [r]).score,
            "exact_match": exact_match(h, r),
            "token_f1": token_f1(h, r),
            "rouge_l": rouge_l(h, r),
        })
    corpus_bleu = BLEU()
    # Corpus scores first: sacrebleu knows the signature (number of references) only after a scoring call.
    corpus = {
        "bleu": corpus_bleu.corpus_score(hyps, [refs]).score,
        "chrf": chrf.corpus_score(hyps, [refs]).score,
        "chrf++": chrfpp.corpus_score(hyps, [refs]).score,
    }
    result = {
        "generator": "bench/gpu/eval-reference.py",
        "sacrebleu_version": sacrebleu.__version__,
        "signatures": {
            "bleu": str(corpus_bleu.get_signature()),
            "chrf": str(chrf.get_signature()),
            "chrf++": str(chrfpp.get_signature()),
        },
        "corpus": corpus,
        "pairs": rows,
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {out_path}: {len(rows)} pairs, corpus {result['corpus']}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
