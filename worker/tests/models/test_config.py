import json
import math

import pytest
import torch

from model_helper import STORIES, tiny_config
from tunekit_worker.errors import WorkerError
from tunekit_worker.models.config import ModelConfig, load_config, parse_config, rope_inv_freq


def test_parses_stories260k_config():
    import os
    if not os.path.isdir(STORIES):
        pytest.skip("stories260k fixture absent")
    assert load_config(STORIES) == ModelConfig(
        architecture="LlamaForCausalLM", vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=5,
        num_attention_heads=8, num_key_value_heads=4, head_dim=8, max_position_embeddings=512, rms_norm_eps=1e-5,
        rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=True, attention_bias=False, o_proj_bias=False,
        mlp_bias=False, qk_norm=False, sliding_windows=[None] * 5, bos_token_id=1, eos_token_id=2, pad_token_id=None)


def test_architecture_switches():
    qwen2 = parse_config(tiny_config("qwen2", attention_bias=False))
    assert (qwen2.attention_bias, qwen2.o_proj_bias, qwen2.qk_norm) == (True, False, False)  # Qwen2: qkv bias always
    qwen3 = parse_config(tiny_config("qwen3"))
    assert (qwen3.attention_bias, qwen3.qk_norm, qwen3.head_dim) == (False, True, 16)
    llama = parse_config(tiny_config("llama", attention_bias=True, mlp_bias=True))
    assert (llama.attention_bias, llama.o_proj_bias, llama.mlp_bias) == (True, True, True)
    assert parse_config(tiny_config("llama", num_key_value_heads=None)).num_key_value_heads == 4
    assert parse_config(tiny_config("llama")).head_dim == 8  # derived: 32 / 4


def test_sliding_windows_per_architecture():
    assert parse_config(tiny_config("mistral", sliding_window=16)).sliding_windows == [16, 16]
    assert parse_config(tiny_config("mistral", sliding_window=None)).sliding_windows == [None, None]
    assert parse_config(tiny_config("qwen2", sliding_window=16)).sliding_windows == [None, None]  # not enabled
    assert parse_config(tiny_config("qwen2", sliding_window=16, use_sliding_window=True,
                                    max_window_layers=1)).sliding_windows == [None, 16]
    assert parse_config(tiny_config("qwen3", sliding_window=8, layer_types=["sliding_attention", "full_attention"])
                        ).sliding_windows == [8, None]
    assert parse_config(tiny_config("llama", sliding_window=8)).sliding_windows == [None, None]


def test_rope_parameters_v5_and_legacy_type_key():
    v5 = parse_config(tiny_config("llama", rope_theta=None, rope_parameters={"rope_type": "default", "rope_theta": 5e5}))
    assert (v5.rope_theta, v5.rope_scaling) == (5e5, None)
    v5s = parse_config(tiny_config("llama", rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4}))
    assert v5s.rope_scaling == {"rope_type": "linear", "factor": 2.0}
    legacy = parse_config(tiny_config("llama", rope_scaling={"type": "dynamic", "factor": 4.0}))
    assert legacy.rope_scaling == {"rope_type": "dynamic", "factor": 4.0}


def _llama3_reference(dim, base, factor, low, high, old_len):
    """The Llama 3.1 reference (meta-llama `apply_scaling`), element by element."""
    out = []
    for i in range(0, dim, 2):
        freq = 1.0 / (base ** (i / dim))
        wavelen = 2 * math.pi / freq
        if wavelen < old_len / high:
            out.append(freq)
        elif wavelen > old_len / low:
            out.append(freq / factor)
        else:
            smooth = (old_len / wavelen - low) / (high - low)
            out.append((1 - smooth) * freq / factor + smooth * freq)
    return torch.tensor(out)


