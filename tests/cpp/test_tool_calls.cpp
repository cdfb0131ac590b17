// Tool calls: reading OpenAI tools and tool_choice (and their errors), format detection from templates, parsing
// each format's replies (well-formed, several calls, malformed), and call grammars that accept exactly the calls
// the schemas allow.
#include <gtest/gtest.h>

#include "grammar/grammar.hpp"
#include "qtr/error.hpp"
#include "qtr/tool_calls.hpp"
#include "test_support.hpp"

namespace qtr {
namespace {

const char* kTools = R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                  "required": ["city"]}}},
  {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}
])";

std::vector<ToolFunction> tools() { return parse_tools(parse_json(kTools, "tools")); }

void expect_error(const std::function<void()>& f, const char* words) {
  try {
    f();
    ADD_FAILURE() << "no error, wanted: " << words;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(ToolCalls, ToolsAndChoices) {
  const auto t = tools();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "get_weather");
  EXPECT_EQ(parse_tool_choice(Json(), t).kind, ToolChoice::Kind::automatic);
  EXPECT_EQ(parse_tool_choice(Json(), {}).kind, ToolChoice::Kind::none);
  EXPECT_EQ(parse_tool_choice(Json(std::string("required")), t).kind, ToolChoice::Kind::required);
  const auto named = parse_tool_choice(parse_json(R"({"type": "function", "function": {"name": "ping"}})", "c"), t);
  EXPECT_EQ(named.kind, ToolChoice::Kind::named);
  EXPECT_EQ(named.name, "ping");
  expect_error([&] { parse_tool_choice(parse_json(R"({"type": "function", "function": {"name": "nope"}})", "c"), t); },
               "'nope', which is not one of the tools");
  expect_error([&] { parse_tool_choice(Json(std::string("sometimes")), t); }, "tool_choice must be");
  expect_error([&] { parse_tool_choice(Json(std::string("required")), {}); }, "no tools are given");
  expect_error([] { parse_tools(parse_json(R"([{"type": "function", "function": {"description": "x"}}])", "t")); },
               "tools[0].function.name");
  expect_error([] { parse_tools(parse_json(R"([{"type": "function", "function": {"name": "a b"}}])", "t")); },
               "tools[0].function.name");
  expect_error([] { parse_tools(parse_json(R"([{"function": {"name": "a"}}, {"function": {"name": "a"}}])", "t")); },
               "two tools are named 'a'");
  expect_error([] { parse_tools(parse_json(R"([{"function": {"name": "a", "parameters": 3}}])", "t")); },
               "parameters must be a JSON Schema object");
  expect_error([] { parse_tools(parse_json(R"([{"type": "retrieval"}])", "t")); }, "type must be \"function\"");
}

TEST(ToolCalls, FormatsFromTemplates) {
  const auto dir = std::filesystem::path(QTR_SOURCE_DIR) / "tests/fixtures/chat-templates";
  auto format = [&](const char* name) { return detect_tool_call_format(test::read_file(dir / name)); };
  EXPECT_EQ(format("Qwen-Qwen2.5-7B-Instruct.jinja"), ToolCallFormat::hermes);
  EXPECT_EQ(format("Qwen-Qwen3-0.6B.jinja"), ToolCallFormat::hermes);
  EXPECT_EQ(format("meta-llama-Llama-3.1-8B-Instruct.jinja"), ToolCallFormat::llama3_json);
  EXPECT_EQ(format("meta-llama-Llama-3.2-3B-Instruct.jinja"), ToolCallFormat::llama3_json);
  EXPECT_EQ(format("mistralai-Mistral-Nemo-Instruct-2407.jinja"), ToolCallFormat::mistral);
  EXPECT_EQ(format("ibm-granite-granite-3.3-2B-Instruct.jinja"), ToolCallFormat::granite);
  EXPECT_EQ(format("HuggingFaceTB-SmolLM2-135M-Instruct.jinja"), ToolCallFormat::generic);
  EXPECT_EQ(detect_tool_call_format("{{ '<start_function_call>' }}"), ToolCallFormat::function_gemma);
}

TEST(ToolCalls, ParsesEachFormat) {
  auto one = [](const ToolReply& r, const char* name, const char* args) {
    ASSERT_EQ(r.tool_calls.size(), 1u) << r.content << " / " << r.error;
    EXPECT_EQ(r.tool_calls[0].name, name);
    EXPECT_EQ(r.tool_calls[0].arguments, args);
    EXPECT_EQ(r.tool_calls[0].id.rfind("call_", 0), 0u);
  };
  one(parse_tool_reply("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
                       ToolCallFormat::hermes), "get_weather", R"({"city": "Paris"})");
  one(parse_tool_reply(R"({"name": "get_weather", "parameters": {"city": "Rome", "days": 2}})", ToolCallFormat::llama3_json),
      "get_weather", R"({"city": "Rome", "days": 2})");
  one(parse_tool_reply(R"(<|python_tag|>{"name": "ping", "parameters": {}})", ToolCallFormat::llama3_json), "ping", "{}");
  one(parse_tool_reply(R"(<|tool_call|>[{"name": "ping", "arguments": {}}])", ToolCallFormat::granite), "ping", "{}");
  one(parse_tool_reply(R"({"tool_calls": [{"name": "ping", "arguments": "{}"}]})", ToolCallFormat::generic), "ping", "{}");
  one(parse_tool_reply("<start_function_call>call:get_weather{city:<escape>Paris, FR<escape>,days:3}<end_function_call>",
                       ToolCallFormat::function_gemma), "get_weather", R"({"city": "Paris, FR", "days": 3})");
  const ToolReply m = parse_tool_reply(
      R"([TOOL_CALLS][{"name": "ping", "arguments": {}, "id": "abcdefghi"}, {"name": "get_weather", "arguments": {"city": "x"}, "id": "bcdefghij"}])",
      ToolCallFormat::mistral);
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].id, "abcdefghi");
  EXPECT_EQ(m.tool_calls[1].name, "get_weather");
  // Text around calls, several calls, and stable ids.
  const std::string two = "Let me check.\n<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>\n"
                          "<tool_call>\n{\"name\": \"ping\", \"arguments\": {\"a\": 1}}\n</tool_call>";
  const ToolReply h = parse_tool_reply(two, ToolCallFormat::hermes);
  ASSERT_EQ(h.tool_calls.size(), 2u);
  EXPECT_EQ(h.content, "Let me check.");
  EXPECT_NE(h.tool_calls[0].id, h.tool_calls[1].id);
  EXPECT_EQ(h.tool_calls[0].id, parse_tool_reply(two, ToolCallFormat::hermes).tool_calls[0].id);
  // Plain text and malformed calls.
  const ToolReply text = parse_tool_reply("The weather is fine.", ToolCallFormat::hermes);
  EXPECT_TRUE(text.tool_calls.empty());
  EXPECT_EQ(text.content, "The weather is fine.");
  EXPECT_TRUE(text.error.empty());
  for (auto [reply, format] : std::vector<std::pair<const char*, ToolCallFormat>>{
           {"<tool_call>\n{\"name\": \"ping\", \"arguments\": {\n</tool_call>", ToolCallFormat::hermes},
           {"<tool_call>\n{\"arguments\": {}}\n</tool_call>", ToolCallFormat::hermes},
           {"[TOOL_CALLS][{\"name\": 3}]", ToolCallFormat::mistral},
           {"{\"tool_calls\": [{\"name\": \"ping\"}]}", ToolCallFormat::generic}}) {
    const ToolReply r = parse_tool_reply(reply, format);
    EXPECT_TRUE(r.tool_calls.empty()) << reply;
    EXPECT_FALSE(r.error.empty()) << reply;
    EXPECT_EQ(r.content, reply);
  }
}

