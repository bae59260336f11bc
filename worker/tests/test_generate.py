import json
import os

import pytest
import torch

from model_helper import STORIES, STORIES_MISSING, write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.generate import GenerationOutput, ModelCache, generate, sample_next
from tunekit_worker.lora import LoraConfig, apply_lora, lora_modules, save_peft_adapter
from tunekit_worker.models.attention import positions_from_segments
from tunekit_worker.models.kv_cache import KVCache
from tunekit_worker.models.loading import load_model

needs_stories = pytest.mark.skipif(not os.path.isdir(STORIES), reason=STORIES_MISSING)


@pytest.fixture(scope="module")
def stories():
    if not os.path.isdir(STORIES):
        pytest.skip(STORIES_MISSING)
    return load_model(STORIES), json.load(open(os.path.join(STORIES, "EXPECTED.json")))


def test_greedy_reproduces_expected_continuations(stories):
    model, expected = stories
    prompts = expected["prompts"]
    batched = generate(model, [p["input_ids"] for p in prompts], max_new_tokens=64, stop_token_ids=[2])
    assert batched == [GenerationOutput(p["continuation_ids"], "length") for p in prompts]
    for p in prompts:  # one at a time gives the same ids
        assert generate(model, [p["input_ids"]], max_new_tokens=64, stop_token_ids=[2]) == [
            GenerationOutput(p["continuation_ids"], "length")]


def test_batched_equals_unbatched_with_many_lengths(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "mistral", sliding_window=4))
    prompts = [[3], [7, 8, 9, 10, 11, 12], [20, 21], [5, 6, 7, 8]]
    batched = generate(model, prompts, max_new_tokens=12)
    assert batched == [generate(model, [p], max_new_tokens=12)[0] for p in prompts]
    assert all(len(o.ids) == 12 and o.finish_reason == "length" for o in batched)


def test_stop_tokens_and_stop_sequences(stories):
    model, _ = stories
    # Greedy from BOS: 403 407 261 378 432 383 286 261 376 …
    assert generate(model, [[1]], 10, stop_token_ids=[378]) == [GenerationOutput([403, 407, 261], "stop", [378])]
    assert generate(model, [[1]], 10, stop_token_ids=[403]) == [GenerationOutput([], "stop", [403])]
    assert generate(model, [[1]], 10, stop_sequences=[[999], [286, 261]]) == [
        GenerationOutput([403, 407, 261, 378, 432, 383], "stop", [286, 261])]
    # Rows finish at different steps; the others keep going unchanged.
    out = generate(model, [[1], [1, 403, 407, 261, 378]], 6, stop_token_ids=[383])
    assert out == [GenerationOutput([403, 407, 261, 378, 432], "stop", [383]),
                   GenerationOutput([432], "stop", [383])]
    assert generate(model, [[1], [1, 2]], 0) == [GenerationOutput([], "length")] * 2


def test_sampling_is_seeded_and_top_p_narrows_to_greedy(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen3"))
    prompts = [[1, 2, 3], [4]]
    a = generate(model, prompts, 16, temperature=1.5, top_p=0.95, seed=7)
    assert a == generate(model, prompts, 16, temperature=1.5, top_p=0.95, seed=7)
    assert a != generate(model, prompts, 16, temperature=1.5, top_p=0.95, seed=8)
    greedy = generate(model, prompts, 16)
    assert a != greedy
    # top_p so small that only the most likely token survives: sampling becomes greedy
    assert generate(model, prompts, 16, temperature=1.0, top_p=1e-6, seed=3) == greedy


def test_invalid_requests_are_reported_at_once(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "llama"))
    with pytest.raises(WorkerError) as e:
        generate(model, [[1], [], [70]], max_new_tokens=-1, temperature=-1, top_p=0)
    assert e.value.code == "WORKER_INVALID_REQUEST"
    assert e.value.message == (
        "invalid generate request: prompts[1] is empty (a prompt needs at least one token, e.g. BOS); "
        "prompts[2] has token ids outside [0, 64); max_new_tokens must be >= 0, got -1; "
        "temperature must be >= 0, got -1; top_p must be in (0, 1], got 0")


def test_model_cache_reuses_and_evicts(tmp_path):
    path = write_tiny_model(tmp_path / "m", "llama")
    model = load_model(path)
    apply_lora(model, LoraConfig(r=2, alpha=4, target_modules=["q_proj"]))
    with torch.no_grad():
        for m in lora_modules(model).values():
            m.lora_B.normal_(0, 0.5)
    save_peft_adapter(model, str(tmp_path / "adapter"), path)
    cache = ModelCache(capacity=1)
    base = cache.get(path)
    assert cache.get(path) is base
    adapted = cache.get(path, str(tmp_path / "adapter"))
    assert adapted is not base and not lora_modules(adapted)  # merged for inference
    assert cache.get(path) is not base  # capacity 1: the base model was evicted
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert torch.allclose(adapted.logits(adapted(ids)), model.logits(model(ids)), atol=1e-5)


