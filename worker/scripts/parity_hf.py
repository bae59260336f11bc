"""Parity of tunekit_worker against transformers + peft (GPU machine: torch 2.x, transformers 5.x, peft 0.2x).

For tiny random Llama / Mistral / Qwen2 / Qwen3 / Gemma 2 / Gemma 3 / Phi-3 / Qwen3-MoE models built with
transformers:
  1. save_pretrained -> tunekit load_model; logits fp32 (max rel err <= 1e-4; max abs err reported) and bf16
     (<= 3e-2, or <= HF bf16's own error against fp32 where that is larger);
  2. greedy generation (batched, different prompt lengths, through the CUDA-graphed static-cache path) vs HF
     generate, one prompt at a time; and the graphed path vs eager decoding;
  3. a tunekit LoRA adapter (random nonzero B) saved -> PeftModel.from_pretrained -> same logits;
  4. a PEFT adapter (get_peft_model, random B) saved -> tunekit load_peft_adapter -> same logits;
  5. the tunekit adapter merged into a folder (merge_to_hf_folder) -> transformers from_pretrained -> same logits.
Gemma runs HF's eager attention (its reference path: SDPA cannot soft-cap).
Prints a JSON summary and writes it to $OUT/parity.json when OUT is set. Exit status 1 if any check fails.
Run: PYTHONPATH=worker python3 worker/scripts/parity_hf.py [case …]   (no case names: all of them)
"""

import inspect
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import transformers  # noqa: E402
import peft  # noqa: E402

from tunekit_worker.generate import generate  # noqa: E402
from tunekit_worker.lora import (LoraConfig, apply_lora, load_peft_adapter, lora_modules, merge_to_hf_folder,  # noqa: E402
                                 save_peft_adapter)
