import json
import os

import pytest
import torch

from model_helper import STORIES, STORIES_MISSING, write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.generate import GenerationOutput, ModelCache, generate
from tunekit_worker.lora import LoraConfig, apply_lora, lora_modules, save_peft_adapter
from tunekit_worker.models.llama import load_model

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
