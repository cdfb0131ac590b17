"""qtr's scalar reference quantizers, bit for bit against gguf.quants and GGML's own reference quantizers.

qtr's side runs through qtr_quant_tool (tests/tools/quant_tool.cpp), found next to the qtr binary (QTR_BIN);
tests skip when it is missing.

  (a) quantize == gguf.quants.quantize, byte for byte, for the formats gguf.quants can quantize
      (F32, F16 via numpy astype(float16), BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0);
  (b) quantize == GGML's ggml_quantize_chunk (no importance matrix, i.e. quantize_row_*_ref) for every format,
      including Q4_K / Q5_K / Q6_K, which gguf.quants cannot quantize. GGML is an optional reference: its shared
      library libggml-base.so is looked up at $QTR_GGML_LIB, then in <repo>/.cache/llama.cpp/build/bin/; the tests
      skip when it is absent. On x86-64 also for blocks holding inf / NaN;
  (c) dequantize == gguf.quants.dequantize, bitwise float32, for every format, on blocks quantized by qtr and on
      random block bytes.

The inputs are deterministic: several distributions, 1 to 8 rows of 256 elements each.
"""
from __future__ import annotations

import ctypes
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gguf
from gguf import GGMLQuantizationType as Q

from conftest import REPO_ROOT, resolve_qtr_bin

ROW = 256
DEFAULT_GGML_LIB = REPO_ROOT / ".cache" / "llama.cpp" / "build" / "bin" / "libggml-base.so"

GGUF_QUANTIZABLE = [Q.F32, Q.F16, Q.BF16, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]
K_QUANTS = [Q.Q4_K, Q.Q5_K, Q.Q6_K]
ALL_FORMATS = GGUF_QUANTIZABLE + K_QUANTS


# ---- qtr_quant_tool ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def quant_tool() -> Path:
    p = resolve_qtr_bin().parent / "qtr_quant_tool"
    if not p.is_file() or not os.access(p, os.X_OK):
        pytest.skip(f"qtr_quant_tool not found at {p}: build it with `ninja -C build` (or set QTR_BIN)")
    return p


