"""Independent NumPy (float64) reference of the GGUF `llama` forward pass.

Reads weights and hyper-parameters straight from the GGUF file with `gguf.GGUFReader`; shares no code with
qtr. Used by test_reference_logits.py to check `qtr logits`.

Shapes: GGML lists a tensor's dimensions fastest-first (ne = [n_in, n_out] for a weight); gguf's reader
returns a row-major numpy array with the order reversed, i.e. (n_out, n_in), so a projection is y = W @ x
(or X @ W.T for a batch of row vectors X).

RoPE is GGML's "normal" mode: within each head, adjacent pairs (x[2i], x[2i+1]) over the first n_rot
dimensions are rotated by theta_i = pos * base^(-2i / n_rot). GGUF llama files store Q/K rows permuted so
that this mode is the right one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import gguf


def _field_value(reader: gguf.GGUFReader, key: str):
    """The decoded value of a metadata key, or None when absent."""
    field = reader.fields.get(key)
    if field is None:
        return None
    if hasattr(field, "contents"):
        return field.contents()
    # Older gguf: decode scalars / strings by hand.
    if field.types and field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
        return [field.parts[i].tolist()[0] for i in field.data]
    return field.parts[field.data[0]].tolist()[0]


def _tensor_f64(t) -> np.ndarray:
    """A GGUF tensor as float64 in numpy order (reversed ne)."""
    shape = tuple(int(d) for d in reversed([int(x) for x in t.shape]))
    if t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
        data = np.asarray(t.data)
    else:
        from gguf import quants  # only needed for quantized files
        data = quants.dequantize(t.data, t.tensor_type)
    return np.asarray(data, dtype=np.float64).reshape(shape)


@dataclass
class LlamaHParams:
    n_vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    head_dim: int      # query/key head size
    head_dim_v: int    # value head size
    n_rot: int
    rope_base: float
    eps: float


class ReferenceLlama:
    def __init__(self, path: str | Path):
        reader = gguf.GGUFReader(str(path))
        arch = _field_value(reader, "general.architecture")
        if arch != "llama":
            raise ValueError(f"{path}: general.architecture is {arch!r}, the reference only does 'llama'")
        tensors = {t.name: t for t in reader.tensors}

        def meta(key, default=None):
            v = _field_value(reader, f"llama.{key}")
            if v is None:
                if default is None:
                    raise KeyError(f"{path}: missing GGUF key llama.{key}")
                return default
            return v

        def w(name):
            return _tensor_f64(tensors[name])

        self.tok_embd = w("token_embd.weight")                     # (n_vocab, n_embd)
        n_vocab, n_embd = self.tok_embd.shape
        n_head = int(meta("attention.head_count"))
        head_dim = int(meta("attention.key_length", n_embd // n_head))
        self.hp = LlamaHParams(
            n_vocab=n_vocab,
            n_embd=int(meta("embedding_length")),
            n_layer=int(meta("block_count")),
            n_head=n_head,
            n_head_kv=int(meta("attention.head_count_kv", n_head)),
            n_ff=int(meta("feed_forward_length")),
            head_dim=head_dim,
            head_dim_v=int(meta("attention.value_length", head_dim)),
            n_rot=int(meta("rope.dimension_count", head_dim)),
            rope_base=float(meta("rope.freq_base", 10000.0)),
            eps=float(meta("attention.layer_norm_rms_epsilon")),
        )
        hp = self.hp
        assert hp.n_embd == n_embd, (hp.n_embd, self.tok_embd.shape)
        assert hp.n_head % hp.n_head_kv == 0
        assert hp.n_rot % 2 == 0 and hp.n_rot <= hp.head_dim

        self.layers = []
        for i in range(hp.n_layer):
            p = f"blk.{i}."
            layer = {
                "attn_norm": w(p + "attn_norm.weight"),
                "wq": w(p + "attn_q.weight"),            # (n_head*head_dim, n_embd)
                "wk": w(p + "attn_k.weight"),            # (n_head_kv*head_dim, n_embd)
                "wv": w(p + "attn_v.weight"),            # (n_head_kv*head_dim_v, n_embd)
                "wo": w(p + "attn_output.weight"),       # (n_embd, n_head*head_dim_v)
                "ffn_norm": w(p + "ffn_norm.weight"),
                "w_gate": w(p + "ffn_gate.weight"),      # (n_ff, n_embd)
                "w_up": w(p + "ffn_up.weight"),          # (n_ff, n_embd)
                "w_down": w(p + "ffn_down.weight"),      # (n_embd, n_ff)
            }
            assert layer["wq"].shape == (hp.n_head * hp.head_dim, n_embd), layer["wq"].shape
            assert layer["wk"].shape == (hp.n_head_kv * hp.head_dim, n_embd), layer["wk"].shape
            assert layer["wv"].shape == (hp.n_head_kv * hp.head_dim_v, n_embd), layer["wv"].shape
            assert layer["wo"].shape == (n_embd, hp.n_head * hp.head_dim_v), layer["wo"].shape
            assert layer["w_gate"].shape == (hp.n_ff, n_embd), layer["w_gate"].shape
            assert layer["w_down"].shape == (n_embd, hp.n_ff), layer["w_down"].shape
            self.layers.append(layer)
        self.output_norm = w("output_norm.weight")
        self.output = w("output.weight") if "output.weight" in tensors else self.tok_embd  # (n_vocab, n_embd)
        assert self.output.shape == (n_vocab, n_embd)

    # --- building blocks -----------------------------------------------------------------------------------

    def rmsnorm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.hp.eps) * weight

    def rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """x: (n_tokens, n_heads, head_dim); rotates adjacent pairs of the first n_rot dims of each head."""
        hp = self.hp
        half = hp.n_rot // 2
        inv_freq = hp.rope_base ** (-2.0 * np.arange(half, dtype=np.float64) / hp.n_rot)   # (half,)
        theta = positions.astype(np.float64)[:, None] * inv_freq[None, :]                 # (n, half)
        cos = np.cos(theta)[:, None, :]
        sin = np.sin(theta)[:, None, :]
        out = x.copy()
        x0 = x[..., 0:hp.n_rot:2]
        x1 = x[..., 1:hp.n_rot:2]
        out[..., 0:hp.n_rot:2] = x0 * cos - x1 * sin
        out[..., 1:hp.n_rot:2] = x0 * sin + x1 * cos
        return out

    def attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        """q: (n, n_head, hd), k: (n, n_head_kv, hd), v: (n, n_head_kv, hd_v) -> (n, n_head*hd_v); causal."""
        hp = self.hp
        n = q.shape[0]
        group = hp.n_head // hp.n_head_kv
        scale = 1.0 / np.sqrt(hp.head_dim)
        mask = np.triu(np.ones((n, n), dtype=bool), k=1)    # True above the diagonal = future positions
        out = np.empty((n, hp.n_head, hp.head_dim_v))
        for h in range(hp.n_head):
            kvh = h // group
            scores = (q[:, h, :] @ k[:, kvh, :].T) * scale   # (n, n)
            scores[mask] = -np.inf
            scores -= scores.max(axis=1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(axis=1, keepdims=True)
            out[:, h, :] = p @ v[:, kvh, :]
        return out.reshape(n, hp.n_head * hp.head_dim_v)

    # --- forward ----------------------------------------------------------------------------------------------

    def forward(self, ids: Sequence[int]) -> np.ndarray:
        """Logits (float64) for every position: shape (len(ids), n_vocab)."""
        hp = self.hp
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) == 0:
            raise ValueError("ids must be a non-empty 1-D sequence")
        if ids.min() < 0 or ids.max() >= hp.n_vocab:
            raise ValueError("token id outside the vocabulary")
        n = len(ids)
        pos = np.arange(n)
        x = self.tok_embd[ids].copy()                         # (n, n_embd)
        for L in self.layers:
            h = self.rmsnorm(x, L["attn_norm"])
            q = (h @ L["wq"].T).reshape(n, hp.n_head, hp.head_dim)
            k = (h @ L["wk"].T).reshape(n, hp.n_head_kv, hp.head_dim)
            v = (h @ L["wv"].T).reshape(n, hp.n_head_kv, hp.head_dim_v)
            q = self.rope(q, pos)
            k = self.rope(k, pos)
            x = x + self.attention(q, k, v) @ L["wo"].T
            h = self.rmsnorm(x, L["ffn_norm"])
            g = h @ L["w_gate"].T
            u = h @ L["w_up"].T
            silu = g / (1.0 + np.exp(-g))
            x = x + (silu * u) @ L["w_down"].T
        return self.rmsnorm(x, self.output_norm) @ self.output.T


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def kl_divergence(ref_logits: np.ndarray, test_logits: np.ndarray) -> np.ndarray:
    """KL(p_ref || p_test) per row, in nats."""
    lp = log_softmax(ref_logits)
    lq = log_softmax(test_logits)
    return (np.exp(lp) * (lp - lq)).sum(axis=-1)
