"""`qtr template` against Python jinja2 (the independent reference).

Every fixture template in tests/fixtures/chat-templates/ is rendered for several conversations by `qtr template`
and by jinja2 configured as Hugging Face transformers configures it (utils/chat_template_utils.py:
ImmutableSandboxedEnvironment, trim_blocks=True, lstrip_blocks=True, loopcontrols, raise_exception,
strftime_now, namespace, dict, and a tojson filter that is json.dumps with ensure_ascii=False). The outputs must be
byte-identical; where jinja2 raises, qtr must fail with the same message. A seeded random test compares many
small generated templates, and the jinja2-default environment (no trim/lstrip, jinja2's own tojson) is covered too.
"""
from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

import pytest

jinja2 = pytest.importorskip("jinja2")
from jinja2.ext import loopcontrols  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

from conftest import REPO_ROOT  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "chat-templates"
TEMPLATES = sorted(FIXTURES.glob("*.jinja"))
SMOLLM2_GGUF = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def transformers_env(trim_blocks: bool = True, lstrip_blocks: bool = True) -> jinja2.Environment:
    """jinja2 set up like transformers' _cached_compile_jinja_template (without the generation-tracking tag)."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = dict
    return env


def render_reference(env: jinja2.Environment, source: str, variables: dict) -> tuple[str | None, str | None]:
    """(output, None) or (None, error message)."""
    try:
        return env.from_string(source).render(**variables), None
    except jinja2.exceptions.TemplateSyntaxError as e:
        return None, f"syntax: {e.message}"
    except Exception as e:  # noqa: BLE001 - any jinja2/runtime failure counts as "it fails"
        return None, str(e)


def run_qtr(qtr, tmp_path: Path, template: Path, messages: list, add_generation_prompt: bool = True,
            bos: str = "<s>", eos: str = "</s>", extra: dict | None = None, flags: tuple = ()):
    msg_file = tmp_path / "messages.json"
    msg_file.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    args = ["template", "--template", template, "--messages", msg_file, "--bos", bos, "--eos", eos, *flags]
    if not add_generation_prompt:
        args.append("--no-generation-prompt")
    if extra:
        args += ["--vars", json.dumps(extra)]
    return qtr(*args)


CONVERSATIONS = {
    "system_user": [{"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "What is 2+2?"}],
    "user_only": [{"role": "user", "content": "Hello!"}],
    "multi_turn": [{"role": "system", "content": "Be brief."},
                   {"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello! How can I help?"},
                   {"role": "user", "content": "Tell me a joke."}],
    "multi_turn_no_system": [{"role": "user", "content": "Hi"},
                             {"role": "assistant", "content": "Hello."},
                             {"role": "user", "content": "Bye"}],
    "ends_with_assistant": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "hi"}],
    "unicode_quotes_newlines": [
        {"role": "system", "content": "Réponds en français. «quotes» 'single' \"double\" \\backslash"},
        {"role": "user", "content": "  emoji 😀👍🏽 and CJK 你好\n\nnew\tlines \u2028 {{ not a tag }} {% raw %}  "}],
    "thinking_assistant": [{"role": "user", "content": "2+2?"},
                           {"role": "assistant", "content": "<think>\nadd\n</think>\n\n4"},
                           {"role": "user", "content": "3+3?"}],
    "bad_role_order": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    "assistant_first": [{"role": "assistant", "content": "I start."}, {"role": "user", "content": "ok"}],
    "empty_content": [{"role": "system", "content": ""}, {"role": "user", "content": ""}],
}


def check_same(qtr, tmp_path, template: Path, messages, add_generation_prompt=True, extra=None, env=None,
               flags=()):
    source = template.read_text(encoding="utf-8")
    variables = {"messages": messages, "add_generation_prompt": add_generation_prompt, "bos_token": "<s>",
                 "eos_token": "</s>", **(extra or {})}
    want, error = render_reference(env or transformers_env(), source, variables)
    r = run_qtr(qtr, tmp_path, template, messages, add_generation_prompt, extra=extra, flags=flags)
    if error is not None:
        assert r.returncode == 1, f"jinja2 failed ({error}) but qtr did not:\n{r.describe()}"
        assert r.stdout == b""
        assert r.err.count("\n") == 1 and str(template) in r.err, r.describe()
        if not error.startswith("syntax:") and "raise" in source and "undefined" not in error:
            assert error in r.err, f"jinja2 raised {error!r}; qtr said {r.err!r}"
        return
    assert r.returncode == 0, f"jinja2 rendered but qtr failed:\n{r.describe()}\njinja2 gave: {want!r}"
    got = r.stdout.decode("utf-8")
    assert got == want, f"{template.name}: qtr and jinja2 differ\n qtr: {got!r}\n jinja2: {want!r}"


def test_fixtures_present():
    names = {p.stem for p in TEMPLATES}
    for expected in ["HuggingFaceTB-SmolLM2-135M-Instruct", "meta-llama-Llama-3.1-8B-Instruct",
                     "Qwen-Qwen2.5-7B-Instruct", "Qwen-Qwen3-0.6B", "google-gemma-3-it",
                     "microsoft-Phi-3.5-mini-instruct", "mistralai-Mistral-Nemo-Instruct-2407"]:
        assert expected in names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
@pytest.mark.parametrize("add_generation_prompt", [True, False], ids=["gen", "nogen"])
def test_fixture_matches_jinja2(qtr, tmp_path, template, conversation, add_generation_prompt):
    check_same(qtr, tmp_path, template, CONVERSATIONS[conversation], add_generation_prompt)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_fixture_plain_jinja2_environment(qtr, tmp_path, template):
    """jinja2's defaults: no trim_blocks/lstrip_blocks, jinja2's own (sorted, HTML-safe) tojson."""
    env = ImmutableSandboxedEnvironment(extensions=[loopcontrols])
    env.globals["raise_exception"] = transformers_env().globals["raise_exception"]
    env.globals["strftime_now"] = transformers_env().globals["strftime_now"]
    check_same(qtr, tmp_path, template, CONVERSATIONS["multi_turn"], env=env,
               flags=("--no-trim-blocks", "--no-lstrip-blocks", "--jinja2-tojson"))


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather <now> & 'later'",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Zürich?"}},
                   "required": ["city"]}}}]
TOOL_CONVERSATION = [
    {"role": "system", "content": "Use tools."},
    {"role": "user", "content": "Weather in Zürich?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call12345", "type": "function",
         "function": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 2, "x": 1.5, "ok": True}}}]},
    {"role": "tool", "content": "{\"temp\": 3}", "tool_call_id": "call12345"},
]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_fixture_with_tools_and_variables(qtr, tmp_path, template):
    check_same(qtr, tmp_path, template, TOOL_CONVERSATION,
               extra={"tools": TOOLS, "enable_thinking": False, "date_string": "01 Jan 2025"})


def test_qwen3_enable_thinking_false(qtr, tmp_path):
    tpl = FIXTURES / "Qwen-Qwen3-0.6B.jinja"
    check_same(qtr, tmp_path, tpl, CONVERSATIONS["user_only"], extra={"enable_thinking": False})
    r = run_qtr(qtr, tmp_path, tpl, CONVERSATIONS["user_only"], extra={"enable_thinking": False})
    assert r.out.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_var_option_is_repeatable(qtr, tmp_path):
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{{ a }}|{{ b.c }}|{{ messages|length }}")
    (tmp_path / "m.json").write_text("[]")
    r = qtr.ok("template", "--template", tpl, "--messages", tmp_path / "m.json", "--var", "a=1",
               "--var", 'b={"c": [true, null]}')
    assert r.stdout == b"1|[True, None]|0"


def test_model_gguf_template(qtr, tmp_path):
    if not SMOLLM2_GGUF.is_file():
        pytest.skip(f"default model not fetched: {SMOLLM2_GGUF} (run scripts/fetch_models.sh or scripts/run.sh)")
    import gguf
    reader = gguf.GGUFReader(SMOLLM2_GGUF)
    field = reader.fields["tokenizer.chat_template"]
    source = bytes(field.parts[field.data[0]]).decode("utf-8")
    tokens = reader.fields["tokenizer.ggml.tokens"]
    bos_id = int(reader.fields["tokenizer.ggml.bos_token_id"].parts[-1][0])
    eos_id = int(reader.fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
    bos = bytes(tokens.parts[tokens.data[bos_id]]).decode("utf-8")
    eos = bytes(tokens.parts[tokens.data[eos_id]]).decode("utf-8")
    messages = CONVERSATIONS["multi_turn"]
    want = transformers_env().from_string(source).render(messages=messages, add_generation_prompt=True,
                                                          bos_token=bos, eos_token=eos)
    (tmp_path / "m.json").write_text(json.dumps(messages))
    r = qtr.ok("template", "--model", SMOLLM2_GGUF, "--messages", tmp_path / "m.json")
    assert r.out == want
    assert (FIXTURES / "HuggingFaceTB-SmolLM2-135M-Instruct.jinja").read_text() == source


# ---------------------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("source, line_col, words", [
    ("{% include 'x.jinja' %}", "1:4", "include"),
    ("a\n{% import 'm' as m %}", "2:4", "import"),
    ("{% call foo() %}x{% endcall %}", "1:4", "call"),
    ("{% filter upper %}x{% endfilter %}", "1:4", "filter"),
    ("{{ x | frobnicate }}", "1:8", "unknown filter 'frobnicate'"),
    ("{% if x is prime %}{% endif %}", "1:12", "unknown test 'prime'"),
    ("{% for x in y recursive %}{% endfor %}", "1:15", "recursive"),
])
def test_unsupported_constructs(qtr, tmp_path, source, line_col, words):
    tpl = tmp_path / "bad.jinja"
    tpl.write_text(source)
    (tmp_path / "m.json").write_text("[]")
    r = qtr("template", "--template", tpl, "--messages", tmp_path / "m.json")
    assert r.returncode == 1 and r.stdout == b""
    assert r.err.count("\n") == 1
    assert f"{tpl}:{line_col}:" in r.err and words in r.err and "not supported" in r.err or "unknown" in r.err, r.err


@pytest.mark.parametrize("source, line_col", [
    ("{{ 1 + }}", "1:8"),
    ("x\n  {% if true %}never closed", "2:3"),
    ("{{ 'abc ", "1:4"),
    ("{% for %}{% endfor %}", "1:8"),
    ("{% endif %}", "1:4"),
    ("{# no end", "1:1"),
    ("{{ a b }}", "1:6"),
])
def test_syntax_errors(qtr, tmp_path, source, line_col):
    tpl = tmp_path / "bad.jinja"
    tpl.write_text(source)
    (tmp_path / "m.json").write_text("[]")
    r = qtr("template", "--template", tpl, "--messages", tmp_path / "m.json")
    assert r.returncode == 1 and r.stdout == b"" and r.err.count("\n") == 1, r.describe()
    assert f"{tpl}:{line_col}:" in r.err, r.err
    with pytest.raises(jinja2.exceptions.TemplateSyntaxError):
        transformers_env().from_string(source)


def test_raise_exception_message_and_position(qtr, tmp_path):
    tpl = FIXTURES / "google-gemma-3-it.jinja"
    r = run_qtr(qtr, tmp_path, tpl, CONVERSATIONS["bad_role_order"])
    assert r.returncode == 1 and r.stdout == b""
    assert "Conversation roles must alternate user/assistant/user/assistant/..." in r.err
    assert f"{tpl}:15:" in r.err, r.err


@pytest.mark.parametrize("source, words", [
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "deeper"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "budget"),
    ("{% for i in range(1000000000) %}{% endfor %}", "range too big"),
    ("{{ 'x' * 100000000000 }}", "too large"),
    ("{{ foo.bar }}", "'foo' is undefined"),
    ("{{ 1 + 'a' }}", "unsupported operand"),
])
def test_runtime_limits_and_errors(qtr, tmp_path, source, words):
    tpl = tmp_path / "t.jinja"
    tpl.write_text(source)
    (tmp_path / "m.json").write_text("[]")
    r = qtr("template", "--template", tpl, "--messages", tmp_path / "m.json", timeout=300)  # a hang guard only
    assert r.returncode == 1 and r.stdout == b"" and r.err.count("\n") == 1, r.describe()
    assert words in r.err and f"{tpl}:1:" in r.err, r.err


# ---------------------------------------------------------------------------------------------------------------
# a corpus of language pieces: scoping, loops, macros, literals, numbers, filters, tests, methods

CORPUS = [
 "{{ s | upper }}|{{ s | lower }}|{{ s.title() }}|{{ s | capitalize }}|{{ s | title }}",
 "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
 "{% for i in [1,2] %}{% if i == 1 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}",
 "{% for i in [1,2,3] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% if i == 3 %}{% break %}{% endif %}{% else %}E{% endfor %}",
 "{% for i in [] %}x{% else %}empty{% endfor %}",
 "{% for a, b in [[1,2],[3,4]] %}{{ a }}{{ b }}{% endfor %}",
 "{% for i in [1,2,3] if i > 1 %}{{ loop.index }}/{{ loop.length }}{{ loop.previtem }}{% endfor %}",
 "{% macro m(a, b='B') %}<{{ a }}{{ b }}{{ top }}>{% endmacro %}{% set top = 'T' %}{{ m(1) }}{{ m(2, b=3) }}",
 "{{ 'a,b,,c'.split(',') }}{{ ' x  y '.split() }}{{ 'abc'[::-1] }}{{ [1,2,3][-2:] }}",
 "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 1e-5 }} {{ 100.0 }}",
 "{{ {'a': [1, {'b': none}], 'c': 'é\"<>'} | tojson }}|{{ {'a':1} | tojson(indent=2) }}",
 "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ 3 is odd }}{{ 4 is divisibleby 2 }}",
 "{% set s %}inner {{ 1 + 1 }}{% endset %}[{{ s }}]",
 "{{ [3,1,2] | sort | join('-') }}{{ ['b','A','a'] | sort }}{{ [{'r':'u'},{'r':'a'}] | selectattr('r', 'equalto', 'u') | list }}",
 "{{ 'hello world' | title }}{{ 'hELLO' | capitalize }}{{ '  x ' | trim }}|{{ 'ab' * 3 }}{{ [1] * 2 }}",
 "{{ (1, 2) }}{{ (1,) }}{{ () }}{{ [1, 'a', none, true, 1.5] }}{{ {'k': (1, 2)} }}",
 "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
 "{{ range(5) | list }}{{ range(1, 10, 3) | list }}{{ range(5, 0, -2) | list }}",
 "{{ 'x' if false }}|{{ undefined_thing }}|{{ undefined_thing | default('d') }}|{{ none | default('d') }}|{{ '' | default('e', true) }}",
 "{{ messages | map(attribute='role') | join(',') }}{{ messages | map('upper') | list }}",
 "{{ 'abc'.startswith(('x', 'a')) }}{{ 'Hello'.replace('l', 'L', 1) }}{{ 'a-b'.title() }}{{ 'ab c'.title() }}",
 "{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 'a' in 'abc' }}{{ 1 in [1] }}{{ 'k' in {'k': 1} }}{{ 'x' not in 'abc' }}",
 "{{ d.get('a') }}{{ d.get('z', 5) }}{{ d.items() | list }}{{ d.keys() | list }}{{ d['a'] }}{{ d.a }}",
 "{%- for k, v in d.items() -%}\n {{ k }}={{ v }}\n{%- endfor %}",
 "{{ '%s' }}{{ loop }}",
 "{{ '\\u00e9\\x41\\n\\t' }}{{ \"it's\" }}{{ 'a' 'b' }}",
 "{{ [1,2,3] | first }}{{ [1,2,3] | last }}{{ 'abc' | first }}{{ [] | first }}{{ {'a': 1} | length }}{{ 'é' | length }}",
 "{{ 'AbC' | lower }}{{ 'é' | upper }}{{ [1, 2, 2, 1] | unique | list }}{{ ['a', 'A'] | unique | list }}",
 "{{ 3 | string + 'x' }}{{ '42' | int + 1 }}{{ '4.5' | int }}{{ 'z' | int }}{{ 4.7 | int }}{{ '3' | float }}",
 "{{ ns }}{% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a }}{{ ns.b }}",
 "{{ true + 1 }}{{ 1 == 1.0 }}{{ [1] == [1] }}{{ (1,) == [1] }}{{ none == false }}",
 "{{ -1 | abs }}{{ -2.5 | abs }}{{ 'x' ~ 1 ~ none ~ true }}",
 "{{ d | tojson }}{{ d | items | list }}{{ d | list }}{{ d | string }}",
 "{{ '  a  ' | indent(2) }}|{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}",
 "{% for m in messages %}{{ loop.cycle('odd', 'even') }}{{ loop.revindex }}{{ loop.nextitem is defined }}{% endfor %}",
 "{{ 1.0 }} {{ 1.5e300 * 1e10 }} {{ -0.0 }} {{ 123456789012345678.0 }} {{ 1e16 }} {{ 0.0001 }} {{ 12345.678 }}",
 "{{ messages[0].content[1:] }}{{ messages[-1]['role'] }}{{ messages[5] }}{{ messages[5] is defined }}",
]
CORPUS_VARS = {"messages": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Yo"}],
               "d": {"a": 1, "b": [2]}, "s": "àÿßĀāĹĺŹźΑωςάΆέ 你a éb 😀c"}


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_expression_corpus_matches_jinja2(qtr, tmp_path, index):
    source = CORPUS[index]
    want, error = render_reference(transformers_env(), source, dict(CORPUS_VARS))
    tpl = tmp_path / "c.jinja"
    tpl.write_text(source, encoding="utf-8")
    (tmp_path / "m.json").write_text("[]")
    r = qtr("template", "--template", tpl, "--messages", tmp_path / "m.json", "--vars", json.dumps(CORPUS_VARS))
    if error is not None:
        assert r.returncode == 1, f"jinja2 failed ({error}), qtr gave {r.out!r}"
        return
    assert r.returncode == 0, r.describe()
    assert r.stdout.decode("utf-8") == want


# ---------------------------------------------------------------------------------------------------------------
# property-style: random small templates vs jinja2


def random_expr(rng: random.Random, depth: int = 0) -> str:
    leaves = ["1", "2", "-3", "0", "2.5", "'a'", "'Bc d'", "\"x'y\"", "none", "true", "false", "[1, 2, 3]",
              "['b', 'a']", "{'k': 1, 'j': 'v'}", "name", "num", "items", "msg", "msg.role", "msg['content']",
              "items[0]", "items[-1]", "items[1:]", "items[::-1]", "name[1:3]", "undefined_var", "(1, 'x')"]
    if depth > 2 or rng.random() < 0.35:
        return rng.choice(leaves)
    a, b = random_expr(rng, depth + 1), random_expr(rng, depth + 1)
    forms = [f"{a} + {b}", f"{a} - {b}", f"{a} * {b}", f"{a} ~ {b}", f"{a} == {b}", f"{a} != {b}", f"{a} < {b}",
             f"{a} and {b}", f"{a} or {b}", f"not {a}", f"{a} in {b}", f"{a} not in {b}", f"({a}) if {b} else {a}",
             f"{a} | string", f"{a} | length", f"{a} | tojson", f"{a} | default('d')", f"{a} is defined",
             f"{a} is none", f"{a} is string", f"{a} is mapping", f"{a} | upper", f"{a} | trim", f"{a} // {b}",
             f"{a} % {b}", f"{a} / {b}", f"[{a}, {b}]", f"{a} | first", f"{a} | list", f"{a} | join(',')",
             f"{a} is iterable", f"{a} | lower", f"{a} | capitalize", f"{a} | title", f"{a} | int",
             f"{a} | replace('a', 'Z')", f"({a}).strip()", f"({a}).split()", f"{a} | items | list", f"{a} | last",
             f"{a} | reverse | list", f"{a} | sort", f"{a} | unique | list", f"{a} is number", f"{a} >= {b}"]
    return rng.choice(forms)


def random_template(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        ws = rng.choice(["", "-"])
        if kind < 0.4:
            parts.append(f"{{{{{ws} {random_expr(rng)} {ws}}}}}")
        elif kind < 0.55:
            parts.append(f"{{%{ws} if {random_expr(rng)} %}}\n  T{{% else {ws}%}}\n F {{%- endif %}}")
        elif kind < 0.7:
            parts.append(f"{{% for x in {rng.choice(['items', 'name', 'msg', '[]', 'msg.items()'])} %}}"
                         f"\n  {{{{ loop.index }}}}:{{{{ x }}}}{{% if loop.last %}}!{{% endif %}}\n{{% endfor %}}")
        elif kind < 0.8:
            parts.append(f"{{% set ns = namespace(v={random_expr(rng)}) %}}{{% for i in range(3) %}}"
                         f"{{% set ns.v = ns.v ~ i %}}{{% endfor %}}[{{{{ ns.v }}}}]")
        else:
            parts.append(rng.choice([" text ", "\n", "  \n\t", "{# c #}\n", "a\n  {%+ if true %}b{% endif %}\n"]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(16))
def test_random_templates_match_jinja2(qtr, tmp_path, seed):
    rng = random.Random(seed)
    env_trim = transformers_env()
    env_plain = transformers_env(trim_blocks=False, lstrip_blocks=False)
    variables = {"name": "héllo wörld", "num": 7, "items": [3, 1, 2],
                 "msg": {"role": "user", "content": " Hi\n"}}
    msg_file = tmp_path / "m.json"
    msg_file.write_text("[]")
    failures = []
    for case in range(40):
        source = random_template(rng)
        plain = rng.random() < 0.3
        tpl = tmp_path / f"t{case}.jinja"
        tpl.write_text(source, encoding="utf-8")
        want, error = render_reference(env_plain if plain else env_trim, source, dict(variables, messages=[]))
        flags = ["--no-trim-blocks", "--no-lstrip-blocks"] if plain else []
        r = qtr("template", "--template", tpl, "--messages", msg_file, "--vars", json.dumps(variables), *flags)
        if error is not None:
            if r.returncode == 0:
                failures.append(f"{source!r}: jinja2 failed ({error}) but qtr gave {r.out!r}")
        elif r.returncode != 0 or r.stdout.decode("utf-8") != want:
            failures.append(f"{source!r} (plain={plain}): jinja2 {want!r}, qtr rc={r.returncode} {r.out!r} {r.err!r}")
    assert not failures, "\n".join(failures[:10])
