#!/usr/bin/env python3
"""Writes small valid seed inputs for the fuzz targets into DIR/{gguf,safetensors,spm}/ (generated, never committed).

Uses the `gguf` and `safetensors` packages from PyPI, so the seeds come from independent writers.
"""
import os
import struct
import sys

import numpy as np


def gguf_seeds(out):
    import gguf

    for i, (n_tensors, with_vocab) in enumerate([(0, True), (2, False), (3, True)]):
        path = os.path.join(out, f"seed{i}.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_uint32("llama.block_count", 1)
        w.add_float32("f", 0.5)
        w.add_bool("b", True)
        w.add_string("s", "héllo")
        w.add_array("arr", [1, 2, 3])
        w.add_uint64("u64", 1 << 40)
        w.add_int8("i8", -3)
        w.add_float64("f64", 2.5)
        if with_vocab:
            w.add_tokenizer_model("llama")
            w.add_token_list(["<unk>", "<s>", "</s>", "\u2581Hello", "\u2581world", "<0x41>"])
            w.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0, 0.0])
            w.add_token_types([2, 3, 3, 1, 1, 6])
            w.add_bos_token_id(1)
            w.add_eos_token_id(2)
        for t in range(n_tensors):
            w.add_tensor(f"blk.{t}.w", np.arange(8 * (t + 1), dtype=np.float32).reshape(t + 1, 8))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()


def safetensors_seeds(out):
    from safetensors.numpy import save_file

    save_file({"a": np.ones((2, 3), np.float32), "b": np.zeros(4, np.float16)}, os.path.join(out, "seed0.safetensors"),
              metadata={"format": "pt"})
    save_file({"x": np.arange(6, dtype=np.int64)}, os.path.join(out, "seed1.safetensors"))


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def spm_seeds(out):
    pieces = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3), ("<0x41>", 0.0, 6), ("\u2581a", -1.0, 1),
              ("b", -2.0, 1)]
    model = b""
    for text, score, kind in pieces:
        raw = text.encode()
        body = field(1, 2, varint(len(raw)) + raw) + field(2, 5, struct.pack("<f", score)) + field(3, 0, varint(kind))
        model += field(1, 2, varint(len(body)) + body)
    trainer = field(3, 0, varint(2))
    model += field(2, 2, varint(len(trainer)) + trainer)
    normalizer = field(3, 0, varint(1))
    model += field(3, 2, varint(len(normalizer)) + normalizer)
    with open(os.path.join(out, "seed0.model"), "wb") as f:
        f.write(model)


def main():
    root = sys.argv[1]
    for name, make in (("gguf", gguf_seeds), ("safetensors", safetensors_seeds), ("spm", spm_seeds)):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        make(d)


if __name__ == "__main__":
    main()
