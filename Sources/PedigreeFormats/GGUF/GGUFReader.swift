/// Reads GGUF files (placeholder until the reader lands).
public enum GGUFReader {
    /// Opens a single GGUF file, or the split set it belongs to, as one model.
    public static func openModel(path: String) throws(ReadError) -> Model {
        throw ReadError(path: path, code: .notAModel, message: "not implemented yet")
    }
}