from tunekit_worker.models.loading import load_model  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=8,
              num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6, tie_word_embeddings=False)
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}
CASES = [
    ("llama", "LlamaConfig", "LlamaForCausalLM", dict(attention_bias=True), LLAMA3),
    ("llama-tied", "LlamaConfig", "LlamaForCausalLM", dict(tie_word_embeddings=True), None),
    ("mistral-window", "MistralConfig", "MistralForCausalLM", dict(sliding_window=8), None),
    ("qwen2", "Qwen2Config", "Qwen2ForCausalLM", dict(), None),
    ("qwen3", "Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=16), None),
    ("qwen3-linear-rope", "Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=16, tie_word_embeddings=True),
     {"rope_type": "linear", "factor": 2.0}),
    # Gemma 2: soft-capping of attention scores and logits, window 8 on layers 0 and 2, query_pre_attn_scalar != D.
    ("gemma2", "Gemma2Config", "Gemma2ForCausalLM",
     dict(head_dim=16, query_pre_attn_scalar=24, sliding_window=8, attn_logit_softcapping=5.0,
          final_logit_softcapping=10.0, tie_word_embeddings=True), None),
    # Gemma 3: q/k norms, a local RoPE base on sliding layers, linear scaling on the global one.
    ("gemma3", "Gemma3TextConfig", "Gemma3ForCausalLM",
     dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=8, tie_word_embeddings=True,
          layer_types=["sliding_attention", "full_attention", "sliding_attention"],
          rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6},
                           "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}), None),
    ("gemma3-softcap", "Gemma3TextConfig", "Gemma3ForCausalLM",
     dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=8, tie_word_embeddings=True,
          attn_logit_softcapping=5.0, final_logit_softcapping=10.0,
          layer_types=["sliding_attention", "sliding_attention", "full_attention"],
          rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                           "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}), None),
    ("phi3", "Phi3Config", "Phi3ForCausalLM", dict(pad_token_id=0, bos_token_id=1, eos_token_id=2), None),
    ("phi3-partial-rope-window", "Phi3Config", "Phi3ForCausalLM",
     dict(pad_token_id=0, bos_token_id=1, eos_token_id=2, partial_rotary_factor=0.5, sliding_window=8), None),
    # Qwen3-MoE: 8 experts, top 2, renormalised; layer 1 dense (mlp_only_layers) so LoRA reaches an MLP too.
    ("qwen3-moe", "Qwen3MoeConfig", "Qwen3MoeForCausalLM",
     dict(head_dim=16, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, norm_topk_prob=True,
          decoder_sparse_step=1, mlp_only_layers=[1]), None),
    # The same renormalised model with adapters on attention only (both sides): on transformers v5, PEFT also puts
    # LoRA on the fused experts when MLP names are targeted (see lora_targets), which no tunekit adapter has.
    ("qwen3-moe-attention-lora", "Qwen3MoeConfig", "Qwen3MoeForCausalLM",
     dict(head_dim=16, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32, norm_topk_prob=True,
          decoder_sparse_step=1, mlp_only_layers=[1]), None),
    ("qwen3-moe-unnormalised", "Qwen3MoeConfig", "Qwen3MoeForCausalLM",
     dict(head_dim=16, num_experts=4, num_experts_per_tok=3, moe_intermediate_size=32, norm_topk_prob=False,
          decoder_sparse_step=1, mlp_only_layers=[]), None),
]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PHI3_TARGETS = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]  # the fused HF names PEFT finds


def lora_targets(name):
    """(tunekit adapter targets, PEFT adapter targets) for a case."""
    if name.startswith("phi3"):
        return PHI3_TARGETS, ["qkv_proj", "down_proj"]
    if name in ("qwen3-moe-unnormalised", "qwen3-moe-attention-lora"):  # attention only
        return ["q_proj", "k_proj", "v_proj", "o_proj"], ["q_proj", "v_proj"]
    if name == "qwen3-moe":
        # PEFT 0.21 on transformers v5 also matches `down_proj`/`gate_up_proj` inside the fused experts module
        # and puts LoRA on the experts, which tunekit refuses (WORKER_ADAPTER_MISMATCH): a regex (PEFT full-matches
        # a string) keeps PEFT's adapter on attention and the dense layer 1's MLP, as tunekit's own.
        return TARGETS, r"model\.layers\.\d+\.self_attn\.(q_proj|v_proj)|model\.layers\.1\.mlp\.down_proj"
    return TARGETS, ["q_proj", "v_proj", "down_proj"]


def make_config(config_cls, kwargs, rope):
    """Build a transformers config; v5 takes rope_parameters, v4 rope_theta + rope_scaling."""
    kwargs = dict(COMMON, **kwargs)
    if "rope_parameters" in kwargs:  # given per layer type (Gemma 3)
        return config_cls(**kwargs)
    if "rope_parameters" in inspect.signature(config_cls.__init__).parameters:
        kwargs["rope_parameters"] = dict(rope or {"rope_type": "default"}, rope_theta=10000.0)
    else:
        kwargs.update(rope_theta=10000.0, rope_scaling=rope)
    return config_cls(**kwargs)


def randomize(model, seed):
    """Larger-than-default random weights so logits are far from uniform (a stronger comparison)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if "norm" in name:
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_((0.15 if p.dim() > 1 else 0.05) * noise)


def rel_err(a, b):
    return float((a.float() - b.float()).abs().max() / b.float().abs().max())


def abs_err(a, b):
    return float((a.float() - b.float()).abs().max())


def hf_logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def tk_logits(model, ids):
    with torch.no_grad():
        return model.logits(model(ids))


def load_hf(cls, path, dtype):
    # Gemma's reference is HF's eager attention: SDPA would drop the score soft-capping.
    extra = {"attn_implementation": "eager"} if cls.__name__.startswith("Gemma") else {}
    try:
        return cls.from_pretrained(path, dtype=dtype, **extra).to(DEVICE).eval()  # transformers v5
    except TypeError:
        return cls.from_pretrained(path, torch_dtype=dtype, **extra).to(DEVICE).eval()


def wrapped(peft_model):
    """Which modules PEFT put LoRA on (names shortened): shows when it reaches beyond what was asked."""
    names = {n.split(".lora_")[0] for n, _ in peft_model.named_parameters() if ".lora_" in n}
    return sorted(n.replace("base_model.model.model.layers.", "") for n in names)


def run_case(name, config_name, model_name, kwargs, rope, tmp, result):
    """Fills `result` step by step, so the numbers measured before a failing step are kept."""
    cls = getattr(transformers, model_name)
    path = os.path.join(tmp, name)
    torch.manual_seed(0)
    hf = cls(make_config(getattr(transformers, config_name), kwargs, rope))
    randomize(hf, 0)
    hf.save_pretrained(path)
    ids = torch.randint(0, 256, (2, 24), generator=torch.Generator().manual_seed(1)).to(DEVICE)
    hf32 = load_hf(cls, path, torch.float32)
    tk32 = load_model(path, device=DEVICE, dtype=torch.float32)
    ref = hf_logits(hf32, ids)
    result["fp32_rel_err"] = rel_err(tk_logits(tk32, ids), ref)
    result["fp32_max_abs_err"] = abs_err(tk_logits(tk32, ids), ref)
    result["logits_max_abs"] = float(ref.abs().max())
    hf16 = load_hf(cls, path, torch.bfloat16)
    tk16 = load_model(path, device=DEVICE, dtype=torch.bfloat16)
    result["bf16_rel_err_vs_hf_bf16"] = rel_err(tk_logits(tk16, ids), hf_logits(hf16, ids))
    result["hf_bf16_rel_err_vs_fp32"] = rel_err(hf_logits(hf16, ids), ref)  # context: bf16's own error

    # HF stops at (and keeps) eos; ours stops at stop_token_ids and reports it in stop_ids.
    eos = hf32.generation_config.eos_token_id
    eos = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
    prompts = [[5, 9, 200, 17], [33], [7, 8, 9, 10, 11, 12, 13]]
    ours = generate(tk32, prompts, max_new_tokens=12, stop_token_ids=eos)
    theirs = []
    for p in prompts:
        with torch.no_grad():
            out = hf32.generate(torch.tensor([p], device=DEVICE), max_new_tokens=12, do_sample=False,
                                pad_token_id=0)
        theirs.append(out[0, len(p):].tolist())
    result["greedy_ids_equal"] = [o.ids + o.stop_ids for o in ours] == theirs
    result["greedy_ids"] = theirs
    eager = generate(tk32, prompts, max_new_tokens=12, stop_token_ids=eos, graphs=False)
    result["graph_equals_eager"] = [o.ids for o in ours] == [o.ids for o in eager]
    runners = getattr(tk32, "_decode_runners", {})
    result["decode_graph_captured"] = any(r.graph is not None for r in runners.values())
    targets, peft_targets = lora_targets(name)

    # tunekit adapter -> PEFT
    apply_lora(tk32, LoraConfig(r=4, alpha=8, target_modules=targets, use_rslora=name.startswith("qwen3")))
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for m in lora_modules(tk32).values():
            m.lora_B.copy_(0.05 * torch.randn(m.lora_B.shape, generator=g))
    adapter = os.path.join(tmp, name + "-adapter")
    save_peft_adapter(tk32, adapter, path)
    peft_model = peft.PeftModel.from_pretrained(load_hf(cls, path, torch.float32), adapter).to(DEVICE).eval()
    result["peft_wrapped_loading_ours"] = wrapped(peft_model)
    result["lora_tunekit_to_peft_rel_err"] = rel_err(tk_logits(tk32, ids), hf_logits(peft_model, ids))
    merged = merge_to_hf_folder(path, adapter, os.path.join(tmp, name + "-merged"), device=DEVICE)
    result["merged_in_hf_rel_err"] = rel_err(hf_logits(load_hf(cls, merged, torch.float32), ids), tk_logits(tk32, ids))

    # PEFT adapter -> tunekit
    pm = peft.get_peft_model(load_hf(cls, path, torch.float32),
                             peft.LoraConfig(r=4, lora_alpha=16, target_modules=peft_targets,
                                             task_type="CAUSAL_LM"))
    result["peft_wrapped_its_own"] = wrapped(pm)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    peft_dir = os.path.join(tmp, name + "-peft")
    pm.save_pretrained(peft_dir)
    tk = load_model(path, device=DEVICE, dtype=torch.float32)
    load_peft_adapter(tk, peft_dir)
    result["lora_peft_to_tunekit_rel_err"] = rel_err(tk_logits(tk, ids), hf_logits(pm.eval(), ids))

    # bf16: within 3e-2 of HF's bf16, or within bf16's own error on that model (HF bf16 vs fp32) when that is
    # larger: HF's eager Gemma attention rounds scores to bf16 where SDPA keeps them in float32 (gemma3: 0.032
    # against HF bf16, whose own error is 0.076).
    bf16_tol = max(3e-2, result["hf_bf16_rel_err_vs_fp32"])
    result["ok"] = (result["fp32_rel_err"] <= 1e-4 and result["bf16_rel_err_vs_hf_bf16"] <= bf16_tol
                    and result["greedy_ids_equal"] and result["graph_equals_eager"]
                    and result["lora_tunekit_to_peft_rel_err"] <= 1e-4 and result["merged_in_hf_rel_err"] <= 1e-4
                    and result["lora_peft_to_tunekit_rel_err"] <= 1e-4)
    return result


def main():
    only = set(sys.argv[1:])  # case names to run (default: all)
    summary = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
               "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu", "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if only and case[0] not in only:
                continue
            result = {"case": case[0]}
            summary["cases"].append(result)
            try:
                run_case(*case, tmp, result)
            except Exception as e:  # report every case, not just the first failure (with what it measured)
                result.update(ok=False, error=f"{type(e).__name__}: {e}")
    summary["ok"] = all(c["ok"] for c in summary["cases"])
    text = json.dumps(summary, indent=2)
    print(text)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "parity.json"), "w") as f:
            f.write(text + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
