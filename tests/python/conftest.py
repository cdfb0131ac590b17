"""Shared fixtures for qtr's Python test suite.

Environment:
  QTR_BIN     path of the qtr executable (default: <repo>/build/qtr)
  QTR_SHARED  path of the shared read-only data directory (default: <repo>/../shared)

Tests that need the binary skip when it is missing; tests that need ../shared skip with
"../shared not found: ..." when it is absent (it is never part of the repository).
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent.parent

# Every qtr invocation in this suite is small; anything slower than this is a hang.
QTR_TIMEOUT_S = 60


def resolve_qtr_bin() -> Path:
    return Path(os.environ.get("QTR_BIN") or (REPO_ROOT / "build" / "qtr"))


def resolve_shared_dir() -> Path:
    return Path(os.environ.get("QTR_SHARED") or (REPO_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under the shared directory, or pytest.skip when it (or the directory) is absent."""
    root = resolve_shared_dir()
    if not root.is_dir():
        pytest.skip(f"../shared not found: {root} (set QTR_SHARED to the shared data directory)")
    p = root.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared not found: {p} is missing")
    return p


@dataclass
class QtrResult:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    def describe(self) -> str:
        return (f"qtr {' '.join(self.args)}\n  rc={self.returncode}\n"
                f"  stdout={self.stdout[:2000]!r}\n  stderr={self.stderr[:2000]!r}")

    def check(self) -> "QtrResult":
        """Asserts a zero exit and returns self."""
        assert self.returncode == 0, "qtr failed:\n" + self.describe()
        return self


class QtrRunner:
    """Runs the qtr binary and captures its output as bytes."""

    def __init__(self, binary: Path):
        self.binary = binary

    def __call__(self, *args: object, input: bytes | None = None, timeout: float = QTR_TIMEOUT_S,
                 env: dict[str, str] | None = None) -> QtrResult:
        argv = [str(a) for a in args]
        merged = {**os.environ, **env} if env else None  # extra variables on top of the caller's environment
        proc = subprocess.run([str(self.binary), *argv], input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=merged)
        return QtrResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: object, **kw) -> QtrResult:
        return self(*args, **kw).check()


@pytest.fixture(scope="session")
def qtr_bin() -> Path:
    p = resolve_qtr_bin()
    if not p.is_file() or not os.access(p, os.X_OK):
        pytest.skip(f"qtr binary not found at {p}: build it with `ninja -C build` or set QTR_BIN")
    return p


@pytest.fixture(scope="session")
def qtr(qtr_bin: Path) -> QtrRunner:
    """qtr(*args) -> QtrResult(returncode, stdout, stderr); qtr.ok(*args) also asserts success."""
    return QtrRunner(qtr_bin)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    root = resolve_shared_dir()
    if not root.is_dir():
        pytest.skip(f"../shared not found: {root} (set QTR_SHARED to the shared data directory)")
    return root


@pytest.fixture(scope="session")
def stories_model(shared_dir: Path) -> Path:
    return shared_path("models", "stories260K.gguf")


@pytest.fixture(scope="session")
def stories_expected(shared_dir: Path) -> bytes:
    return shared_path("models", "stories260K.expected.txt").read_bytes()


@pytest.fixture(scope="session")
def llama2_spm(shared_dir: Path) -> Path:
    return shared_path("tokenizers", "llama2.tokenizer.model")


@pytest.fixture(scope="session")
def llama2_vocab_gguf(qtr: QtrRunner, llama2_spm: Path, tmp_path_factory) -> Path:
    """A vocabulary-only GGUF written by `qtr vocab` from the Llama-2 SentencePiece model."""
    out = tmp_path_factory.mktemp("vocab") / "llama2-vocab.gguf"
    qtr.ok("vocab", "--spm", llama2_spm, "--out", out)
    assert out.is_file() and out.stat().st_size > 0
    return out


def parse_ids(text: str) -> list[int]:
    return [int(t) for t in text.split()]


def ids_arg(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


# llama.cpp's tokenizer test vectors (../shared/tokenizer-tests/ggml-vocab-<name>.gguf.{inp,out}).
VOCAB_TEST_SEPARATOR = b"\n__ggml_vocab_test__\n"
N_VOCAB_TESTS = 46


def vector_slug(text: bytes) -> str:
    """A short ASCII name for a test text, for test ids."""
    s = "".join(c if c.isascii() and c.isalnum() else "_" for c in text.decode("utf-8", "replace")[:16])
    return s.strip("_") or "blank"


def load_vocab_vectors(name: str) -> list[tuple[bytes, list[int]]]:
    """(text, expected ids) pairs of one vector file; the element after the last separator is not a test."""
    root = resolve_shared_dir() / "tokenizer-tests"
    inp = (root / f"ggml-vocab-{name}.gguf.inp").read_bytes()
    out = (root / f"ggml-vocab-{name}.gguf.out").read_text(encoding="utf-8")
    texts = inp.split(VOCAB_TEST_SEPARATOR)
    assert texts[-1] == b"", "the .inp file should end with a separator"
    texts = texts[:-1]
    expected = out.split("\n")[:len(texts)]
    assert len(texts) == N_VOCAB_TESTS and len(expected) == N_VOCAB_TESTS, (len(texts), len(expected))
    return [(t, parse_ids(e)) for t, e in zip(texts, expected)]
