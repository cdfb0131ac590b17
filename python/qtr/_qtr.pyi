"""Type stubs for qtr._qtr, the C++ extension module (import the `qtr` package instead)."""
from __future__ import annotations

import builtins
import os
from typing import Any, Iterator, Literal, Mapping, Sequence, overload

import numpy as np
import numpy.typing as npt

_TokenIds = Sequence[int] | npt.NDArray[np.integer[Any]]
_StopReason = Literal["max_tokens", "eog", "stop_string", "context_full", "cancelled"]
_Message = Mapping[str, str]
_JsonSchema = Mapping[str, Any] | bool | str
_ConstraintKind = Literal["gbnf", "json_schema", "regex", "choices", "json_object"]
_ResponseFormat = Mapping[str, Any]

class Error(RuntimeError):
    """Base class of every error qtr raises; `code` names the category."""
    code: str

class InvalidArgument(Error, ValueError):
    """A bad argument: option out of range, token id outside the vocabulary, context overflow, ..."""

class BadFormat(Error):
    """A file's bytes do not form a valid GGUF / safetensors / JSON / tokenizer / chat template."""

class Unsupported(Error, NotImplementedError):
    """Recognised but not implemented: tensor type, architecture, template construct, no chat template."""

class IOError(Error, builtins.OSError):
    """The operating system refused: open, mmap, read."""

class FileNotFoundError(IOError, builtins.FileNotFoundError):
    """A model path that does not exist (errno ENOENT; `path` is the path)."""
    path: str

class OutOfMemory(Error, MemoryError):
    """An allocation or a fixed budget (KV cache, template output) ran out."""

class InternalError(Error):
    """A bug in qtr."""

class TextStream(Iterator[str]):
    """The text of one generation, in pieces of complete UTF-8; close() cancels it."""

    def __iter__(self) -> TextStream:
        """Returns the stream itself."""
    def __next__(self) -> str:
        """The next piece of text; StopIteration when the generation is over."""
    def close(self) -> None:
        """Cancels the generation if it is still running and waits for it to stop."""
    def __enter__(self) -> TextStream:
        """Returns the stream itself."""
    def __exit__(self, *args: object) -> None:
        """Closes the stream."""
    @property
    def finished(self) -> bool:
        """True once the generation has stopped."""
    @property
    def stop_reason(self) -> _StopReason | None:
        """Why the generation stopped; None while it runs."""
    @property
    def stop_string(self) -> str:
        """The stop string that ended the generation ('' otherwise)."""
    @property
    def tokens(self) -> list[int]:
        """The sampled token ids (complete once finished)."""
    @property
    def text(self) -> str:
        """All the text returned so far."""
    @property
    def n_prompt_tokens(self) -> int:
        """How many tokens the prompt had."""

class Constraint:
    """A constraint compiled for one model's vocabulary (Model.compile_constraint); immutable, shareable."""

    @property
    def kind(self) -> _ConstraintKind:
        """What it was compiled from."""
    @property
    def gbnf(self) -> str:
        """The grammar it runs, as GBNF text."""
    @property
    def relaxed(self) -> list[str]:
        """With lenient=True: what of the JSON Schema was approximated."""
    @property
    def n_vocab(self) -> int:
        """The size of the vocabulary it was compiled for."""
    def accepts(self, text: str | bytes) -> bool:
        """True when the whole text is a string of the constraint's language."""

