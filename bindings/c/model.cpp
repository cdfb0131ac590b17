// Models: options, load, free, info.
#include <memory>

#include "handles.hpp"
#include "io_helpers.hpp"
#include "qtr/generate.hpp"

using namespace qtr::capi;

namespace {

qtr_model_options model_defaults() {
  qtr_model_options o{};
  o.struct_size = sizeof o;
  o.n_threads = 0;
  o.repack = 1;
  o.isa = nullptr;
  o.use_mmap = 1;
  o.matmul_inputs = nullptr;
  return o;
}

}  // namespace

extern "C" {

qtr_status qtr_model_options_init(qtr_model_options* options, size_t struct_size) {
  return guard([&] { init_options(options, struct_size, model_defaults(), "qtr_model_options"); });
}

qtr_status qtr_model_load(const char* path, const qtr_model_options* options, qtr_model** out_model) {
  return guard([&] {
    require(out_model, "out_model");
    require(path, "path");
    qtr_model_options o = model_defaults();
    read_options(options, o, "qtr_model_options");
    qtr::LoadOptions load;
    load.n_threads = o.n_threads;
    load.repack = o.repack != 0;
    load.use_mmap = o.use_mmap != 0;
    if (o.isa != nullptr) load.isa = std::string(c_string(o.isa, "qtr_model_options.isa"));
    if (o.matmul_inputs != nullptr) {
      load.matmul_inputs = qtr::parse_matmul_inputs(c_string(o.matmul_inputs, "qtr_model_options.matmul_inputs"));
    }
    auto handle = std::make_unique<qtr_model>();
    handle->model = qtr::Model::load(path, load);
    handle->eog = qtr::end_of_generation_tokens(handle->model->tokenizer().vocab());
    register_handle(handle.get(), HandleKind::model);
    *out_model = handle.release();
  });
}

qtr_status qtr_model_free(qtr_model* model) {
  return guard([&] {
    if (model == nullptr) return;
    unregister_handle(model, HandleKind::model, "qtr_model_free");
    delete model;
  });
}

qtr_status qtr_model_get_info(const qtr_model* model, qtr_model_info* info) {
  return guard([&] {
    const qtr::Model& m = *model_of(model).model;
    const qtr::ModelConfig& c = m.config();
    const qtr::Vocab& vocab = m.tokenizer().vocab();
    qtr_model_info out{};
    out.struct_size = sizeof out;
    out.n_vocab = c.n_vocab;
    out.n_embd = c.n_embd;
    out.n_layer = c.n_layer;
    out.n_head = c.n_head;
    out.n_head_kv = c.n_head_kv;
    out.n_ctx_train = c.n_ctx_train;
    out.weight_bytes = m.weight_bytes();
    out.bos = vocab.bos;
    out.eos = vocab.eos;
    out.architecture = c.architecture.c_str();
    out.name = c.name.c_str();
    out.isa = m.isa();
    out.chat_template = m.chat_template().c_str();
    out.matmul_inputs = qtr::matmul_inputs_name(m.matmul_inputs());
    write_info(info, out, "qtr_model_info");
  });
}

qtr_status qtr_model_eog_tokens(const qtr_model* model, qtr_token* tokens, size_t capacity, size_t* n_tokens) {
  return guard([&] {
    const qtr_model& m = model_of(model);
    require(n_tokens, "n_tokens");
    check_buffer(tokens, capacity, "tokens");
    write_array(m.eog, tokens, capacity, n_tokens, "tokens");
  });
}

}  // extern "C"
