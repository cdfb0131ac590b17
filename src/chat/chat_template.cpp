// ChatTemplate: the public face of the Jinja interpreter (parse once, render per conversation).
#include "qtr/chat_template.hpp"

#include "chat/jinja_ast.hpp"
#include "chat/jinja_eval.hpp"

namespace qtr {

namespace {

jinja::Value from_json(const Json& j) {
  switch (j.kind()) {
    case Json::Kind::null: return jinja::Value::none();
    case Json::Kind::boolean: return jinja::Value::boolean(j.as_bool("value"));
    case Json::Kind::integer: return jinja::Value::integer(j.as_int("value"));
    case Json::Kind::unsigned_integer: return jinja::Value::floating(j.as_double("value"));  // past int64
    case Json::Kind::number: return jinja::Value::floating(j.as_double("value"));
    case Json::Kind::string: return jinja::Value::string(j.as_string("value"));
    case Json::Kind::array: {
      jinja::List items;
      for (const auto& x : j.as_array("value")) items.push_back(from_json(x));
      return jinja::Value::list(std::move(items));
    }
    case Json::Kind::object: {
      auto d = std::make_shared<jinja::Dict>();
      for (const auto& [k, x] : j.as_object("value")) d->set(jinja::Value::string(k), from_json(x));
      return jinja::Value::dict(std::move(d));
    }
  }
  return jinja::Value::none();
}

}  // namespace

ChatTemplate::ChatTemplate(std::unique_ptr<jinja::Template> impl, ChatTemplateOptions options)
    : impl_(std::move(impl)), options_(options) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

const std::string& ChatTemplate::origin() const { return impl_->origin; }

ChatTemplate ChatTemplate::parse(std::string_view source, std::string origin, ChatTemplateOptions options) {
  const jinja::LexOptions lex{options.trim_blocks, options.lstrip_blocks};
  return ChatTemplate(jinja::parse_template(source, std::move(origin), lex), options);
}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  Json::Array messages;
  for (const auto& m : inputs.messages) {
    Json::Object o;
    o.emplace_back("role", Json(m.role));
    o.emplace_back("content", Json(m.content));
    messages.emplace_back(std::move(o));
  }
  Json::Object vars;
  vars.emplace_back("messages", Json(std::move(messages)));
  vars.emplace_back("add_generation_prompt", Json(inputs.add_generation_prompt));
  vars.emplace_back("bos_token", Json(inputs.bos_token));
  vars.emplace_back("eos_token", Json(inputs.eos_token));
  if (!inputs.variables.is_null()) {
    for (const auto& [k, v] : inputs.variables.as_object(impl_->origin + ": template variables")) {
      bool replaced = false;
      for (auto& [name, value] : vars) {
        if (name == k) {
          value = v;
          replaced = true;
        }
      }
      if (!replaced) vars.emplace_back(k, v);
    }
  }
  return render_json(Json(std::move(vars)));
}

std::string ChatTemplate::render_json(const Json& variables) const {
  std::unordered_map<std::string, jinja::Value> vars;
  if (!variables.is_null()) {
    for (const auto& [k, v] : variables.as_object(impl_->origin + ": template variables")) vars[k] = from_json(v);
  }
  jinja::RenderLimits limits;
  limits.max_output_bytes = options_.max_output_bytes;
  limits.max_steps = options_.max_steps;
  limits.max_call_depth = options_.max_call_depth;
  limits.jinja2_tojson = options_.tojson == ChatTemplateOptions::TojsonStyle::jinja2;
  jinja::Interpreter interpreter(*impl_, limits);
  return interpreter.render(std::move(vars));
}

}  // namespace qtr