def test_llama3_rope_scaling_matches_formula():
    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}
    cfg = parse_config(tiny_config("llama", hidden_size=512, num_attention_heads=4, rope_theta=500000.0,
                                   rope_scaling=scaling))
    got = rope_inv_freq(cfg)
    want = _llama3_reference(128, 500000.0, 8.0, 1.0, 4.0, 8192)
    assert got.shape == (64,)
    assert torch.allclose(got.double(), want.double(), rtol=1e-6, atol=0)
    # All three regimes occur: untouched high frequencies, divided low ones, and the interpolated band.
    plain = rope_inv_freq(parse_config(tiny_config("llama", hidden_size=512, num_attention_heads=4, rope_theta=5e5)))
    ratio = plain / got
    assert ratio[0] == 1.0 and abs(float(ratio[-1]) - 8.0) < 1e-5 and ((ratio > 1.01) & (ratio < 7.99)).any()


def test_linear_and_dynamic_scaling():
    plain = rope_inv_freq(parse_config(tiny_config("llama")))
    assert torch.equal(plain, 1.0 / (10000.0 ** (torch.arange(0, 8, 2).float() / 8)))
    lin = parse_config(tiny_config("llama", rope_scaling={"type": "linear", "factor": 4.0}))
    assert torch.allclose(rope_inv_freq(lin), plain / 4.0)
    dyn = parse_config(tiny_config("llama", rope_scaling={"type": "dynamic", "factor": 2.0}))
    assert torch.equal(rope_inv_freq(dyn, 128), plain)  # within the original 128 positions: unchanged
    base = 10000.0 * ((2.0 * 256 / 128) - 1.0) ** (8 / 6)  # NTK: base grows with the sequence length
    assert torch.allclose(rope_inv_freq(dyn, 256), 1.0 / (base ** (torch.arange(0, 8, 2).float() / 8)))


def test_unsupported_architecture_is_a_clear_error():
    with pytest.raises(WorkerError) as e:
        parse_config(tiny_config("llama", architectures=["GPT2LMHeadModel"]))
    assert e.value.code == "WORKER_UNSUPPORTED_ARCHITECTURE"
    assert e.value.message == ("config.json architectures ['GPT2LMHeadModel'] is not supported; supported: "
                               "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
                               "Gemma2ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM, Qwen3MoeForCausalLM")
    assert "Gemma 2, Gemma 3 text, Phi-3/Phi-4, Qwen3-MoE" in e.value.fix


def test_unsupported_rope_type_is_a_clear_error():
    with pytest.raises(WorkerError) as e:
        parse_config(tiny_config("qwen2", rope_scaling={"type": "yarn", "factor": 4.0}))
    assert e.value.code == "WORKER_UNSUPPORTED_ARCHITECTURE" and "'yarn'" in e.value.message


def test_missing_config_and_bad_json(tmp_path):
    with pytest.raises(WorkerError) as e:
        load_config(str(tmp_path))
    assert e.value.code == "WORKER_MODEL_NOT_FOUND"
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(WorkerError) as e:
        load_config(str(tmp_path))
    assert e.value.code == "WORKER_INVALID_CONFIG"
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(WorkerError) as e:
        load_config(str(tmp_path))
    assert e.value.code == "WORKER_INVALID_CONFIG" and "'hidden_size'" in e.value.message


def test_gemma_switches_and_layer_patterns():
    g2 = parse_config(tiny_config("gemma2", num_hidden_layers=4))
    assert (g2.norm_plus_one, g2.sandwich_norms, g2.hidden_act, g2.tie_word_embeddings, g2.qk_norm) == \
        (True, True, "gelu_pytorch_tanh", True, False)
    assert (g2.embed_scale, g2.query_scale) == (32 ** 0.5, 12 ** -0.5)
    assert (g2.attn_logit_softcapping, g2.final_logit_softcapping, g2.rope_local_theta) == (5.0, 3.0, None)
    assert g2.sliding_windows == [3, None, 3, None]  # Gemma 2: every other layer, starting with layer 0
    g3 = parse_config(tiny_config("gemma3_text", num_hidden_layers=7, sliding_window_pattern=6))
    assert g3.sliding_windows == [3, 3, 3, 3, 3, None, 3]  # 5 local : 1 global
    assert (g3.qk_norm, g3.rope_theta, g3.rope_local_theta, g3.final_logit_softcapping) == (True, 1e6, 10.0, None)
    listed = parse_config(tiny_config("gemma3_text", layer_types=["full_attention", "sliding_attention",
                                                                   "full_attention"]))
    assert listed.sliding_windows == [None, 3, None]  # explicit layer_types win over the pattern


