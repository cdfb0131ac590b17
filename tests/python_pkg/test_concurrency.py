"""Ctrl-C (SIGINT) interrupts a generation cleanly, and one Model serves several threads at once."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

PROMPTS = ["Once upon a time", "Lily", "The dog", "One day", "Tom and Sue", "The sun"]


def send_sigint_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_sigint_interrupts_generation(stories, sigint_raises):
    expected = "".join(stories.generate("Once upon a time", max_tokens=50, temperature=0))
    streams = []
    timer = send_sigint_after(0.3)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            while time.monotonic() - started < 30:  # generations back to back until the signal arrives
                stream = stories.generate("Once upon a time", max_tokens=100000, temperature=0.8)
                streams.append(stream)
                "".join(stream)  # the C++ iterator, called from C: only its own signal checks can stop it
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    assert streams and streams[-1].finished
    # the model still works, with the same results
    assert "".join(stories.generate("Once upon a time", max_tokens=50, temperature=0)) == expected


def test_sigint_while_waiting_for_a_slow_model(default_model, sigint_raises):
    """The reader waits in C++ (GIL released) for the worker; the signal is noticed within a poll interval."""
    messages = [{"role": "user", "content": "Write a very long story about a dragon."}]
    timer = send_sigint_after(0.5)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            default_model.chat(messages, max_tokens=5000, temperature=0.8, seed=1)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    question = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is the capital of France?"}]
    reply = default_model.chat(question, temperature=0, max_tokens=20)
    assert "Paris" in reply


def test_threads_share_one_model(stories):
    expected = {p: "".join(stories.generate(p, max_tokens=120, temperature=0)) for p in PROMPTS}
    results: dict[tuple[int, str], str] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for p in PROMPTS[worker % 2 :: 2] * 3:
                results[(worker, p)] = "".join(stories.generate(p, max_tokens=120, temperature=0))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(results) == 4 * 3
    for (_, p), text in results.items():
        assert text == expected[p]


def test_threads_mix_logits_embed_generate(stories_f32):
    ids = stories_f32.tokenize("Once upon a time there was")
    want_logits = stories_f32.logits(ids)
    want_embed = stories_f32.embed(PROMPTS)
    want_text = "".join(stories_f32.generate(ids, max_tokens=60, temperature=0))
    failures: list[str] = []

    def work(kind: int) -> None:
        for _ in range(10):
            if kind == 0 and not np.array_equal(stories_f32.logits(ids), want_logits):
                failures.append("logits")
            if kind == 1 and not np.array_equal(stories_f32.embed(PROMPTS), want_embed):
                failures.append("embed")
            if kind == 2 and "".join(stories_f32.generate(ids, max_tokens=60, temperature=0)) != want_text:
                failures.append("generate")

    threads = [threading.Thread(target=work, args=(k % 3,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []


def test_one_stream_one_reader(stories):
    stream = stories.generate("Once", max_tokens=2000, temperature=0)
    next(stream)
    # a second thread closing a stream that the first reads from does not break it
    closer = threading.Thread(target=stream.close)
    closer.start()
    closer.join()
    rest = list(stream)
    assert stream.finished and stream.stop_reason == "cancelled" and len(rest) < 100
