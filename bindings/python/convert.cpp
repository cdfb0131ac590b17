#include "convert.hpp"

#include <cmath>
#include <limits>
#include <random>

#include "qtr/error.hpp"
#include "qtr/sampling.hpp"

namespace py = pybind11;

namespace qtr::python {

py::str utf8_to_str(std::string_view text) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

std::vector<TokenId> to_token_ids(py::handle ids, size_t n_vocab) {
  // Lists, tuples and NumPy arrays are sequences; a str, a dict, a generator or a number is the caller's mistake.
  if (py::isinstance<py::str>(ids) || py::isinstance<py::bytes>(ids) || !py::isinstance<py::sequence>(ids)) {
    throw py::type_error("token ids must be a sequence of int (list, tuple or NumPy integer array), got " +
                         std::string(py::str(py::type::of(ids).attr("__name__"))));
  }
  std::vector<TokenId> out;
  for (py::handle item : ids) {
    if (!PyIndex_Check(item.ptr()) || PyBool_Check(item.ptr())) {
      throw py::type_error("token ids must be integers, got " +
                           std::string(py::str(py::type::of(item).attr("__name__"))));
    }
    const py::int_ value = py::reinterpret_steal<py::int_>(PyNumber_Index(item.ptr()));
    if (!value) throw py::error_already_set();
    int overflow = 0;
    const long long id = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0 || id < 0 || static_cast<unsigned long long>(id) >= n_vocab) {
      throw Error(Errc::invalid_argument, "token id " + std::string(py::str(value)) + " (at index " +
                                              std::to_string(out.size()) + ") is outside the vocabulary (" +
                                              std::to_string(n_vocab) + " tokens)");
    }
    out.push_back(static_cast<TokenId>(id));
  }
  return out;
}

std::vector<std::string> to_stop_strings(py::handle stop) {
  if (stop.is_none()) return {};
  if (py::isinstance<py::str>(stop)) return {stop.cast<std::string>()};
  if (!py::isinstance<py::sequence>(stop)) {
    throw py::type_error("stop must be None, a str or a sequence of str");
  }
  std::vector<std::string> out;
  for (py::handle item : stop) {
    if (!py::isinstance<py::str>(item)) throw py::type_error("stop must be None, a str or a sequence of str");
    out.push_back(item.cast<std::string>());
  }
  return out;
}

std::vector<ChatMessage> to_chat_messages(py::handle messages) {
  if (py::isinstance<py::str>(messages) || !py::isinstance<py::sequence>(messages)) {
    throw py::type_error("messages must be a list of {'role': str, 'content': str} dicts");
  }
  std::vector<ChatMessage> out;
  for (py::handle item : messages) {
    const std::string where = "messages[" + std::to_string(out.size()) + "]";
    if (!py::isinstance<py::dict>(item) && !py::hasattr(item, "keys")) {
      throw py::type_error(where + " must be a dict with 'role' and 'content'");
    }
    ChatMessage message;
    for (const char* key : {"role", "content"}) {
      if (!item.attr("__contains__")(key).cast<bool>()) {
        throw Error(Errc::invalid_argument, where + " has no '" + key + "'");
      }
      py::object value = item[py::str(key)];
      if (!py::isinstance<py::str>(value)) throw py::type_error(where + "['" + key + "'] must be a str");
      (key[0] == 'r' ? message.role : message.content) = value.cast<std::string>();
    }
    out.push_back(std::move(message));
  }
  return out;
}

Json to_json(py::handle variables) {
  if (variables.is_none()) return Json();
  if (!py::isinstance<py::dict>(variables)) throw py::type_error("template variables must be a dict or None");
  const std::string text = py::module_::import("json").attr("dumps")(variables).cast<std::string>();
  return parse_json(text, "template variables");
}

GenerateOptions to_generate_options(const SamplingArgs& args, size_t n_vocab) {
  GenerateOptions options;
  if (args.max_tokens < 0) {
    throw Error(Errc::invalid_argument, "max_tokens must be >= 0, got " + std::to_string(args.max_tokens));
  }
  options.n_predict = args.max_tokens;
  SamplingParams& p = options.sampling;
  p.temperature = args.temperature;
  p.top_k = args.top_k;
  p.top_p = args.top_p;
  p.min_p = args.min_p;
  p.repeat_penalty = args.repeat_penalty;
  p.penalty_last_n = args.penalty_last_n;
  p.presence_penalty = args.presence_penalty;
  p.frequency_penalty = args.frequency_penalty;
  if (!args.logit_bias.is_none()) {
    if (!py::isinstance<py::dict>(args.logit_bias)) throw py::type_error("logit_bias must be a dict {token id: bias}");
    for (auto [key, value] : args.logit_bias.cast<py::dict>()) {
      if (!PyLong_Check(key.ptr()) || PyBool_Check(key.ptr())) throw py::type_error("logit_bias keys must be int");
      const auto id = key.cast<long long>();
      if (id < 0 || static_cast<unsigned long long>(id) >= n_vocab) {
        throw Error(Errc::invalid_argument, "logit_bias: token id " + std::to_string(id) +
                                                " is outside the vocabulary (" + std::to_string(n_vocab) + " tokens)");
      }
      p.logit_bias.push_back({static_cast<TokenId>(id), value.cast<float>()});
    }
  }
  if (args.seed.is_none()) {
    std::random_device device;
    p.seed = (static_cast<uint64_t>(device()) << 32) | device();
  } else {
    if (!PyLong_Check(args.seed.ptr()) || PyBool_Check(args.seed.ptr())) throw py::type_error("seed must be an int or None");
    const unsigned long long seed = PyLong_AsUnsignedLongLong(args.seed.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      throw Error(Errc::invalid_argument, "seed must be in [0, 2**64), got " + std::string(py::str(args.seed)));
    }
    p.seed = seed;
  }
  options.stop = to_stop_strings(args.stop);
  validate(p, n_vocab);
  StopMatcher check(options.stop);  // empty or invalid stop strings fail here, before any work
  return options;
}

py::array_t<float> vector_to_array(std::vector<float>&& data, int64_t rows, int64_t cols) {
  auto vector = std::make_unique<std::vector<float>>(std::move(data));
  py::capsule owner(vector.get(), [](void* p) { delete static_cast<std::vector<float>*>(p); });
  const std::vector<float>* owned = vector.release();  // the capsule deletes it with the array
  if (rows < 0) return py::array_t<float>({static_cast<py::ssize_t>(cols)}, owned->data(), owner);
  return py::array_t<float>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)}, owned->data(), owner);
}

}  // namespace qtr::python
