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
