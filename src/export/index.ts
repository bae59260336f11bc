/** Export: a model folder → llama.cpp GGUF (f16 / q8_0) and an Ollama Modelfile. */
export { exportGguf, type ExportGgufOptions, type ExportedGguf } from "./write-gguf.js";
export { GGUF_ARCHITECTURES, type GgufQuant } from "./gguf-model.js";
export { buildModelfile, CHATML_GO_TEMPLATE, type BuiltModelfile } from "./modelfile.js";
