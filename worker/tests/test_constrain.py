import pytest
import torch

from model_helper import write_tiny_model
from tunekit_worker.constrain import SequenceTrie
from tunekit_worker.errors import WorkerError
from tunekit_worker.generate import GenerationOutput, generate
from tunekit_worker.models.loading import load_model
from tunekit_worker.requests import Handlers


def test_trie_allows_only_prefixes_of_the_sequences():
    trie = SequenceTrie([[5, 6, 7], [5, 9], [12], [12, 3]])
    assert trie.allowed(0, []) == [5, 12]
    a = trie.step(0, 5)
    assert trie.allowed(a, [2]) == [6, 9]
    assert trie.step(a, 12) is None
    b = trie.step(a, 9)
    assert trie.terminal[b] and trie.finished(b, [2])
    c = trie.step(0, 12)
    # [12] is complete but [12, 3] continues it: a stop token chooses [12]; without stop tokens [12] ends it.
    assert trie.allowed(c, [2]) == [3, 2]
    assert not trie.finished(c, [2])
    assert trie.finished(c, [])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_model(write_tiny_model(tmp_path_factory.mktemp("m"), "llama"))


LABELS = [[5, 6, 7], [5, 9], [12], [40, 41]]


def test_greedy_constrained_picks_the_best_allowed_token_and_ends_on_a_full_sequence(tiny):
    prompts = [[1, 2, 3], [7], [30, 31, 32, 33]]
    out = generate(tiny, prompts, max_new_tokens=8, allowed_sequences=LABELS)
    assert all(o.ids in LABELS and o.finish_reason == "stop" and o.stop_ids == [] for o in out)
    # Step by step, each token is the argmax over the ids the trie allows there.
    for prompt, o in zip(prompts, out):
        seq, node, trie = list(prompt), 0, SequenceTrie(LABELS)
        for tok in o.ids:
            with torch.no_grad():
                logits = tiny.logits(tiny(torch.tensor([seq]))[:, -1])[0]
            allowed = trie.allowed(node, [])
            assert tok == allowed[int(logits[allowed].argmax())]
            node, seq = trie.step(node, tok), seq + [tok]
    # Batched equals one at a time.
    assert out == [generate(tiny, [p], max_new_tokens=8, allowed_sequences=LABELS)[0] for p in prompts]


def test_sampled_constrained_outputs_are_always_allowed(tiny):
    prompts = [[1], [2, 3], [4, 5, 6], [9]]
    seen = set()
    for seed in range(12):
        for o in generate(tiny, prompts, max_new_tokens=8, temperature=2.0, seed=seed, allowed_sequences=LABELS):
            assert o.ids in LABELS and o.finish_reason == "stop"
            seen.add(tuple(o.ids))
    assert len(seen) > 1  # sampling does reach different labels


def test_a_stop_token_chooses_the_shorter_of_two_nested_sequences(tiny):
    nested = [[12], [12, 3]]
    unconstrained_stop = generate(tiny, [[1, 2]], max_new_tokens=4, stop_token_ids=[2], allowed_sequences=nested)[0]
    assert unconstrained_stop in (GenerationOutput([12], "stop", [2]), GenerationOutput([12, 3], "stop", []))
    assert generate(tiny, [[1, 2]], max_new_tokens=4, allowed_sequences=nested) == [GenerationOutput([12], "stop")]


def test_max_new_tokens_shorter_than_the_label_is_length(tiny):
    out = generate(tiny, [[1]], max_new_tokens=1, allowed_sequences=[[5, 6, 7]])
    assert out == [GenerationOutput([5], "length")]


def test_invalid_allowed_sequences_are_reported(tiny):
    with pytest.raises(WorkerError) as e:
        generate(tiny, [[1]], max_new_tokens=4, allowed_sequences=[[5], [], [64]])
    assert e.value.code == "WORKER_INVALID_REQUEST"
    assert e.value.message == ("invalid generate request: allowed_sequences[1] is empty; "
                               "allowed_sequences[2] has token ids outside [0, 64)")
    with pytest.raises(WorkerError) as e:
        generate(tiny, [[1]], max_new_tokens=4, allowed_sequences=[])
    assert e.value.message.startswith("invalid generate request: allowed_sequences is empty")


def test_the_generate_request_passes_allowed_sequences(tmp_path):
    path = write_tiny_model(tmp_path, "llama")
    result = Handlers().generate({"model_dir": path, "prompts": [[1, 2], [3]], "max_new_tokens": 6, "device": "cpu",
                                  "allowed_sequences": LABELS}, lambda e: None)
    assert all(o["ids"] in LABELS and o["finish_reason"] == "stop" for o in result["outputs"])
    with pytest.raises(WorkerError) as e:
        Handlers().generate({"model_dir": path, "prompts": [[1]], "allowed_sequences": [["a"]]}, lambda e: None)
    assert e.value.code == "WORKER_BAD_PARAMS"


needs_cuda_graphs = pytest.mark.skipif(not torch.cuda.is_available() or not hasattr(torch.cuda, "CUDAGraph")
                                       or int(torch.__version__.split(".")[0]) < 2,
                                       reason="needs CUDA and torch >= 2 (the GPU machine)")


@needs_cuda_graphs
def test_constrained_decoding_on_the_cuda_graph_path_equals_eager(tmp_path):
    from tunekit_worker.models.decode_step import graphs_supported
    model = load_model(write_tiny_model(tmp_path, "llama"), device="cuda")
    assert graphs_supported(model)
    prompts = [[1, 2, 3], [7], [30, 31, 32, 33]]
    labels = [[5, 6, 7, 8], [5, 9], [12, 13, 14], [40, 41]]
    graphed = generate(model, prompts, max_new_tokens=8, allowed_sequences=labels, graphs=True)
    runners = model.__dict__.get("_decode_runners", {})
    assert any(r.graph is not None for r in runners.values()), "the constrained request did not replay a CUDA graph"
    eager = generate(model, prompts, max_new_tokens=8, allowed_sequences=labels, graphs=False)
    assert graphed == eager
    assert all(o.ids in labels and o.finish_reason == "stop" for o in graphed)
    sampled = generate(model, prompts, max_new_tokens=8, temperature=1.5, seed=3, allowed_sequences=labels)
    assert all(o.ids in labels for o in sampled)
