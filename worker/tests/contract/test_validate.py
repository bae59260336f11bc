import pytest

from tunekit_worker.contract import method_schemas
from tunekit_worker.contract.validate import check_schema, describe, validate


def problems_of(schema, value):
    return [str(p) for p in validate(schema, value)[1]]


def test_type_names_the_path_the_value_and_the_expected_type():
    assert problems_of({"type": "integer"}, "8") == ['params: got "8", expected an integer']
    assert problems_of({"type": "integer"}, 8.0) == ["params: got 8.0, expected an integer"]
    assert problems_of({"type": "integer"}, True) == ["params: got true, expected an integer"]
    assert problems_of({"type": "number"}, 3) == []
    assert problems_of({"type": "boolean"}, 1) == ["params: got 1, expected true or false"]
    assert problems_of({"type": ["boolean", "null"]}, None) == []
    assert problems_of({"type": ["boolean", "null"]}, "yes") == ['params: got "yes", expected true or false or null']
    assert problems_of({"type": "object"}, []) == ["params: got [], expected an object"]


def test_enum_and_const_compare_as_json():
    assert problems_of({"enum": ["lora", "full"]}, "qlora") == ['params: got "qlora", expected one of "lora", "full"']
    assert problems_of({"enum": [1, 2]}, True) == ["params: got true, expected one of 1, 2"]
    assert problems_of({"const": 1}, 1.0) == []
    assert problems_of({"const": False}, 0) == ["params: got 0, expected false"]


def test_numeric_bounds():
    schema = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    assert problems_of(schema, 1) == []
    assert problems_of(schema, 0) == ["params: got 0, expected a number > 0 and <= 1"]
    assert problems_of({"type": "integer", "minimum": 1}, 0) == ["params: got 0, expected an integer >= 1"]
    assert problems_of({"type": "number", "exclusiveMaximum": 1}, 1) == ["params: got 1, expected a number < 1"]
    # zod writes ±Number.MAX_SAFE_INTEGER as every integer's bounds: not worth saying.
    assert describe({"type": "integer", "minimum": 0, "maximum": 9007199254740991}) == "an integer >= 0"
    assert describe({"type": "integer", "minimum": -9007199254740991, "maximum": 9007199254740991}) == "an integer"


def test_string_length_and_pattern():
    assert problems_of({"type": "string", "minLength": 1}, "") == ['params: got "", expected a non-empty string']
    assert problems_of({"type": "string", "maxLength": 2}, "abc") == ['params: got "abc", expected a string']
    device = {"type": "string", "pattern": "^(auto|cpu|cuda|cuda:\\d+)$"}
    assert problems_of(device, "cuda:1") == []
    assert problems_of(device, "tpu") == ['params: got "tpu", expected a string matching ^(auto|cpu|cuda|cuda:\\d+)$']


def test_arrays_items_prefix_items_and_lengths():
    ids = {"type": "array", "minItems": 1, "items": {"type": "integer"}}
    assert problems_of(ids, []) == ["params: got [], expected a non-empty list, each an integer"]
    assert problems_of(ids, [1, "2", 3.5, True]) == ['params[1]: got "2", expected an integer',
                                                      "params[2]: got 3.5, expected an integer",
                                                      "params[3]: got true, expected an integer"]
    bounded = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}}
    assert problems_of(bounded, [0, 9, 10, -1]) == ["params[2]: got 10, expected an integer >= 0 and <= 9",
                                                    "params[3]: got -1, expected an integer >= 0 and <= 9"]
    assert problems_of({"type": "array", "items": {"enum": ["a"]}}, ["a", "b"]) == [
        'params[1]: got "b", expected one of "a"']
    betas = {"type": "array", "prefixItems": [{"type": "number", "minimum": 0}, {"type": "number"}], "items": False,
             "minItems": 2, "maxItems": 2}
    assert problems_of(betas, [0.9, 0.99]) == []
    assert problems_of(betas, [-1, 0.99]) == ["params[0]: got -1, expected a number >= 0"]
    assert problems_of(betas, [0.9]) == ["params: got [0.9], expected a list of 2: a number >= 0, a number"]


def test_objects_required_unknown_keys_and_nested_paths():
    schema = {"type": "object", "properties": {"model_dir": {"type": "string", "description": "A folder."},
                                               "lora": {"type": "object", "properties": {"r": {"type": "integer"}},
                                                        "additionalProperties": False}},
              "required": ["model_dir"], "additionalProperties": False}
    assert problems_of(schema, {"lora": {"r": "8", "rank": 8}, "colour": "red"}) == [
        'params.colour: unknown param (got "red"), known: model_dir, lora',
        'params.lora.r: got "8", expected an integer',
        'params.lora.rank: unknown param (got 8), known: r',
        "params.model_dir: missing, expected a string: A folder",
    ]
    assert problems_of(schema, {"model_dir": "m", "lorra": {}}) == [
        'params.lorra: unknown param (got {}), did you mean "lora"?']


def test_defaults_fill_missing_properties_recursively_without_touching_the_input():
    schema = {"type": "object", "properties": {
        "lora": {"default": {}, "type": "object", "properties": {"r": {"default": 8, "type": "integer"},
                                                                 "targets": {"default": ["q"], "type": "array"}}},
        "max_steps": {"default": None, "anyOf": [{"type": "integer"}, {"type": "null"}]}}}
    raw = {"lora": {"r": 4}}
    assert validate(schema, raw) == ({"lora": {"r": 4, "targets": ["q"]}, "max_steps": None}, [])
    assert raw == {"lora": {"r": 4}}
    filled, _ = validate(schema, {})
    filled["lora"]["targets"].append("v")  # each request gets its own copy of a default
    assert validate(schema, {})[0]["lora"]["targets"] == ["q"]


def test_any_of_takes_the_first_match_and_reports_the_branch_of_the_value_s_type():
    targets = {"anyOf": [{"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["q_proj", "v_proj"]}},
                         {"type": "string", "minLength": 1}]}
    assert problems_of(targets, "all-linear") == []
    assert problems_of(targets, ["q_proj", "qproj"]) == ['params[1]: got "qproj", expected one of "q_proj", "v_proj"']
    assert problems_of(targets, 3) == [
        'params: got 3, expected a non-empty list, each one of "q_proj", "v_proj" or a non-empty string']
    # An early_stopping-like nullable object: its defaults apply through the branch that matched.
    nullable = {"anyOf": [{"type": "object", "properties": {"patience": {"default": 3, "type": "integer"}}},
                          {"type": "null"}]}
    assert validate(nullable, {}) == ({"patience": 3}, [])
    assert validate(nullable, None) == (None, [])
    every = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}
    assert problems_of(every, 0) == ["params: got 0, expected an integer >= 1 or null"]


def test_long_values_are_cut_in_messages():
    [message] = problems_of({"type": "string"}, list(range(100)))
    assert message.startswith("params: got [0, 1, 2,") and message.endswith("…, expected a string")
    assert len(message) < 120


def test_check_schema_refuses_keywords_outside_the_subset():
    check_schema({"type": "object", "properties": {"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}})
    with pytest.raises(ValueError, match=r"#/properties/a: JSON Schema keyword 'oneOf' is not supported"):
        check_schema({"type": "object", "properties": {"a": {"oneOf": [{"type": "integer"}]}}})
    with pytest.raises(ValueError, match=r"#: unknown type 'int'"):
        check_schema({"type": "int"})


def test_the_shipped_contract_uses_only_the_subset_and_covers_every_method():
    assert sorted(method_schemas()) == ["cancel", "generate", "merge", "score", "serve_start", "submit", "train"]
