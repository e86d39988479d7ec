extension Model {
    /// Opens the model at `path`: a safetensors or GGUF file, a Hugging Face model directory,
    /// a sharded index, a PEFT adapter folder or a GGUF split set (formats.md section 2.1a).
    public static func open(_ path: String) throws(ReadError) -> Model {
        throw ReadError(path: path, code: .notAModel, message: "not implemented yet")
    }
}