class Model:
    """A loaded model; shareable between threads (each call runs in a session of its own)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        threads: int = 0,
        kv_type: Literal["f16", "q8_0", "f32"] | str = "f16",
        n_ctx: int = 0,
        isa: str = "",
        repack: bool = True,
        mmap: bool = True,
        matmul_inputs: Literal["precise", "int8"] | str = "precise",
    ) -> None:
        """Loads the model at `path`."""
    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = False) -> list[int]:
        """Encodes text into token ids."""
    def detokenize(self, ids: _TokenIds, special: bool = False) -> str:
        """Decodes token ids into text."""
    def token_to_piece(self, id: int, special: bool = False) -> bytes:
        """The bytes one token stands for."""
    def generate(
        self,
        prompt: str | _TokenIds,
        *,
        max_tokens: int = 128,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        repeat_penalty: float = 1.0,
        penalty_last_n: int = 64,
        presence_penalty: float = 0.0,
        frequency_penalty: float = 0.0,
        logit_bias: Mapping[int, float] | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        grammar: str | None = None,
        json_schema: _JsonSchema | None = None,
        regex: str | None = None,
        choices: Sequence[str] | None = None,
        constraint: Constraint | None = None,
        lenient: bool = False,
    ) -> TextStream:
        """Generates a continuation of `prompt`, streamed (constrained by at most one of grammar ... constraint)."""
    @overload
    def chat(
        self,
        messages: Sequence[_Message],
        *,
        stream: Literal[False] = False,
        max_tokens: int = 512,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        repeat_penalty: float = 1.0,
        penalty_last_n: int = 64,
        presence_penalty: float = 0.0,
        frequency_penalty: float = 0.0,
        logit_bias: Mapping[int, float] | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        template_variables: Mapping[str, Any] | None = None,
        response_format: _ResponseFormat | None = None,
        grammar: str | None = None,
        json_schema: _JsonSchema | None = None,
        regex: str | None = None,
        choices: Sequence[str] | None = None,
        constraint: Constraint | None = None,
        lenient: bool = False,
    ) -> str:
        """Answers a conversation with the model's chat template."""
    @overload
    def chat(
        self,
        messages: Sequence[_Message],
        *,
        stream: Literal[True],
        max_tokens: int = 512,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        repeat_penalty: float = 1.0,
        penalty_last_n: int = 64,
        presence_penalty: float = 0.0,
        frequency_penalty: float = 0.0,
        logit_bias: Mapping[int, float] | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        template_variables: Mapping[str, Any] | None = None,
        response_format: _ResponseFormat | None = None,
        grammar: str | None = None,
        json_schema: _JsonSchema | None = None,
        regex: str | None = None,
        choices: Sequence[str] | None = None,
        constraint: Constraint | None = None,
        lenient: bool = False,
    ) -> TextStream:
        """Answers a conversation with the model's chat template, streamed."""
    def compile_constraint(
        self,
        *,
        grammar: str | None = None,
        json_schema: _JsonSchema | None = None,
        regex: str | None = None,
        choices: Sequence[str] | None = None,
        json_object: bool = False,
        lenient: bool = False,
        compact_json: bool = False,
        allow_unused_rules: bool = False,
    ) -> Constraint:
        """Compiles a constraint for this model's vocabulary, to reuse with generate/chat(constraint=...)."""
    @overload
    def apply_chat_template(
        self,
        messages: Sequence[_Message],
        *,
        add_generation_prompt: bool = True,
        tokenize: Literal[False] = False,
        template_variables: Mapping[str, Any] | None = None,
    ) -> str:
        """Renders `messages` with the model's chat template."""
    @overload
    def apply_chat_template(
        self,
        messages: Sequence[_Message],
        *,
        add_generation_prompt: bool = True,
        tokenize: Literal[True],
        template_variables: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """The token ids chat() would run for `messages`."""
    def logits(self, tokens: _TokenIds) -> npt.NDArray[np.float32]:
        """Logits of every position: float32 [len(tokens), n_vocab]."""
    @overload
    def embed(
        self, texts: str, pooling: Literal["mean", "last"] = "mean", normalize: bool = True
    ) -> npt.NDArray[np.float32]:
        """Embedding of one text: float32 [n_embd]."""
    @overload
    def embed(
        self, texts: Sequence[str], pooling: Literal["mean", "last"] = "mean", normalize: bool = True
    ) -> npt.NDArray[np.float32]:
        """Embeddings of texts: float32 [len(texts), n_embd]."""
    @property
    def n_vocab(self) -> int:
        """Tokens in the vocabulary."""
    @property
    def n_embd(self) -> int:
        """Width of the hidden state (and of embeddings)."""
    @property
    def n_layer(self) -> int:
        """Transformer layers."""
    @property
    def n_ctx_train(self) -> int:
        """Context length the model was trained for."""
    @property
    def n_ctx(self) -> int:
        """Context length of this Model's sessions."""
    @property
    def architecture(self) -> str:
        """general.architecture, e.g. 'llama'."""
    @property
    def name(self) -> str:
        """general.name (may be empty)."""
    @property
    def chat_template(self) -> str | None:
        """The model's own chat template (Jinja source), or None."""
    @property
    def bos_token_id(self) -> int | None:
        """Beginning-of-sequence token id, or None."""
    @property
    def eos_token_id(self) -> int | None:
        """End-of-sequence token id, or None."""
    @property
    def eog_token_ids(self) -> list[int]:
        """The ids that end a generation, sorted."""
    @property
    def kv_type(self) -> str:
        """Element type of the KV cache."""
    @property
    def threads(self) -> int:
        """Threads per computation."""
    @property
    def isa(self) -> str:
        """The kernels in use."""
    @property
    def matmul_inputs(self) -> str:
        """How matmul inputs are quantized: 'precise' or 'int8'."""
    @property
    def path(self) -> str:
        """The path the model was loaded from."""