TEST(ToolCalls, GrammarsAcceptExactlyTheAllowedCalls) {
  const auto t = tools();
  const ToolChoice required = parse_tool_choice(Json(std::string("required")), t);
  const ToolCallGrammar hermes = tool_call_grammar(t, required, ToolCallFormat::hermes);
  EXPECT_TRUE(hermes.trigger.empty());
  const auto g = grammar::parse_gbnf(hermes.gbnf, {.allow_unused_rules = true});
  EXPECT_TRUE(grammar::grammar_accepts(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"));
  EXPECT_TRUE(grammar::grammar_accepts(g, "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>\n"
                                          "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(grammar::grammar_accepts(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>"));  // city
  EXPECT_FALSE(grammar::grammar_accepts(g, "<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(grammar::grammar_accepts(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\", \"x\": 1}}\n</tool_call>"));
  EXPECT_FALSE(grammar::grammar_accepts(g, "Sure! <tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>"));

  const ToolChoice named = parse_tool_choice(parse_json(R"({"type": "function", "function": {"name": "ping"}})", "c"), t);
  const auto single = grammar::parse_gbnf(tool_call_grammar(t, named, ToolCallFormat::hermes, false).gbnf, {.allow_unused_rules = true});
  EXPECT_TRUE(grammar::grammar_accepts(single, "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(grammar::grammar_accepts(single, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\"}}\n</tool_call>"));
  EXPECT_FALSE(grammar::grammar_accepts(single, "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>\n"
                                               "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>"));

  const ToolChoice automatic = parse_tool_choice(Json(std::string("auto")), t);
  EXPECT_EQ(tool_call_grammar(t, automatic, ToolCallFormat::hermes).trigger, "<tool_call>");
  EXPECT_EQ(tool_call_grammar(t, automatic, ToolCallFormat::mistral).trigger, "[TOOL_CALLS]");
  const auto generic = grammar::parse_gbnf(tool_call_grammar(t, automatic, ToolCallFormat::generic).gbnf, {.allow_unused_rules = true});
  EXPECT_TRUE(grammar::grammar_accepts(generic, R"({"content": "It is sunny."})"));
  EXPECT_TRUE(grammar::grammar_accepts(generic, R"({"tool_calls": [{"name": "ping", "arguments": {}}]})"));
  EXPECT_FALSE(grammar::grammar_accepts(generic, R"({"tool_calls": []})"));
  const auto llama = grammar::parse_gbnf(tool_call_grammar(t, required, ToolCallFormat::llama3_json).gbnf, {.allow_unused_rules = true});
  EXPECT_TRUE(grammar::grammar_accepts(llama, R"({"name":"get_weather","parameters":{"city":"Oslo","days":3}})"));
  EXPECT_FALSE(grammar::grammar_accepts(llama, R"({"name":"get_weather","arguments":{"city":"Oslo"}})"));
  EXPECT_THROW(tool_call_grammar(t, ToolChoice{ToolChoice::Kind::none, ""}, ToolCallFormat::hermes), Error);
}

}  // namespace
}  // namespace qtr
