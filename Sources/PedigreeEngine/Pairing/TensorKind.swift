import PedigreeFormats

/// What a tensor is, which decides whether it carries evidence (verdicts.md section 2).
public enum TensorKind: String, Codable, Sendable {
    /// A weight matrix (2-D or more): evidence.
    case matrix
    /// A token, position or type embedding: evidence.
    case embedding
    /// A norm gain: every model starts it at 1, so it is no evidence.
    case norm
    /// A bias: every model starts it at 0, so it is no evidence.
    case bias
    /// Integer buffers such as `position_ids`: no evidence.
    case buffer
    case other

    /// Classifies `tensor` from its name (HF or GGUF spelling), type and shape.
    public static func of(_ tensor: TensorInfo) -> TensorKind {
        let name = tensor.name.lowercased()
        if tensor.type.isInteger || name.hasSuffix("position_ids") || name.hasSuffix("inv_freq") { return .buffer }
        let nonUnit = tensor.shape.filter { $0 > 1 }
        if nonUnit.count <= 1 {
            if name.hasSuffix(".bias") || name.hasSuffix("_bias") { return .bias }
            if name.contains("norm") || name.contains("ln_") || name.contains(".ln") { return .norm }
            return tensor.shape.isEmpty ? .other : .norm
        }
        let embeddingMarks = ["embed", "embd", "wte", "wpe", "token_types", "position_embeddings"]
        if embeddingMarks.contains(where: { name.contains($0) }) && !name.contains("norm") { return .embedding }
        return .matrix
    }

    /// True for the kinds whose similarity between independently initialised models is near zero.
    public var carriesEvidence: Bool { self == .matrix || self == .embedding }
}
