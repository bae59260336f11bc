import json
import math
import os

import pytest
import torch

from model_helper import STORIES, STORIES_MISSING, write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.models import attention as attention_mod
from tunekit_worker.models.attention import build_attention_mask, positions_from_segments
from tunekit_worker.models.config import load_config, rope_inv_freq
from tunekit_worker.models.kv_cache import KVCache
from tunekit_worker.models.loading import load_model
from tunekit_worker.safetensors_io import load_checkpoint, save_checkpoint

needs_stories = pytest.mark.skipif(not os.path.isdir(STORIES), reason=STORIES_MISSING)


def reference_logits(model_dir, ids):
    """Straight-line float64 forward of one sequence, head by head, written from the HF modeling code."""
    cfg, sd = load_config(model_dir), {k: v.double() for k, v in load_checkpoint(model_dir).items()}
    D, Hq, Hkv = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
    T = len(ids)
    ang = torch.arange(T).double()[:, None] * rope_inv_freq(cfg).double()[None]  # [T,D/2]
    cos, sin = ang.cos(), ang.sin()

    def rope(v):  # rotate-half pairs (i, i + D/2)
        a, b = v[:, :D // 2], v[:, D // 2:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)

    def norm(v, name):
        return v / torch.sqrt((v * v).mean(-1, keepdim=True) + cfg.rms_norm_eps) * sd[name]

    def lin(name, v):
        return v @ sd[name + ".weight"].T + (sd[name + ".bias"] if name + ".bias" in sd else 0)

    x = sd["model.embed_tokens.weight"][torch.tensor(ids)]
    for layer in range(cfg.num_hidden_layers):
        p = f"model.layers.{layer}."
        window = cfg.sliding_windows[layer]
        h = norm(x, p + "input_layernorm.weight")
        q, k, v = (lin(p + f"self_attn.{n}_proj", h) for n in "qkv")
        out = torch.zeros(T, Hq * D, dtype=torch.float64)
        for head in range(Hq):
            kvh = head // (Hq // Hkv)
            qh, kh, vh = q[:, head * D:(head + 1) * D], k[:, kvh * D:(kvh + 1) * D], v[:, kvh * D:(kvh + 1) * D]
            if cfg.qk_norm:
                qh, kh = norm(qh, p + "self_attn.q_norm.weight"), norm(kh, p + "self_attn.k_norm.weight")
            s = rope(qh) @ rope(kh).T / math.sqrt(D)
            for i in range(T):
                for j in range(T):
                    if j > i or (window is not None and i - j >= window):
                        s[i, j] = float("-inf")
            out[:, head * D:(head + 1) * D] = torch.softmax(s, -1) @ vh
        x = x + lin(p + "self_attn.o_proj", out)
        h = norm(x, p + "post_attention_layernorm.weight")
        x = x + lin(p + "mlp.down_proj", torch.nn.functional.silu(lin(p + "mlp.gate_proj", h)) * lin(p + "mlp.up_proj", h))
    x = norm(x, "model.norm.weight")
    return x @ sd.get("lm_head.weight", sd["model.embed_tokens.weight"]).T


def logits_of(model, ids, **kw):
    with torch.no_grad():
        return model.logits(model(torch.tensor([ids]), **kw))[0]


@needs_stories
def test_stories260k_matches_expected_logits_and_greedy_path():
    model = load_model(STORIES)
    expected = json.load(open(os.path.join(STORIES, "EXPECTED.json")))
    for p in expected["prompts"]:
        last = p["last_prompt_position"]
        top = logits_of(model, p["input_ids"])[-1].topk(5)
        assert top.indices.tolist() == last["top5_ids"]
        assert torch.allclose(top.values, torch.tensor(last["top5_logits"]), atol=1e-4, rtol=0)
        # Teacher-forced over the whole expected continuation: every greedy step's argmax is the next expected id.
        seq = p["input_ids"] + p["continuation_ids"]
        argmax = logits_of(model, seq)[len(p["input_ids"]) - 1:-1].argmax(-1)
        assert argmax.tolist() == p["continuation_ids"]


CASES = {
    "llama-tied": ("llama", {"tie_word_embeddings": True}),
    "llama-bias": ("llama", {"attention_bias": True, "mlp_bias": True}),
    "llama-mha-llama3": ("llama", {"num_key_value_heads": 4, "rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16}}),
    "mistral-window": ("mistral", {"sliding_window": 3}),
    "qwen2": ("qwen2", {}),
    "qwen3": ("qwen3", {}),
    "qwen3-tied-mqa": ("qwen3", {"tie_word_embeddings": True, "num_key_value_heads": 1}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_architectures_match_reference_forward(tmp_path, case):
    arch, overrides = CASES[case]
    path = write_tiny_model(tmp_path / case, arch, **overrides)
    model = load_model(path)
    ids = [5, 17, 3, 60, 22, 9, 41]
    got = logits_of(model, ids)
    assert got.dtype == torch.float32 and got.shape == (7, 64)
    assert torch.allclose(got.double(), reference_logits(path, ids), atol=1e-4, rtol=0)
    assert got.std() > 0.1  # a real signal, not all zeros


def test_checkpoint_keys_per_architecture(tmp_path):
    keys = {a: set(load_checkpoint(write_tiny_model(tmp_path / a, a, num_hidden_layers=1)))
            for a in ("llama", "qwen2", "qwen3")}
    attn = "model.layers.0.self_attn."
    assert keys["qwen2"] - keys["llama"] == {attn + "q_proj.bias", attn + "k_proj.bias", attn + "v_proj.bias"}
    assert keys["qwen3"] - keys["llama"] == {attn + "q_norm.weight", attn + "k_norm.weight"}
    assert len(keys["llama"]) == 12  # embed, lm_head, norm, 2 layer norms, 4 attention, 3 mlp


def test_positions_and_mask_follow_the_shard_format():
    seg = torch.tensor([[1, 1, 1, 2, 2, 0, 0]])
    assert positions_from_segments(seg).tolist() == [[0, 1, 2, 0, 1, 0, 0]]
    mask = build_attention_mask(torch.tensor([[1, 1, 2, 0]]), torch.tensor([[1, 1, 2, 0]]), past=0)
    assert mask.shape == (1, 1, 4, 4)
    assert mask[0, 0].int().tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    windowed = build_attention_mask(torch.ones(1, 4, dtype=torch.long), torch.ones(1, 4, dtype=torch.long), 0, 2)
    assert windowed[0, 0].int().tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]


@needs_stories
def test_packed_documents_give_the_same_logits_as_each_alone():
    model = load_model(STORIES)
    a, b = [1, 403, 407, 261, 378], [1, 415, 426, 13]
    ids = torch.tensor([a + b + [0, 0]])
    seg = torch.tensor([[1] * 5 + [2] * 4 + [0, 0]])
    with torch.no_grad():
        packed = model.logits(model(ids, positions_from_segments(seg), seg))[0]  # [11,V]
    assert torch.allclose(packed[:5], logits_of(model, a), atol=1e-4, rtol=0)  # float32 noise on logits ~17
    assert torch.allclose(packed[5:9], logits_of(model, b), atol=1e-4, rtol=0)
    assert torch.isfinite(packed).all()  # padding rows attend to themselves: no NaN
    # position_ids default to restarting per segment
    with torch.no_grad():
        assert torch.equal(model.logits(model(ids, segment_ids=seg))[0], packed)


@pytest.mark.parametrize("arch,overrides", [("mistral", {"sliding_window": 3}), ("qwen3", {})])
def test_kv_cached_steps_equal_the_full_forward(tmp_path, arch, overrides):
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    ids = torch.tensor([[5, 17, 3, 60, 22, 9, 41]])
    with torch.no_grad():
        full = model.logits(model(ids))
        cache = KVCache(2)
        parts = [model.logits(model(ids[:, :4], kv_cache=cache))]
        for t in range(4, 7):
            parts.append(model.logits(model(ids[:, t:t + 1], kv_cache=cache)))
    assert cache.length == 7
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5, rtol=0)


def test_llama_still_exports_the_names_that_moved_out():
    """attention.py, norm.py and loading.py were split out of llama.py; scripts and benches import them from llama."""
    from tunekit_worker.models import llama, loading, norm

    for name in ("Attention", "attention", "build_attention_mask", "grouped_attention", "positions_from_segments",
                 "repeat_kv", "single_segment_rows"):
        assert getattr(llama, name) is getattr(attention_mod, name)
    for name in ("GemmaRMSNorm", "RMSNorm", "make_norm"):
        assert getattr(llama, name) is getattr(norm, name)
    assert (llama.load_model, llama.config_name) == (loading.load_model, loading.config_name)
    assert set(llama.__all__) <= set(vars(llama))


def test_manual_attention_equals_sdpa(tmp_path, monkeypatch):
    if not attention_mod._HAS_SDPA:
        pytest.skip("torch < 2.0 has no scaled_dot_product_attention; the manual path is the only one")
    model = load_model(write_tiny_model(tmp_path, "qwen3"))
    seg = torch.tensor([[1, 1, 1, 2, 2, 0]])
    ids = torch.tensor([[5, 17, 3, 60, 22, 0]])
    with torch.no_grad():
        fast = [model.logits(model(ids)), model.logits(model(ids, segment_ids=seg))]
        monkeypatch.setattr(attention_mod, "_HAS_SDPA", False)
        slow = [model.logits(model(ids)), model.logits(model(ids, segment_ids=seg))]
    for f, s in zip(fast, slow):
        assert torch.allclose(f, s, atol=1e-5, rtol=0)


def test_gradient_checkpointing_gives_the_same_gradients(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "llama"))
    model.train()
    ids = torch.tensor([[5, 17, 3, 60, 22, 9]])
    seg = torch.tensor([[1, 1, 1, 2, 2, 2]])
    grads = []
    for flag in (False, True):
        model.zero_grad()
        model.gradient_checkpointing = flag
        model.logits(model(ids, segment_ids=seg)).logsumexp(-1).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    assert all(torch.allclose(grads[0][n], grads[1][n], atol=1e-6) for n in grads[0])


def test_strict_loading_lists_missing_and_unexpected_keys(tmp_path):
    path = write_tiny_model(tmp_path, "llama", num_hidden_layers=1)
    sd = load_checkpoint(path)
    del sd["model.layers.0.mlp.up_proj.weight"]
    sd["model.layers.0.extra.weight"] = torch.zeros(1)
    save_checkpoint({k: v.clone() for k, v in sd.items()}, path)
    with pytest.raises(WorkerError) as e:
        load_model(path)
    assert e.value.code == "WORKER_CHECKPOINT_MISMATCH"
    assert ("missing keys: model.layers.0.mlp.up_proj.weight; unexpected keys: model.layers.0.extra.weight"
            in e.value.message)


def test_shape_mismatch_is_reported(tmp_path):
    path = write_tiny_model(tmp_path, "llama", num_hidden_layers=1)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(dict(cfg, intermediate_size=40)))
    with pytest.raises(WorkerError) as e:
        load_model(path)
    assert e.value.code == "WORKER_CHECKPOINT_MISMATCH" and "model.layers.0.mlp.down_proj.weight [32, 48] != [32, 40]" in e.value.message


def test_missing_lm_head_means_tied_and_sharded_folders_load(tmp_path):
    path = write_tiny_model(tmp_path / "a", "llama")
    sd = {k: v.clone() for k, v in load_checkpoint(path).items() if k != "lm_head.weight"}
    save_checkpoint(sd, str(tmp_path / "b"), max_shard_bytes=10_000)
    (tmp_path / "b" / "config.json").write_text((tmp_path / "a" / "config.json").read_text())
    assert (tmp_path / "b" / "model.safetensors.index.json").exists()
    model = load_model(str(tmp_path / "b"))
    assert model.lm_head is None
    assert torch.allclose(logits_of(model, [1, 2, 3]).double(), reference_logits(str(tmp_path / "b"), [1, 2, 3]),
                          atol=1e-4)


def test_bfloat16_load_keeps_rope_in_float32(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen3"), dtype=torch.bfloat16)
    assert model.model.layers[0].self_attn.q_proj.weight.dtype == torch.bfloat16
    got = logits_of(model, [5, 17, 3, 60])
    assert got.dtype == torch.float32
    ref = reference_logits(str(tmp_path), [5, 17, 3, 60])
    assert (got.double() - ref).abs().max() < 0.1 * ref.abs().max()


def test_single_segment_rows_takes_the_causal_path_only_when_exact():
    from tunekit_worker.models.attention import single_segment_rows
    assert single_segment_rows(torch.tensor([[1, 1, 1, 0], [2, 2, 2, 2]])) is True
    assert single_segment_rows(torch.tensor([[1, 1, 2, 2]])) is False   # packed: needs the document mask
    assert single_segment_rows(torch.tensor([[0, 1, 1, 1]])) is False   # left padding
    assert single_segment_rows(torch.tensor([[1, 0, 1, 1]])) is False   # a segment after padding
