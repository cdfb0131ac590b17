"""The README's Python example works as written (with the default model; skipped when it is not fetched)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
SMOLLM2 = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def default_model():
    if not SMOLLM2.is_file():
        pytest.skip(f"default model not fetched: {SMOLLM2} (run scripts/fetch_models.sh)")
    return SMOLLM2


def test_python_example(default_model, tmp_path):
    section = README.split("## From Python\n", 1)[1].split("\n## ", 1)[0]
    source = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(source.strip().splitlines()) <= 12
    script = tmp_path / "example.py"
    script.write_text(source)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "red" in r.stdout and "Paris" in r.stdout, r.stdout