def run_tool(tool: Path, command: str, qtype: Q, data: bytes, tmp_path: Path) -> bytes:
    src, dst = tmp_path / f"{command}.in", tmp_path / f"{command}.out"
    src.write_bytes(data)
    proc = subprocess.run([str(tool), command, qtype.name.lower(), str(src), str(dst)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, f"qtr_quant_tool {command} {qtype.name} failed: {proc.stderr.decode(errors='replace')}"
    return dst.read_bytes()


def qtr_quantize(tool: Path, qtype: Q, arr: np.ndarray, tmp_path: Path) -> bytes:
    return run_tool(tool, "quantize", qtype, np.ascontiguousarray(arr, dtype="<f4").tobytes(), tmp_path)


def qtr_dequantize(tool: Path, qtype: Q, blocks: bytes, tmp_path: Path) -> np.ndarray:
    return np.frombuffer(run_tool(tool, "dequantize", qtype, blocks, tmp_path), dtype="<f4")


# ---- inputs -----------------------------------------------------------------------------------------------------

def make_cases() -> dict[str, np.ndarray]:
    """Named float32 arrays of shape (rows, 256), rows in 1..8, from fixed seeds."""
    rng = np.random.default_rng(20240611)
    f32 = np.float32
    cases: dict[str, np.ndarray] = {}
    cases["normal"] = rng.standard_normal((4, ROW)).astype(f32)
    cases["uniform"] = rng.uniform(-1.0, 1.0, (3, ROW)).astype(f32)
    x = rng.standard_normal((8, ROW)).astype(f32)
    hits = rng.random((8, ROW)) < 0.01
    x[hits] *= f32(150.0)  # a few large outliers
    x[2, 77] = f32(-5.0e4)  # one huge outlier
    cases["outliers"] = x
    x = rng.standard_normal((5, ROW)).astype(f32)
    x[rng.random((5, ROW)) < 0.3] = 0.0  # exact zeros scattered
    x[1, 32:64] = 0.0  # one all-zero 32-block
    x[3, :] = 0.0  # one all-zero super-block
    cases["zeros"] = x
    cases["negative"] = -rng.uniform(0.5, 2.0, (2, ROW)).astype(f32)
    cases["positive"] = rng.uniform(0.5, 2.0, (1, ROW)).astype(f32)
    scales = (10.0 ** np.arange(-3, 4)).reshape(-1, 1)  # one row per decade, 1e-3 .. 1e3
    cases["decades"] = (rng.standard_normal((7, ROW)) * scales).astype(f32)
    cases["tiny"] = (rng.standard_normal((2, ROW)) * 1e-6).astype(f32)  # fp16 scales become subnormal
    cases["heavy-tailed"] = (rng.standard_normal((3, ROW)) ** 3).astype(f32)
    x = np.full((2, ROW), 0.75, dtype=f32)
    x[1] = -3.5
    cases["constant"] = x
    return cases


CASES = make_cases()


def extreme_case() -> np.ndarray:
    """Finite inputs at the edges of float32, for the GGML comparison: float subnormals, values near FLT_MAX
    (block ranges overflow to inf), values whose fp16 scale overflows, and a block whose scale underflows."""
    rng = np.random.default_rng(7)
    f32 = np.float32
    x = rng.standard_normal((6, ROW)).astype(f32)
    x[0] *= f32(1e-41)  # float subnormals
    x[1] *= f32(1e37)  # (max - min) and sums overflow
    x[1, :8] = np.array([3.4e38, -3.4e38, 3.0e38, 1.0, -1.0, 0.0, 2e38, -1e38], dtype=f32)
    x[2] *= f32(1e5)  # fp16 scales overflow to inf
    x[3, :] = 0.0
    x[3, 5] = f32(1e-44)  # a lone denormal: the scale underflows, 1/d is inf
    x[3, 40] = f32(-3e-39)
    x[4] = np.float32(1e-30) * np.sign(x[4])  # tiny constant magnitude
    x[5] *= f32(1e-20)
    return x


def concat(cases: dict[str, np.ndarray]) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """All cases stacked into one (rows, 256) array, and each case's row span."""
    spans, start = [], 0
    for name, arr in cases.items():
        spans.append((name, start, start + arr.shape[0]))
        start += arr.shape[0]
    return np.concatenate(list(cases.values()), axis=0), spans


def first_difference(a: bytes, b: bytes, block_bytes: int) -> str:
    if len(a) != len(b):
        return f"sizes differ: {len(a)} vs {len(b)}"
    diff = np.flatnonzero(np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8))
    if diff.size == 0:
        return "identical"
    i = int(diff[0])
    blk = i // block_bytes
    sl = slice(blk * block_bytes, (blk + 1) * block_bytes)
    return (f"{diff.size} bytes differ; first at byte {i} (block {blk}, offset {i % block_bytes})\n"
            f"  qtr:       {a[sl].hex()}\n  reference: {b[sl].hex()}")


def block_bytes(qtype: Q) -> int:
    return gguf.GGML_QUANT_SIZES[qtype][1]


def bytes_per_row(qtype: Q) -> int:
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    return ROW // block_size * type_size


# ---- (a) quantize vs gguf.quants --------------------------------------------------------------------------------

def gguf_quantize(arr: np.ndarray, qtype: Q) -> bytes:
    if qtype == Q.F16:
        return arr.astype(np.float16).tobytes()
    return np.ascontiguousarray(gguf.quants.quantize(arr, qtype)).tobytes()


@pytest.mark.parametrize("qtype", GGUF_QUANTIZABLE, ids=lambda t: t.name)
def test_quantize_matches_gguf(quant_tool, qtype, tmp_path):
    data, spans = concat(CASES)
    ours = qtr_quantize(quant_tool, qtype, data, tmp_path)
    rb = bytes_per_row(qtype)
    assert len(ours) == data.shape[0] * rb
    for name, r0, r1 in spans:
        ref = gguf_quantize(data[r0:r1], qtype)
        mine = ours[r0 * rb:r1 * rb]
        assert mine == ref, f"{qtype.name}, case '{name}': " + first_difference(mine, ref, block_bytes(qtype))


# ---- (b) quantize vs GGML's reference quantizers ----------------------------------------------------------------

@pytest.fixture(scope="session")
def ggml_quantize():
    """ggml_quantize_chunk from libggml-base.so, as f(qtype, (rows, n) float32 array) -> bytes; skips if absent."""
    path = Path(os.environ.get("QTR_GGML_LIB") or DEFAULT_GGML_LIB)
    if not path.is_file():
        pytest.skip(f"GGML reference library not found at {path} (optional: build llama.cpp's ggml-base there "
                    f"or set QTR_GGML_LIB to a libggml-base.so)")
    try:
        lib = ctypes.CDLL(str(path))
        fn = lib.ggml_quantize_chunk
    except (OSError, AttributeError) as e:
        pytest.skip(f"GGML reference library at {path} is unusable: {e}")
    # size_t ggml_quantize_chunk(enum ggml_type type, const float * src, void * dst, int64_t start,
    #                            int64_t nrows, int64_t n_per_row, const float * imatrix)
    fn.restype = ctypes.c_size_t
    fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_void_p]
    init = getattr(lib, "ggml_quantize_init", None)
    if init is not None:
        init.restype = None
        init.argtypes = [ctypes.c_int]

    def quantize(qtype: Q, arr: np.ndarray) -> bytes:
        src = np.ascontiguousarray(arr, dtype=np.float32)
        rows, n = src.shape
        dst = np.zeros(rows * bytes_per_row(qtype), dtype=np.uint8)
        if init is not None:
            init(int(qtype))  # a no-op for these formats; ggml_quantize_chunk calls it anyway
        written = fn(int(qtype), src.ctypes.data, dst.ctypes.data, 0, rows, n, None)
        assert written == dst.size, f"ggml_quantize_chunk({qtype.name}) wrote {written} bytes, expected {dst.size}"
        return dst.tobytes()

    return quantize