def test_gemma3_v5_rope_parameters_per_layer_type():
    raw = tiny_config("gemma3_text", rope_theta=None, rope_local_base_freq=None, rope_parameters={
        "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1e6},
        "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}})
    cfg = parse_config(raw)
    assert (cfg.rope_theta, cfg.rope_scaling, cfg.rope_local_theta) == (1e6, {"rope_type": "linear", "factor": 8.0}, 1e4)
    assert torch.allclose(rope_inv_freq(cfg, local=True), 1.0 / (1e4 ** (torch.arange(0, 16, 2).float() / 16)))


def test_gemma3_bidirectional_is_refused():
    with pytest.raises(WorkerError) as e:
        parse_config(tiny_config("gemma3_text", use_bidirectional_attention=True))
    assert e.value.code == "WORKER_UNSUPPORTED_ARCHITECTURE" and "use_bidirectional_attention" in e.value.message


def test_phi3_switches_and_window():
    cfg = parse_config(tiny_config("phi3", sliding_window=5, attention_bias=True))
    assert (cfg.fused_projections, cfg.rotary_dim, cfg.attention_bias, cfg.o_proj_bias) == (True, 4, False, False)
    assert cfg.sliding_windows == [5, 5]  # as Mistral: on every layer whenever set
    assert rope_inv_freq(cfg).shape == (2,)  # partial_rotary_factor 0.5 of head_dim 8


@pytest.mark.parametrize("rope_type", ["longrope", "su"])
def test_phi3_long_context_rope_is_a_clear_error(rope_type):
    with pytest.raises(WorkerError) as e:
        parse_config(tiny_config("phi3", rope_scaling={"type": rope_type, "short_factor": [1.0], "long_factor": [2.0]}))
    assert e.value.code == "WORKER_UNSUPPORTED_ARCHITECTURE"
    assert e.value.message == f"unsupported Phi-3 rope scaling type: {rope_type!r}"
    assert "Phi-3-mini-4k-instruct" in e.value.fix and "default, linear, dynamic, llama3" in e.value.fix


def test_qwen3_moe_sparse_layers():
    cfg = parse_config(tiny_config("qwen3_moe", num_hidden_layers=6, decoder_sparse_step=2, mlp_only_layers=[3]))
    assert cfg.sparse_layers == [False, True, False, False, False, True]
    assert (cfg.num_experts, cfg.num_experts_per_tok, cfg.moe_intermediate_size, cfg.norm_topk_prob, cfg.qk_norm) == \
        (4, 2, 24, True, True)
    assert parse_config(tiny_config("qwen3_moe", num_experts=0)).sparse_layers == [False, False]
    # transformers v5's config.json spelling (found by the GPU parity run: it read as a dense model before)
    v5 = tiny_config("qwen3_moe", num_local_experts=4)
    del v5["num_experts"]
    assert (parse_config(v5).num_experts, parse_config(v5).sparse_layers) == (4, [True, False])


def test_gemma3_attention_softcapping_is_ignored_as_in_transformers():
    # Gemma3Attention stores attn_logit_softcapping but never applies it; the final logit soft-capping it applies.
    cfg = parse_config(tiny_config("gemma3_text", attn_logit_softcapping=5.0, final_logit_softcapping=10.0))
    assert (cfg.attn_logit_softcapping, cfg.final_logit_softcapping) == (None, 10.0)


def test_unsupported_activation_is_a_clear_error():
    with pytest.raises(WorkerError) as e:
        parse_config(tiny_config("gemma2", hidden_activation="relu"))
    assert e.value.code == "WORKER_UNSUPPORTED_ARCHITECTURE"
    assert (e.value.message, e.value.fix) == ("unsupported hidden_act: 'relu'",
                                              "only silu, gelu_pytorch_tanh MLPs are supported")
