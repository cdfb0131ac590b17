"""Tool calls through the model's own chat template.

Rendering: `qtr template --tools` (tools passed to the template, OpenAI-style string arguments turned into
objects) must equal jinja2 rendering the same template the way transformers' apply_chat_template(tools=...) does,
for every vendor template that supports tools. Generation: `qtr run --chat --tools` with tool_choice required or
a named function must give a parseable call to an allowed function with arguments valid under its schema (checked
here by hand), over many varied tool sets, with SmolLM2 (the default model; skipped when absent).
"""
from __future__ import annotations

import json
import random

import pytest

from conftest import REPO_ROOT  # noqa: E402
from test_chat_template import transformers_env, render_reference  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "chat-templates"
SMOLLM2 = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOOL_TEMPLATES = ["Qwen-Qwen2.5-7B-Instruct", "Qwen-Qwen3-0.6B", "meta-llama-Llama-3.1-8B-Instruct",
                  "meta-llama-Llama-3.2-3B-Instruct", "mistralai-Mistral-Nemo-Instruct-2407",
                  "ibm-granite-granite-3.3-2B-Instruct"]

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                      "parameters": {"type": "object", "properties": {
                                          "city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
                                          "required": ["city"]}}},
    {"type": "function", "function": {"name": "send_email", "description": "Send an email",
                                      "parameters": {"type": "object", "properties": {
                                          "to": {"type": "string"}, "body": {"type": "string"}},
                                          "required": ["to", "body"]}}},
]


def conversation(string_arguments: bool):
    args = {"city": "Paris"}
    # Mistral's template wants 9-character alphanumeric call ids.
    call = {"id": "abcdefghi", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps(args) if string_arguments else args}}
    return [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "abcdefghi", "name": "get_weather", "content": "{\"temp\": 21}"},
        {"role": "user", "content": "Thanks. And in Rome?"},
    ]


@pytest.mark.parametrize("name", TOOL_TEMPLATES)
def test_rendering_equals_jinja2(qtr, tmp_path, name):
    source = (FIXTURES / f"{name}.jinja").read_text()
    (tmp_path / "m.json").write_text(json.dumps(conversation(string_arguments=True)))
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    want, err = render_reference(transformers_env(), source, {
        "messages": conversation(string_arguments=False), "tools": TOOLS, "add_generation_prompt": True,
        "bos_token": "", "eos_token": ""})
    r = qtr("template", "--template", FIXTURES / f"{name}.jinja", "--messages", tmp_path / "m.json",
            "--tools", tmp_path / "tools.json")
    if err is not None:
        assert r.returncode != 0, r.describe()
        return
    assert r.returncode == 0, r.describe()
    assert r.stdout.decode() == want


def test_generic_format_describes_tools_in_the_system_turn(qtr, tmp_path):
    (tmp_path / "m.json").write_text(json.dumps(conversation(string_arguments=True)[:2]))
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    r = qtr("template", "--template", FIXTURES / "HuggingFaceTB-SmolLM2-135M-Instruct.jinja",
            "--messages", tmp_path / "m.json", "--tools", tmp_path / "tools.json")
    assert r.returncode == 0, r.describe()
    out = r.stdout.decode()
    assert out.startswith("<|im_start|>system\nYou are a helpful assistant.\n\nYou can call these tools")
    assert '"name": "get_weather"' in out and '{"tool_calls": [' in out


# ---------------------------------------------------------------------------------------------------------------
# Generation with tool_choice required / named, over varied tool sets.

WORDS = ["city", "query", "amount", "date", "user_id", "title", "priority", "count", "email", "country"]


def random_tool(rng: random.Random, i: int):
    props, required = {}, []
    for name in rng.sample(WORDS, rng.randint(1, 4)):
        kind = rng.choice(["string", "integer", "boolean", "enum", "number"])
        props[name] = ({"enum": rng.sample(["low", "mid", "high", "urgent"], 2)} if kind == "enum"
                       else {"type": kind, "maxLength": 40} if kind == "string" else {"type": kind})
        if rng.random() < 0.6:
            required.append(name)
    verb = rng.choice(["get", "set", "find", "create", "delete", "lookup"])
    return {"type": "function", "function": {"name": f"{verb}_{rng.choice(WORDS)}_{i}", "description": f"{verb} things",
                                             "parameters": {"type": "object", "properties": props,
                                                            "required": required}}}


def valid_arguments(args: dict, schema: dict) -> bool:
    props = schema["properties"]
    if not isinstance(args, dict) or any(k not in props for k in args) or any(k not in args for k in schema["required"]):
        return False
    for k, v in args.items():
        p = props[k]
        if "enum" in p and v not in p["enum"]:
            return False
        t = p.get("type")
        if t == "string" and not (isinstance(v, str) and len(v) <= p.get("maxLength", 1 << 30)):
            return False
        # JSON Schema counts 1.0 as an integer, and so does the grammar
        if t == "integer" and not (isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()):
            return False
        if t == "number" and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return False
        if t == "boolean" and not isinstance(v, bool):
            return False
    return True


def test_required_and_named_calls_are_always_valid(qtr, tmp_path):
    if not SMOLLM2.is_file():
        pytest.skip(f"{SMOLLM2} not found (scripts/fetch_models.sh fetches it)")
    default_model = SMOLLM2
    rng = random.Random(11)
    prompts = ["Please help me with this.", "Do it now.", "What should happen next?", "Use a tool for my request."]
    failures = []
    n_sets = 12  # x 2 choices = 24 generations in CI; bench/tool_call_validity.py runs 100+ sets per model
    for k in range(n_sets):
        tools = [random_tool(rng, i) for i in range(rng.randint(1, 4))]
        (tmp_path / "tools.json").write_text(json.dumps(tools))
        for choice in ["required", tools[0]["function"]["name"]]:
            r = qtr("run", "--model", default_model, "--chat", "--prompt", rng.choice(prompts), "--tools",
                    tmp_path / "tools.json", "--tool-choice", choice, "--temp", "0.8", "--seed", str(k),
                    "--n-predict", "160", "--threads", "1", "--no-parallel-tools")
            assert r.returncode == 0, r.describe()
            msg = json.loads(r.stdout.decode())
            calls = msg.get("tool_calls") or []
            by_name = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
            ok = len(calls) == 1 and calls[0]["function"]["name"] in by_name and (
                choice == "required" or calls[0]["function"]["name"] == choice) and valid_arguments(
                json.loads(calls[0]["function"]["arguments"]), by_name[calls[0]["function"]["name"]])
            if not ok:
                failures.append((choice, msg))
    assert not failures, failures[:3]
