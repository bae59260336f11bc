"""Parity of tunekit_worker against transformers + peft (GPU machine: torch 2.x, transformers 5.x, peft 0.2x).

For tiny random Llama / Mistral / Qwen2 / Qwen3 models built with transformers:
  1. save_pretrained -> tunekit load_model; logits fp32 (max rel err <= 1e-4) and bf16 (reported, <= 3e-2);
  2. greedy generation (batched, different prompt lengths) vs HF generate, one prompt at a time;
  3. a tunekit LoRA adapter (random nonzero B) saved -> PeftModel.from_pretrained -> same logits;
  4. a PEFT adapter (get_peft_model, random B) saved -> tunekit load_peft_adapter -> same logits.
Prints a JSON summary and writes it to $OUT/parity.json when OUT is set. Exit status 1 if any check fails.
Run: PYTHONPATH=worker python3 worker/scripts/parity_hf.py
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
from tunekit_worker.lora import LoraConfig, apply_lora, load_peft_adapter, lora_modules, save_peft_adapter  # noqa: E402
from tunekit_worker.models.llama import load_model  # noqa: E402

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
]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def make_config(config_cls, kwargs, rope):
    """Build a transformers config; v5 takes rope_parameters, v4 rope_theta + rope_scaling."""
    kwargs = dict(COMMON, **kwargs)
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


def hf_logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def tk_logits(model, ids):
    with torch.no_grad():
        return model.logits(model(ids))


def load_hf(cls, path, dtype):
    try:
        return cls.from_pretrained(path, dtype=dtype).to(DEVICE).eval()  # transformers v5
    except TypeError:
        return cls.from_pretrained(path, torch_dtype=dtype).to(DEVICE).eval()


def run_case(name, config_name, model_name, kwargs, rope, tmp):
    cls = getattr(transformers, model_name)
    path = os.path.join(tmp, name)
    torch.manual_seed(0)
    hf = cls(make_config(getattr(transformers, config_name), kwargs, rope))
    randomize(hf, 0)
    hf.save_pretrained(path)
    ids = torch.randint(0, 256, (2, 24), generator=torch.Generator().manual_seed(1)).to(DEVICE)
    result = {"case": name}

    hf32 = load_hf(cls, path, torch.float32)
    tk32 = load_model(path, device=DEVICE, dtype=torch.float32)
    ref = hf_logits(hf32, ids)
    result["fp32_rel_err"] = rel_err(tk_logits(tk32, ids), ref)
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

    # tunekit adapter -> PEFT
    apply_lora(tk32, LoraConfig(r=4, alpha=8, target_modules=TARGETS, use_rslora=name.startswith("qwen3")))
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for m in lora_modules(tk32).values():
            m.lora_B.copy_(0.05 * torch.randn(m.lora_B.shape, generator=g))
    adapter = os.path.join(tmp, name + "-adapter")
    save_peft_adapter(tk32, adapter, path)
    peft_model = peft.PeftModel.from_pretrained(load_hf(cls, path, torch.float32), adapter).to(DEVICE).eval()
    result["lora_tunekit_to_peft_rel_err"] = rel_err(tk_logits(tk32, ids), hf_logits(peft_model, ids))

    # PEFT adapter -> tunekit
    pm = peft.get_peft_model(load_hf(cls, path, torch.float32),
                             peft.LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "down_proj"],
                                             task_type="CAUSAL_LM"))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    peft_dir = os.path.join(tmp, name + "-peft")
    pm.save_pretrained(peft_dir)
    tk = load_model(path, device=DEVICE, dtype=torch.float32)
    load_peft_adapter(tk, peft_dir)
    result["lora_peft_to_tunekit_rel_err"] = rel_err(tk_logits(tk, ids), hf_logits(pm.eval(), ids))

    result["ok"] = (result["fp32_rel_err"] <= 1e-4 and result["bf16_rel_err_vs_hf_bf16"] <= 3e-2
                    and result["greedy_ids_equal"] and result["lora_tunekit_to_peft_rel_err"] <= 1e-4
                    and result["lora_peft_to_tunekit_rel_err"] <= 1e-4)
    return result


def main():
    summary = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
               "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu", "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            try:
                summary["cases"].append(run_case(*case, tmp))
            except Exception as e:  # report every case, not just the first failure
                summary["cases"].append({"case": case[0], "ok": False, "error": f"{type(e).__name__}: {e}"})
    summary["ok"] = all(c["ok"] for c in summary["cases"])
    text = json.dumps(summary, indent=2)
    print(text)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "parity.json"), "w") as f:
            f.write(text + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
