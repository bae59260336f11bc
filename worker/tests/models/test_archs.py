"""Gemma 2/3, Phi-3 and Qwen3-MoE: forward against a float64 reference, cached generation against full
recompute, PEFT-format LoRA round trip, and merge against the adapter forward."""

import json
import os

import pytest
import torch

from arch_reference import reference_logits
from model_helper import write_tiny_model
from tunekit_worker.generate import generate
from tunekit_worker.lora import LoraConfig, apply_lora, load_peft_adapter, lora_modules, merge_to_hf_folder, \
    save_peft_adapter
from tunekit_worker.models.loading import load_model
from tunekit_worker.safetensors_io import load_checkpoint, load_file, save_checkpoint

CASES = {
    "gemma2": ("gemma2", {}),
    "gemma2-untied-mha": ("gemma2", {"tie_word_embeddings": False, "num_key_value_heads": 4,
                                     "attn_logit_softcapping": None}),
    "gemma3": ("gemma3_text", {}),
    "gemma3-linear-rope": ("gemma3_text", {"rope_scaling": {"rope_type": "linear", "factor": 4.0},
                                           "final_logit_softcapping": 2.0}),
    "phi3": ("phi3", {}),
    "phi3-full-rope-window": ("phi3", {"partial_rotary_factor": 1.0, "sliding_window": 3}),
    "qwen3-moe": ("qwen3_moe", {}),
    "qwen3-moe-unnormalised-step2": ("qwen3_moe", {"norm_topk_prob": False, "decoder_sparse_step": 2,
                                                   "mlp_only_layers": [], "num_hidden_layers": 3}),
}
# The projections each family's LoRA targets: the HF module names, so PEFT finds them.
TARGETS = {"gemma2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
           "gemma3_text": ["q_proj", "v_proj", "o_proj", "down_proj"],
           "phi3": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
           "qwen3_moe": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
PLAIN_CASE = {"gemma2": "gemma2", "gemma3_text": "gemma3", "phi3": "phi3", "qwen3_moe": "qwen3-moe"}
IDS = [5, 17, 3, 60, 22, 9, 41, 8]


def logits_of(model, ids):
    with torch.no_grad():
        return model.logits(model(torch.tensor([ids])))[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_new_architectures_match_the_reference_forward(tmp_path, case):
    arch, overrides = CASES[case]
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    got = logits_of(model, IDS)
    assert got.dtype == torch.float32 and got.shape == (8, 64)
    assert torch.allclose(got.double(), reference_logits(str(tmp_path), IDS), atol=1e-4, rtol=0)
    assert got.std() > 0.1  # a real signal, not all zeros
    cap = model.config.final_logit_softcapping
    if cap is not None:
        assert got.abs().max() < cap


def greedy_by_recompute(model, prompt, n):
    seq = list(prompt)
    for _ in range(n):
        seq.append(int(logits_of(model, seq)[-1].argmax()))
    return seq[len(prompt):]


@pytest.mark.parametrize("case", ["gemma2", "gemma3", "phi3-full-rope-window", "qwen3-moe"])
def test_cached_generation_equals_full_recompute(tmp_path, case):
    """Batched, left-padded prompts through the static KV cache (sliding windows shorter than the prompts) give
    the greedy ids of recomputing the whole sequence at every step."""
    arch, overrides = CASES[case]
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    prompts = [[5, 17, 3, 60, 22], [33], [7, 8, 9]]
    got = [o.ids for o in generate(model, prompts, max_new_tokens=6)]
    assert got == [greedy_by_recompute(model, p, 6) for p in prompts]


def randomize_lora(model, seed=3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in lora_modules(model).values():
            m.lora_B.copy_(0.1 * torch.randn(m.lora_B.shape, generator=g))


@pytest.mark.parametrize("arch", sorted(TARGETS))
def test_lora_saves_in_peft_format_reloads_and_merges(tmp_path, arch):
    base = write_tiny_model(tmp_path / "base", arch, **CASES[PLAIN_CASE[arch]][1])
    model = load_model(base)
    apply_lora(model, LoraConfig(r=2, alpha=4, target_modules=TARGETS[arch]), generator=torch.Generator().manual_seed(1))
    randomize_lora(model)
    adapted = logits_of(model, IDS)
    assert not torch.allclose(adapted, logits_of(load_model(base), IDS), atol=1e-3)  # the adapter changes logits
    adapter = save_peft_adapter(model, str(tmp_path / "adapter"), base)

    keys = set(load_file(os.path.join(adapter, "adapter_model.safetensors")))
    wrapped = {n.rsplit(".", 1)[-1] for n in lora_modules(model)}
    assert wrapped == set(TARGETS[arch])
    first = "base_model.model.model.layers.0."
    expect_attn = "qkv_proj" if arch == "phi3" else "q_proj"
    assert f"{first}self_attn.{expect_attn}.lora_A.weight" in keys and f"{first}self_attn.o_proj.lora_B.weight" in keys
    assert len(keys) == 2 * len(lora_modules(model))
    assert json.load(open(os.path.join(adapter, "adapter_config.json")))["target_modules"] == sorted(TARGETS[arch])

    reloaded = load_model(base)
    load_peft_adapter(reloaded, adapter)
    assert torch.equal(logits_of(reloaded, IDS), adapted)

    merged = load_model(merge_to_hf_folder(base, adapter, str(tmp_path / "merged")))
    assert not lora_modules(merged)
    assert torch.allclose(logits_of(merged, IDS), adapted, atol=1e-5, rtol=0)
    # The merged folder keeps the Hub's checkpoint names (experts one Linear each), so transformers loads it.
    assert set(load_checkpoint(str(tmp_path / "merged"))) == set(load_checkpoint(base))


def test_moe_lora_wraps_attention_and_dense_layers_but_not_experts_or_router(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen3_moe"))  # layer 0 sparse, layer 1 dense (mlp_only_layers)
    apply_lora(model, LoraConfig(r=2, target_modules="all-linear"))
    names = sorted(lora_modules(model))
    assert [n for n in names if ".mlp." in n] == ["model.layers.1.mlp.down_proj", "model.layers.1.mlp.gate_proj",
                                                   "model.layers.1.mlp.up_proj"]
    assert len(names) == 2 * 4 + 3


def test_moe_expert_paths_agree(tmp_path):
    """The grouped (sorted, padded bmm) path, and both sync-free paths (per-token gathered experts; every expert on
    every token), give the same outputs."""
    model = load_model(write_tiny_model(tmp_path, "qwen3_moe", num_experts=8, num_experts_per_tok=3))
    experts = model.model.layers[0].mlp.experts
    g = torch.Generator().manual_seed(0)
    for n in (2, 7):  # 2*3 <= 8 experts: gathered; 7*3 > 8: dense
        x = torch.randn(n, 32, generator=g)
        top_w, top_i = torch.softmax(torch.randn(n, 8, generator=g), -1).topk(3)
        with torch.no_grad():
            grouped, free = experts.grouped(x, top_i, top_w), experts.sync_free(x, top_i, top_w)
            # one token at a time through expert e: x W_gu[e]^T -> SwiGLU -> W_d[e]^T
            ref = torch.stack([sum(w * experts._ffn(x[t][None, None].expand(8, 1, 32))[e, 0]
                                   for w, e in zip(top_w[t], top_i[t])) for t in range(n)])
        assert torch.allclose(grouped, ref, atol=1e-6) and torch.allclose(free, ref, atol=1e-6)


def test_moe_loads_the_transformers_v5_fused_expert_layout(tmp_path):
    """transformers v5 holds experts as [E,2I,H] / [E,H,I] tensors; a folder saved that way loads the same."""
    hub = write_tiny_model(tmp_path / "hub", "qwen3_moe")
    fused_dir = tmp_path / "fused"
    state = dict(load_model(hub).state_dict())
    assert state["model.layers.0.mlp.experts.gate_up_proj"].shape == (4, 48, 32)
    save_checkpoint({k: v.clone() for k, v in state.items()}, str(fused_dir))
    (fused_dir / "config.json").write_text((tmp_path / "hub" / "config.json").read_text())
    assert torch.equal(logits_of(load_model(str(fused_dir)), IDS), logits_of(load_model(hub), IDS))


def test_moe_missing_expert_is_reported(tmp_path):
    from tunekit_worker.errors import WorkerError
    path = write_tiny_model(tmp_path, "qwen3_moe")
    sd = {k: v.clone() for k, v in load_checkpoint(path).items() if k != "model.layers.0.mlp.experts.3.up_proj.weight"}
    save_checkpoint(sd, path)
    with pytest.raises(WorkerError) as e:
        load_model(path)
    assert e.value.code == "WORKER_CHECKPOINT_MISMATCH"
    # The expert tensor itself is named, not the fused parameter it would fill.
    assert e.value.message.endswith("): missing keys: model.layers.0.mlp.experts.3.up_proj.weight")


def test_moe_trains_experts_through_the_grouped_path(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen3_moe"))
    model.train()
    model.logits(model(torch.tensor([IDS]))).logsumexp(-1).sum().backward()
    grad = model.model.layers[0].mlp.experts.gate_up_proj.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.model.layers[0].mlp.gate.weight.grad.abs().sum() > 0  # the router learns through top-k weights


@pytest.mark.parametrize("case", ["gemma2", "gemma3", "phi3", "qwen3-moe"])
def test_growing_kv_cache_steps_equal_the_full_forward(tmp_path, case):
    from tunekit_worker.models.kv_cache import KVCache
    arch, overrides = CASES[case]
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    ids = torch.tensor([IDS])
    with torch.no_grad():
        full = model.logits(model(ids))
        cache = KVCache(model.config.num_hidden_layers)
        parts = [model.logits(model(ids[:, :5], kv_cache=cache))]  # past the window of 3
        parts += [model.logits(model(ids[:, t:t + 1], kv_cache=cache)) for t in range(5, 8)]
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5, rtol=0)
