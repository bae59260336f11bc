"""The TS↔Python contract: request params validated against the schema TypeScript generates.

worker-params.schema.json is generated from the zod schemas in src/train/worker-params.ts
(`npx tsx scripts/generate-contract.ts`); it holds every param's constraint and default, so the worker has none
of its own. model-support.json is the worker's list of architectures and LoRA targets, which TypeScript reads.
"""

import functools
import json
import os

from ..errors import WorkerError
from .validate import check_schema, validate

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILE = os.path.join(HERE, "worker-params.schema.json")
MODEL_SUPPORT_FILE = os.path.join(HERE, "model-support.json")


def _read(path: str) -> dict:
    # Shipped with the package, never user input: a missing or damaged file is a broken install.
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise WorkerError("WORKER_INTERNAL", f"cannot read the worker contract {path}: {e}",
                          "reinstall tunekit: the npm package ships worker/tunekit_worker/contract/") from None


@functools.lru_cache(maxsize=None)
def method_schemas() -> dict:
    """{method: JSON Schema of its params}, checked once to use only what validate.py implements."""
    methods = _read(SCHEMA_FILE)["methods"]
    for name, schema in methods.items():
        check_schema(schema, f"{SCHEMA_FILE}#/methods/{name}")
    return methods


@functools.lru_cache(maxsize=None)
def model_support() -> dict:
    return _read(MODEL_SUPPORT_FILE)


def check_params(method: str, raw) -> tuple:
    """(the params with every default filled in, the schema's problems as text)."""
    if not isinstance(raw, dict):
        raise WorkerError("WORKER_BAD_PARAMS", f"{method} params must be an object, got {type(raw).__name__}",
                          "send params as a JSON object (docs/worker-protocol.md)")
    filled, problems = validate(method_schemas()[method], raw)
    return filled, [str(p) for p in problems]


def resolve_params(method: str, raw) -> dict:
    """The request's params with every default filled in, or WORKER_BAD_PARAMS listing every problem."""
    filled, problems = check_params(method, raw)
    if problems:
        raise bad_params(method, problems)
    return filled


def bad_params(method: str, problems) -> WorkerError:
    return WorkerError("WORKER_BAD_PARAMS", f"invalid {method} params: {'; '.join(problems)}",
                       f"correct these params (docs/worker-protocol.md lists every {method} param; the contract is "
                       f"worker/tunekit_worker/contract/worker-params.schema.json)")