@pytest.mark.parametrize("qtype", ALL_FORMATS, ids=lambda t: t.name)
def test_quantize_matches_ggml(quant_tool, ggml_quantize, qtype, tmp_path):
    cases = dict(CASES)
    cases["extreme"] = extreme_case()
    data, spans = concat(cases)
    ours = qtr_quantize(quant_tool, qtype, data, tmp_path)
    rb = bytes_per_row(qtype)
    for name, r0, r1 in spans:
        ref = ggml_quantize(qtype, data[r0:r1])
        mine = ours[r0 * rb:r1 * rb]
        assert mine == ref, f"{qtype.name}, case '{name}': " + first_difference(mine, ref, block_bytes(qtype))


def non_finite_case() -> np.ndarray:
    """Blocks holding inf / NaN. C leaves GGML's float -> int8 casts undefined here; qtr reproduces what GGML's
    x86-64 gcc build does (cvttss2si, low byte), so this comparison is meaningful on x86-64 only."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, ROW)).astype(np.float32)
    x[0, 3] = np.inf
    x[1, 100] = -np.inf
    x[2, 7] = np.nan
    x[3, :] = np.nan
    x[4, 5], x[4, 6] = np.inf, -np.inf
    return x


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="GGML's casts of non-finite values are platform-specific; qtr follows x86-64")
@pytest.mark.parametrize("qtype", ALL_FORMATS, ids=lambda t: t.name)
def test_quantize_matches_ggml_on_non_finite_input(quant_tool, ggml_quantize, qtype, tmp_path):
    x = non_finite_case()
    ours = qtr_quantize(quant_tool, qtype, x, tmp_path)
    rb = bytes_per_row(qtype)
    for r in range(x.shape[0]):
        ref = ggml_quantize(qtype, x[r:r + 1])
        mine = ours[r * rb:(r + 1) * rb]
        assert mine == ref, f"{qtype.name}, non-finite row {r}: " + first_difference(mine, ref, block_bytes(qtype))


# ---- (c) dequantize vs gguf.quants ------------------------------------------------------------------------------

def random_block_bytes(qtype: Q, rows: int, seed: int) -> bytes:
    """Random bytes for `rows` rows of `qtype` blocks, with every fp16 scale field set to a finite half."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    rng = np.random.default_rng(seed)
    n_blocks = rows * (ROW // block_size)
    if qtype in (Q.F32, Q.F16, Q.BF16):  # plain values: random finite numbers
        vals = (rng.standard_normal(n_blocks) * 10.0 ** rng.integers(-6, 5, n_blocks)).astype(np.float32)
        return gguf_quantize(vals.reshape(rows, ROW), qtype)
    blocks = rng.integers(0, 256, (n_blocks, type_size), dtype=np.uint8)
    fp16_fields = {Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
                   Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}[qtype]
    for off in fp16_fields:
        halves = (rng.standard_normal(n_blocks) * 10.0 ** rng.integers(-7, 3, n_blocks)).astype(np.float16)
        blocks[:, off:off + 2] = halves.view(np.uint8).reshape(n_blocks, 2)
    return blocks.tobytes()


def gguf_dequantize(blocks: bytes, qtype: Q, rows: int) -> np.ndarray:
    raw = np.frombuffer(blocks, dtype=np.uint8).reshape(rows, -1)
    return np.ascontiguousarray(gguf.quants.dequantize(raw, qtype), dtype=np.float32).reshape(-1)


@pytest.mark.parametrize("qtype", ALL_FORMATS, ids=lambda t: t.name)
def test_dequantize_matches_gguf(quant_tool, qtype, tmp_path):
    data, _ = concat(CASES)
    rows = data.shape[0]
    inputs = {"quantized by qtr": qtr_quantize(quant_tool, qtype, data, tmp_path),
              "random block bytes": random_block_bytes(qtype, 8, seed=int(qtype))}
    for what, blocks in inputs.items():
        n_rows = len(blocks) // bytes_per_row(qtype)
        assert n_rows in (rows, 8)
        ours = qtr_dequantize(quant_tool, qtype, blocks, tmp_path)
        ref = gguf_dequantize(blocks, qtype, n_rows)
        assert ours.shape == ref.shape
        bad = np.flatnonzero(ours.view(np.uint32) != ref.view(np.uint32))
        assert bad.size == 0, (f"{qtype.name} ({what}): {bad.size} floats differ; first at {bad[0]}: "
                               f"qtr {ours[bad[0]]!r} vs gguf {ref[bad[0]]!r}")


def test_tool_rejects_a_partial_block(quant_tool, tmp_path):
    src = tmp_path / "x.f32"
    src.write_bytes(np.zeros(33, dtype=np.float32).tobytes())
    proc = subprocess.run([str(quant_tool), "quantize", "q4_0", str(src), str(tmp_path / "out")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 1
    assert b"not a multiple" in proc.stderr and b"Q4_0" in proc.stderr
