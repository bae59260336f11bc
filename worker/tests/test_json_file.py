import json

import pytest

from tunekit_worker.errors import WorkerError
from tunekit_worker.json_file import read_json_object
from tunekit_worker.lora import load_peft_adapter
from tunekit_worker.models.loading import load_model
from model_helper import write_tiny_model

MISSING = ("X_MISSING", "no x.json here", "make one")
INVALID = ("X_INVALID", "fix x.json")


def _error(path):
    with pytest.raises(WorkerError) as e:
        read_json_object(str(path), MISSING, INVALID)
    return (e.value.code, e.value.message, e.value.fix)


def test_reads_an_object(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"a": [1, 2]}))
    assert read_json_object(str(tmp_path / "x.json"), MISSING, INVALID) == {"a": [1, 2]}


def test_missing_file(tmp_path):
    assert _error(tmp_path / "x.json") == MISSING


def test_not_json(tmp_path):
    (tmp_path / "x.json").write_text("{nope")
    path = tmp_path / "x.json"
    assert _error(path) == ("X_INVALID", f"{path} is not valid JSON (Expecting property name enclosed in double "
                                         "quotes: line 1 column 2 (char 1))", "fix x.json")


def test_not_utf8(tmp_path):
    (tmp_path / "x.json").write_bytes(b'{"a": "\xff"}')
    code, message, _ = _error(tmp_path / "x.json")
    assert (code, message.startswith(f"{tmp_path / 'x.json'} is not valid JSON (")) == ("X_INVALID", True)


def test_not_an_object(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    assert _error(tmp_path / "x.json") == ("X_INVALID", f"{tmp_path / 'x.json'} is not a JSON object (it holds a "
                                           "list)", "fix x.json")


def test_a_damaged_adapter_config_is_a_clear_error(tmp_path):
    model = load_model(write_tiny_model(tmp_path / "m", "llama"))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "adapter_config.json").write_text('{"r": 8,')
    with pytest.raises(WorkerError) as e:
        load_peft_adapter(model, str(tmp_path / "a"))
    assert (e.value.code, e.value.fix) == ("WORKER_INVALID_CONFIG", "re-save the adapter: its adapter_config.json is "
                                           "damaged")
