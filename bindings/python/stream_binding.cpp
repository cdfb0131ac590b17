// qtr.TextStream: the iterator Model.generate and Model.chat(stream=True) return.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "stream_binding.hpp"
#include "text_stream.hpp"

namespace py = pybind11;

namespace qtr::python {

const char* stop_reason_key(StopReason reason) {
  switch (reason) {
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::eog: return "eog";
    case StopReason::stop_string: return "stop_string";
    case StopReason::context_full: return "context_full";
    case StopReason::cancelled: return "cancelled";
  }
  return "unknown";
}

void bind_text_stream(py::module_& m) {
  py::class_<TextStream, std::unique_ptr<TextStream>>(m, "TextStream", R"doc(
An iterator over the text of one generation, in pieces of complete UTF-8 (str).

The generation runs on a worker thread (the GIL released) and stays a few pieces ahead of the reader. Iteration
ends when the generation stops (see `stop_reason`). `close()` -- or leaving a `with` block, or dropping the
iterator -- cancels a generation still running. Ctrl-C while waiting for a piece cancels the generation and
raises KeyboardInterrupt. One thread reads a stream at a time.
)doc")
      .def("__iter__", [](py::object self) { return self; }, "Returns the stream itself.")
      .def(
          "__next__",
          [](TextStream& s) -> py::str {
            std::optional<std::string> piece = s.next();
            if (!piece) throw py::stop_iteration();
            return utf8_to_str(*piece);
          },
          "The next piece of text; StopIteration when the generation is over.")
      .def("close", &TextStream::close,
           "Cancels the generation if it is still running and waits for it to stop. Safe to call more than once.")
      .def("__enter__", [](py::object self) { return self; }, "Returns the stream itself.")
      .def(
          "__exit__", [](TextStream& s, const py::args&) { s.close(); },
          "Closes the stream (cancelling a generation still running).")
      .def_property_readonly("finished", &TextStream::finished,
                             "True once the generation has stopped (ran out, hit a stop, or was closed).")
      .def_property_readonly(
          "stop_reason",
          [](const TextStream& s) -> py::object {
            const auto reason = s.stop_reason();
            if (!reason) return py::none();
            return py::str(stop_reason_key(*reason));
          },
          "Why the generation stopped: 'max_tokens', 'eog' (end-of-generation token), 'stop_string', "
          "'context_full' or 'cancelled'; None while it runs.")
      .def_property_readonly(
          "stop_string", [](const TextStream& s) { return utf8_to_str(s.stop_string()); },
          "The stop string that ended the generation ('' unless stop_reason is 'stop_string').")
      .def_property_readonly("tokens", &TextStream::tokens,
                             "The sampled token ids (complete once finished; an end-of-generation token is not "
                             "included).")
      .def_property_readonly(
          "text", [](const TextStream& s) { return utf8_to_str(s.text()); },
          "All the text this stream has returned so far.")
      .def_property_readonly("n_prompt_tokens", &TextStream::n_prompt_tokens,
                             "How many tokens the prompt had.");
}

}  // namespace qtr::python
