"""The README's C example works as written (with the default model; skipped when it is not fetched). The Python
example is checked in tests/python_pkg/test_readme_example.py, where the package is installed."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import REPO_ROOT, resolve_qtr_bin

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
SMOLLM2 = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def block(heading: str, language: str) -> str:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert m, f"no {language} block under '{heading}'"
    return m.group(1)


@pytest.fixture(scope="module")
def default_model():
    if not SMOLLM2.is_file():
        pytest.skip(f"default model not fetched: {SMOLLM2} (run scripts/fetch_models.sh)")
    return SMOLLM2


def test_c_example(default_model, tmp_path):
    build = resolve_qtr_bin().parent
    if not (build / "libqtr.so").exists():
        pytest.skip(f"libqtr.so not built in {build}")
    source = block("From C", "c")
    assert len([l for l in source.splitlines() if l.strip()]) <= 18
    (tmp_path / "hello.c").write_text(source)
    cc = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "hello.c", f"-I{REPO_ROOT / 'include'}", f"-L{build}",
          "-lqtr", "-o", "hello"]
    libs = subprocess.run(["ldd", str(build / "libqtr.so")], capture_output=True, text=True).stdout
    if "libasan" in libs:  # the sanitizer build's library needs its runtime first in the program
        cc.append("-fsanitize=address,undefined")
    r = subprocess.run(cc, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    env = {**os.environ, "LD_LIBRARY_PATH": str(build)}
    r = subprocess.run(["./hello", str(default_model)], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "red" in r.stdout, r.stdout
