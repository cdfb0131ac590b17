"""Files written by other tools, read by `qtr inspect`:

* GGUF written by the `gguf` package's GGUFWriter: metadata of every value type, arrays, F32/F16 tensors;
* safetensors written by `safetensors.numpy.save_file` (single file, directory, sharded index).

These tests need no ../shared data.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import gguf
from gguf import GGUFValueType as T

# ---------------------------------------------------------------------------------------------------------------
# parsing `qtr inspect` output (format: tools/qtr/cmd_inspect.cpp)


@dataclass
class GgufListing:
    version: int
    alignment: int
    data_offset: int
    metadata: list[tuple[str, str, str]] = field(default_factory=list)   # (key, type, shown value)
    tensors: dict[str, dict] = field(default_factory=dict)
    tensor_order: list[str] = field(default_factory=list)
    total_bytes: int | None = None

    def meta(self, key: str) -> tuple[str, str]:
        for k, t, v in self.metadata:
            if k == key:
                return t, v
        raise KeyError(f"qtr inspect does not list {key}")


def parse_gguf_listing(out: str) -> GgufListing:
    m = re.search(r"^format: GGUF v(\d+), alignment (\d+), data at offset (\d+)$", out, re.M)
    assert m, out
    listing = GgufListing(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    section = None
    n_meta = n_tensors = None
    for line in out.splitlines():
        if (h := re.fullmatch(r"metadata \((\d+)\):", line)):
            section, n_meta = "meta", int(h.group(1))
            continue
        if (h := re.fullmatch(r"tensors \((\d+)\):", line)):
            section, n_tensors = "tensors", int(h.group(1))
            continue
        if not line.strip():
            section = None if section == "meta" else section
            continue
        if section == "meta":
            mm = re.fullmatch(r"  (\S+) +(\S+) +(.*)", line)
            assert mm, f"unparsable metadata line {line!r}"
            listing.metadata.append(mm.groups())
        elif section == "tensors":
            if (tt := re.fullmatch(r"  total (\d+) bytes", line)):
                listing.total_bytes = int(tt.group(1))
                continue
            tm = re.fullmatch(r"  (\S+) +(\S+) +\[([0-9, ]*)\] +(\d+) +(\d+)", line)
            if tm is None:
                assert line.split() == ["name", "type", "shape", "offset", "bytes"], f"unparsable {line!r}"
                continue
            name, ttype, shape, offset, nbytes = tm.groups()
            listing.tensors[name] = {"type": ttype, "shape": [int(s) for s in shape.split(",") if s.strip()],
                                     "offset": int(offset), "bytes": int(nbytes)}
            listing.tensor_order.append(name)
    assert n_meta == len(listing.metadata), (n_meta, listing.metadata)
    if n_tensors is not None:
        assert n_tensors == len(listing.tensors)
    return listing


# ---------------------------------------------------------------------------------------------------------------
# the GGUF under test: (key, value type, value, element type for arrays)


def shown_scalar(vtype: T, value) -> str:
    """How qtr shows a metadata value: decimal integers, %.9g floats, true/false, quoted escaped strings."""
    if vtype == T.STRING:
        return '"' + value.replace('"', '\\"').replace("\n", "\\n") + '"'
    if vtype == T.BOOL:
        return "true" if value else "false"
    if vtype == T.FLOAT32:
        return "%.9g" % float(np.float32(value))
    if vtype == T.FLOAT64:
        return "%.9g" % value
    return str(int(value))


TYPE_NAMES = {T.UINT8: "u8", T.INT8: "i8", T.UINT16: "u16", T.INT16: "i16", T.UINT32: "u32", T.INT32: "i32",
              T.FLOAT32: "f32", T.BOOL: "bool", T.STRING: "string", T.UINT64: "u64", T.INT64: "i64",
              T.FLOAT64: "f64"}

SCALARS = [
    ("test.u8", T.UINT8, 200),
    ("test.u8_max", T.UINT8, 255),
    ("test.i8", T.INT8, -100),
    ("test.i8_min", T.INT8, -128),
    ("test.u16", T.UINT16, 60000),
    ("test.i16", T.INT16, -30000),
    ("test.u32", T.UINT32, 4_000_000_000),
    ("test.i32", T.INT32, -2_000_000_000),
    ("test.f32", T.FLOAT32, 0.1),
    ("test.f32_neg", T.FLOAT32, -1.5e-7),
    ("test.bool_true", T.BOOL, True),
    ("test.bool_false", T.BOOL, False),
    ("test.string", T.STRING, 'he said "hi"\nthen: ünïcödé 🦙'),
    ("test.string_empty", T.STRING, ""),
    ("test.u64", T.UINT64, 2**64 - 1),
    ("test.i64", T.INT64, -2**63),
    ("test.f64", T.FLOAT64, 3.141592653589793),
    ("test.f64_big", T.FLOAT64, -1.25e300),
]

ARRAYS = [
    ("test.arr_i32", T.INT32, [1, -2, 3]),
    ("test.arr_u8", T.UINT8, [0, 7, 255]),
    ("test.arr_i16", T.INT16, [-32768, 32767]),
    ("test.arr_u32", T.UINT32, [0, 4294967295]),
    ("test.arr_u64", T.UINT64, [2**64 - 1, 1]),
    ("test.arr_i64", T.INT64, [-2**63, 2**62]),
    ("test.arr_f32", T.FLOAT32, [0.5, 1.25, -2.0, 0.1]),
    ("test.arr_f64", T.FLOAT64, [1e300, -1e-300, 2.5]),
    ("test.arr_bool", T.BOOL, [True, False, True]),
    ("test.arr_str", T.STRING, ["a", "b c", '"q"', "", "日本"]),
    ("test.arr_long", T.INT32, list(range(100, 120))),
]

TENSORS = {
    # name: numpy array (numpy shape is GGML ne reversed)
    "weight.f32": np.arange(12, dtype=np.float32).reshape(3, 4),
    "weight.f16": (np.arange(70, dtype=np.float32) / 7).astype(np.float16).reshape(2, 5, 7),
    "bias.f32": np.linspace(-1, 1, 5, dtype=np.float32),
    "odd.f16": np.ones((3, 3), dtype=np.float16),   # 18 bytes: the next tensor needs alignment padding
    "after_odd.f32": np.zeros((1, 8), dtype=np.float32),
}


def write_test_gguf(path: Path, alignment: int | None = None) -> None:
    w = gguf.GGUFWriter(str(path), "testarch")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for key, vtype, value in SCALARS:
        w.add_key_value(key, value, vtype)
    for key, etype, values in ARRAYS:
        w.add_key_value(key, values, T.ARRAY, sub_type=etype)
    for name, array in TENSORS.items():
        w.add_tensor(name, array)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def gguf_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("gguf") / "interop.gguf"
    write_test_gguf(p)
    return p


@pytest.fixture(scope="module")
def listing(qtr, gguf_file) -> GgufListing:
    r = qtr.ok("inspect", gguf_file)
    assert r.stderr == b""
    return parse_gguf_listing(r.out)


@pytest.mark.parametrize("key,vtype,value", SCALARS, ids=[s[0] for s in SCALARS])
def test_gguf_scalar_metadata(key, vtype, value, listing):
    shown_type, shown_value = listing.meta(key)
    assert shown_type == TYPE_NAMES[vtype]
    assert shown_value == shown_scalar(vtype, value)


@pytest.mark.parametrize("key,etype,values", ARRAYS, ids=[a[0] for a in ARRAYS])
def test_gguf_array_metadata(key, etype, values, listing, qtr, gguf_file):
    shown_type, shown_value = listing.meta(key)
    assert shown_type == f"array<{TYPE_NAMES[etype]}>[{len(values)}]"
    items = [shown_scalar(etype, v) for v in values]
    if len(values) <= 8:
        assert shown_value == "[" + ", ".join(items) + "]"
    else:  # abbreviated to 8 items unless --full-arrays
        assert shown_value == "[" + ", ".join(items[:8]) + f", ... ({len(values)} {TYPE_NAMES[etype]})]"
        full = parse_gguf_listing(qtr.ok("inspect", gguf_file, "--full-arrays").out)
        assert full.meta(key)[1] == "[" + ", ".join(items) + "]"


def test_gguf_metadata_in_file_order(listing, gguf_file):
    reader = gguf.GGUFReader(str(gguf_file))
    file_keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    assert [k for k, _, _ in listing.metadata] == file_keys
    assert listing.meta("general.architecture") == ("string", '"testarch"')


def test_gguf_header_and_tensors(listing, gguf_file):
    reader = gguf.GGUFReader(str(gguf_file))
    assert listing.version == 3
    assert listing.alignment == 32
    assert listing.data_offset == reader.data_offset
    assert listing.tensor_order == list(TENSORS)
    for name, array in TENSORS.items():
        t = listing.tensors[name]
        assert t["type"] == {np.float32: "F32", np.float16: "F16"}[array.dtype.type], name
        assert t["shape"] == list(reversed(array.shape)), name        # GGML ne order
        assert t["bytes"] == array.nbytes, name
        assert t["offset"] % listing.alignment == 0, name
    by_name = {t.name: t for t in reader.tensors}
    for name, t in listing.tensors.items():
        assert listing.data_offset + t["offset"] == int(by_name[name].data_offset), name
    assert listing.total_bytes == sum(a.nbytes for a in TENSORS.values())


def test_gguf_custom_alignment(qtr, tmp_path):
    p = tmp_path / "aligned64.gguf"
    write_test_gguf(p, alignment=64)
    out = parse_gguf_listing(qtr.ok("inspect", p).out)
    reader = gguf.GGUFReader(str(p))
    assert out.alignment == 64
    assert out.data_offset == reader.data_offset and out.data_offset % 64 == 0
    assert out.meta("general.alignment") == ("u32", "64")
    for name, t in out.tensors.items():
        assert t["offset"] % 64 == 0, name
        assert out.data_offset + t["offset"] == int(next(x for x in reader.tensors if x.name == name).data_offset)


def test_gguf_no_tensors_flag(qtr, gguf_file):
    out = qtr.ok("inspect", "--no-tensors", "--model", gguf_file).out
    assert "test.u64" in out
    assert "weight.f32" not in out and "tensors (" not in out


def test_gguf_truncated_tensor_data_is_an_error(qtr, gguf_file, tmp_path):
    """A GGUF whose tensor data was cut off is rejected with a one-line error."""
    data = gguf_file.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[:-40])
    r = qtr("inspect", cut)
    assert r.returncode == 1, r.describe()
    assert r.stdout == b"" and r.stderr.count(b"\n") == 1, r.describe()


def test_gguf_corrupted_headers_never_crash(qtr, gguf_file, tmp_path):
    """Deterministic mini-fuzz: bit flips / byte changes in the header and metadata area, sometimes truncation.
    qtr must either list the file (exit 0) or fail cleanly: exit 1, one line on stderr, nothing on stdout."""
    data = gguf_file.read_bytes()
    header_end = gguf.GGUFReader(str(gguf_file)).data_offset
    rng = np.random.default_rng(20240601)
    target = tmp_path / "mutant.gguf"
    failures = []
    for i in range(150):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, header_end))
            if rng.random() < 0.5:
                b[pos] = int(rng.integers(0, 256))
            else:
                b[pos] ^= 1 << int(rng.integers(0, 8))
        if rng.random() < 0.2:
            b = b[:int(rng.integers(0, len(b)))]
        target.write_bytes(bytes(b))
        r = qtr("inspect", target, timeout=20)
        clean = r.returncode == 0 or (r.returncode == 1 and r.stdout == b"" and r.stderr.count(b"\n") == 1)
        if not clean:
            failures.append((i, r.returncode, r.stderr[-300:]))
    assert not failures, failures[:5]


# ---------------------------------------------------------------------------------------------------------------
# safetensors


@pytest.fixture(scope="module")
def st_numpy():
    return pytest.importorskip("safetensors.numpy")


ST_TENSORS = {
    "model.embed.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
    "model.layers.0.attn.weight": np.full((2, 3, 5), 0.5, dtype=np.float16),
    "model.norm": np.ones(7, dtype=np.float32),
    "scalar": np.array(2.5, dtype=np.float32),
    "ids": np.arange(6, dtype=np.int64),
}
ST_DTYPES = {np.float32: "F32", np.float16: "F16", np.int64: "I64"}
ST_METADATA = {"format": "pt", "note": "hello world"}


@dataclass
class StListing:
    header: str
    files: dict[str, dict] = field(default_factory=dict)   # file path -> {"metadata": {}, "tensors": {}}


def parse_st_listing(out: str) -> StListing:
    lines = out.splitlines()
    listing = StListing(lines[0])
    current = None
    for line in lines[1:]:
        if not line.strip():
            continue
        if line.startswith("file: "):
            current = listing.files.setdefault(line[len("file: "):], {"metadata": {}, "tensors": {}})
        elif (m := re.fullmatch(r"  __metadata__ (\S+) = (.*)", line)):
            current["metadata"][m.group(1)] = m.group(2)
        elif (m := re.fullmatch(r"  (\S+) +(\S+) +\[([0-9, ]*)\] +(\d+)", line)):
            name, dtype, shape, nbytes = m.groups()
            current["tensors"][name] = {"dtype": dtype, "shape": [int(s) for s in shape.split(",") if s.strip()],
                                        "bytes": int(nbytes)}
        else:
            assert line.split() == ["name", "dtype", "shape", "bytes"], f"unparsable {line!r}"
    return listing


def check_st_tensors(listed: dict, tensors: dict):
    assert set(listed) == set(tensors)
    for name, array in tensors.items():
        t = listed[name]
        assert t["dtype"] == ST_DTYPES[array.dtype.type], name
        assert t["shape"] == list(array.shape), name       # safetensors shapes are row-major, not reversed
        assert t["bytes"] == array.nbytes, name


def test_safetensors_file(qtr, st_numpy, tmp_path):
    p = tmp_path / "weights.safetensors"
    st_numpy.save_file(ST_TENSORS, str(p), metadata=ST_METADATA)
    r = qtr.ok("inspect", p)
    assert r.stderr == b""
    listing = parse_st_listing(r.out)
    assert "(1 safetensors file)" in listing.header
    (info,) = listing.files.values()
    assert info["metadata"] == ST_METADATA
    check_st_tensors(info["tensors"], ST_TENSORS)


def test_safetensors_directory(qtr, st_numpy, tmp_path):
    st_numpy.save_file(ST_TENSORS, str(tmp_path / "model.safetensors"), metadata=ST_METADATA)
    listing = parse_st_listing(qtr.ok("inspect", tmp_path).out)
    (path, info) = next(iter(listing.files.items()))
    assert path.endswith("model.safetensors")
    check_st_tensors(info["tensors"], ST_TENSORS)


def test_safetensors_sharded_index(qtr, st_numpy, tmp_path):
    names = list(ST_TENSORS)
    shards = {"model-00001-of-00002.safetensors": names[:2], "model-00002-of-00002.safetensors": names[2:]}
    for fname, part in shards.items():
        st_numpy.save_file({n: ST_TENSORS[n] for n in part}, str(tmp_path / fname))
    index = {"metadata": {"total_size": sum(a.nbytes for a in ST_TENSORS.values())},
             "weight_map": {n: f for f, part in shards.items() for n in part}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    listing = parse_st_listing(qtr.ok("inspect", tmp_path).out)
    assert "(2 safetensors files)" in listing.header
    assert {Path(p).name for p in listing.files} == set(shards)
    for path, info in listing.files.items():
        check_st_tensors(info["tensors"], {n: ST_TENSORS[n] for n in shards[Path(path).name]})


def test_safetensors_corrupt_header_is_an_error(qtr, st_numpy, tmp_path):
    p = tmp_path / "bad.safetensors"
    st_numpy.save_file({"x": np.zeros(4, np.float32)}, str(p))
    data = bytearray(p.read_bytes())
    data[8] = ord("!")   # first byte of the JSON header
    p.write_bytes(bytes(data))
    r = qtr("inspect", p)
    assert r.returncode == 1, r.describe()
    assert r.stdout == b"" and r.stderr.count(b"\n") == 1, r.describe()
