"""The inference methods' params go through the contract: defaults from the schema, every problem at once."""

import pytest

from model_helper import write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.requests import Handlers


def bad(call, params) -> str:
    with pytest.raises(WorkerError) as e:
        call(params, lambda event: None)
    assert e.value.code == "WORKER_BAD_PARAMS"
    return e.value.message


def test_generate_takes_the_contract_s_defaults(tmp_path):
    model_dir = write_tiny_model(tmp_path / "m", "llama")
    result = Handlers().generate({"model_dir": model_dir, "prompts": [[1, 2, 3]], "device": "cpu"}, None)
    # max_new_tokens 64 by default, greedy (temperature 0), no stop tokens: the full 64 new tokens.
    assert (result["prompt_tokens"], result["completion_tokens"], result["outputs"][0]["finish_reason"]) == \
        (3, 64, "length")


def test_generate_reports_every_bad_param_at_once():
    assert bad(Handlers().generate, {"model_dir": "", "prompts": [[1, "2"]], "temperature": -1, "top_k": 5}) == (
        'invalid generate params: params.model_dir: got "", expected a non-empty string; params.prompts[0][1]: '
        'got "2", expected an integer; params.temperature: got -1, expected a number >= 0; params.top_k: unknown '
        'param (got 5), did you mean "top_p"?')


def test_score_needs_sequences():
    assert bad(Handlers().score, {"model_dir": "m"}) == (
        "invalid score params: params.sequences: missing, expected a non-empty list, each a list, each an integer: "
        "Token ids per sequence")


def test_float16_on_the_cpu_is_refused():
    assert bad(Handlers().score, {"model_dir": "m", "sequences": [[1]], "device": "cpu", "dtype": "float16"}) == \
        'params.dtype: float16 is not supported on the CPU (got device "cpu")'


def test_merge_dtype_is_checked_before_any_file_is_read():
    assert bad(Handlers().merge, {"model_dir": "m", "adapter_dir": "a", "output_dir": "o", "dtype": "int8"}) == (
        'invalid merge params: params.dtype: got "int8", expected one of "float32", "bfloat16", "float16" or null')
