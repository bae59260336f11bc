"""Reading the small JSON files users point the worker at (config.json, adapter_config.json, header.json).

Each is one object; a missing file, a file that is not JSON and a JSON value that is not an object are three
different mistakes, and each caller says in its own words which file it expected and how to get a good one.
"""

import json
from typing import Tuple

from .errors import WorkerError


def read_json_object(path: str, missing: Tuple[str, str, str], invalid: Tuple[str, str]) -> dict:
    """path -> the object it holds. missing = (code, message, fix) when there is no file; invalid = (code, fix)
    when it is not valid JSON (UTF-8) or not an object (the message names the path and the parser's reason)."""
    code, fix = invalid
    try:
        with open(path, "r", encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise WorkerError(*missing) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WorkerError(code, f"{path} is not valid JSON ({e})", fix) from None
    if not isinstance(raw, dict):
        raise WorkerError(code, f"{path} is not a JSON object (it holds a {type(raw).__name__})", fix)
    return raw
