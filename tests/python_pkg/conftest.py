"""Fixtures for the tests of the qtr Python package (installed into the venv with `pip install .`).

Environment:
  QTR_BIN     the qtr executable the package's results are compared with (default: <repo>/build/qtr)
  QTR_SHARED  the shared read-only data directory (default: <repo>/../shared)

Tests that need ../shared, the qtr executable or the default model (SmolLM2-135M-Instruct.Q4_1.gguf, fetched by
scripts/fetch_models.sh into <repo>/.cache/models) skip with a message when it is absent.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

qtr = pytest.importorskip("qtr", reason="the qtr package is not installed (pip install . at the repo root)")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def stories_path() -> Path:
    shared = Path(os.environ.get("QTR_SHARED") or (REPO_ROOT.parent / "shared"))
    path = shared / "models" / "stories260K.gguf"
    if not path.is_file():
        pytest.skip(f"../shared not found: {path} is missing")
    return path


@pytest.fixture(scope="session")
def stories(stories_path: Path) -> "qtr.Model":
    return qtr.Model(stories_path)


@pytest.fixture(scope="session")
def stories_f32(stories_path: Path) -> "qtr.Model":
    return qtr.Model(stories_path, kv_type="f32")


@pytest.fixture(scope="session")
def qtr_bin() -> Path:
    path = Path(os.environ.get("QTR_BIN") or (REPO_ROOT / "build" / "qtr"))
    if not path.is_file():
        pytest.skip(f"qtr executable not found: {path} (build it, or set QTR_BIN)")
    return path


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"default model not found: {DEFAULT_MODEL} (scripts/fetch_models.sh smollm2)")
    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def default_model(default_model_path: Path) -> "qtr.Model":
    return qtr.Model(default_model_path)


@pytest.fixture
def sigint_raises():
    """Python's own SIGINT handler (KeyboardInterrupt) for the duration of a test."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