@torch.no_grad()
def dynamic_generate(model, prompts, max_new_tokens, temperature=0.0, top_p=1.0, seed=None, stop_token_ids=(),
                     stop_sequences=()):
    """The previous generation loop (growing KVCache, finished rows dropped), kept as the reference."""
    generator = torch.Generator().manual_seed(0 if seed is None else seed) if temperature > 0 else None
    B, L = len(prompts), max(len(p) for p in prompts)
    ids = torch.tensor([[0] * (L - len(p)) + p for p in prompts])
    seg = torch.tensor([[0] * (L - len(p)) + [1] * len(p) for p in prompts])
    cache = KVCache(len(model.model.layers))
    logits = model.logits(model(ids, positions_from_segments(seg), seg, cache)[:, -1])
    outputs, new_ids, active = [None] * B, [[] for _ in range(B)], list(range(B))
    next_pos = torch.tensor([len(p) for p in prompts])
    for _ in range(max_new_tokens):
        keep = []
        for row, (i, tok) in enumerate(zip(active, sample_next(logits, temperature, top_p, generator).tolist())):
            if tok in stop_token_ids:
                outputs[i] = GenerationOutput(new_ids[i], "stop", [tok])
                continue
            new_ids[i].append(tok)
            matched = next((list(s) for s in stop_sequences if new_ids[i][-len(s):] == list(s)), None)
            if matched is not None:
                outputs[i] = GenerationOutput(new_ids[i][:-len(matched)], "stop", matched)
            elif len(new_ids[i]) >= max_new_tokens:
                outputs[i] = GenerationOutput(new_ids[i], "length")
            else:
                keep.append(row)
        if not keep:
            break
        if len(keep) < len(active):
            cache.select_rows(torch.tensor(keep))
            next_pos, active = next_pos[keep], [active[r] for r in keep]
        step_ids = torch.tensor([[new_ids[i][-1]] for i in active])
        logits = model.logits(model(step_ids, next_pos[:, None], torch.ones_like(step_ids), cache)[:, -1])
        next_pos = next_pos + 1
    return outputs


PROMPTS = [[3], [7, 8, 9, 10, 11, 12], [20, 21], [5, 6, 7, 8]]


@pytest.mark.parametrize("arch,overrides", [
    ("llama", {}), ("qwen2", {}), ("qwen3", {}), ("mistral", {"sliding_window": 3}),
    ("llama", {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings": 8}),
])
def test_static_cache_gives_the_dynamic_paths_tokens(tmp_path, arch, overrides):
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    assert generate(model, PROMPTS, 12) == dynamic_generate(model, PROMPTS, 12)
    assert generate(model, PROMPTS, 12, graphs=False) == dynamic_generate(model, PROMPTS, 12)


def test_static_cache_stops_as_the_dynamic_path(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen2"))
    free = dynamic_generate(model, PROMPTS, 12)
    # Stops taken from the free-running tokens, so rows finish at different steps (and one never stops).
    stop_token, stop_seq = free[1].ids[4], free[2].ids[6:8]
    expected = dynamic_generate(model, PROMPTS, 12, stop_token_ids=[stop_token], stop_sequences=[[63, 62], stop_seq])
    assert [o.finish_reason for o in expected].count("stop") >= 2
    assert "length" in [o.finish_reason for o in expected]
    assert generate(model, PROMPTS, 12, stop_token_ids=[stop_token], stop_sequences=[[63, 62], stop_seq]) == expected


def test_seeded_sampling_equals_the_dynamic_path_and_stops_cut_it(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "llama"))
    sampled = generate(model, PROMPTS, 12, temperature=1.5, top_p=0.9, seed=7)
    assert sampled == dynamic_generate(model, PROMPTS, 12, temperature=1.5, top_p=0.9, seed=7)
    # Finished rows keep drawing, so a stop only cuts a row short: the other rows' draws do not change.
    stop = sampled[0].ids[3]
    cut = generate(model, PROMPTS, 12, temperature=1.5, top_p=0.9, seed=7, stop_token_ids=[stop])
    for full, out in zip(sampled, cut):
        if stop in full.ids:
            at = full.ids.index(stop)
            assert out == GenerationOutput(full.ids[:at], "stop", [stop])
        else:
            assert out == full


def test_generate_restores_training_mode(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "llama")).train()
    generate(model, [[1, 2]], 3)
    generate(model, [[1, 2]], 0)
    assert model.training
