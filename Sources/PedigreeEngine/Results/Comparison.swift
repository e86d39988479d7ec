import PedigreeFormats

/// The name and version every output carries.
public struct ToolInfo: Codable, Sendable, Equatable {
    public var name = "pedigree"
    public var version = PedigreeVersion.current
    public init() {}
}

/// Pedigree's version, printed in every output.
public enum PedigreeVersion {
    public static let current = "0.1.0"
}

/// One side of a comparison, as the header describes it.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var path: String
    public var format: String
    public var version: Int?
    public var tensors: Int
    public var parameters: Int
    /// Tensors per storage type (`F32`, `Q4_0`, ...).
    public var dtypes: [String: Int]

    public init(_ model: Model) {
        path = model.path
        format = model.format.rawValue
        version = model.version
        tensors = model.tensors.count
        parameters = model.parameterCount
        var counts = [String: Int]()
        for t in model.tensors { counts[t.type.name, default: 0] += 1 }
        dtypes = counts
    }
}

/// The measures of one tensor pair (verdicts.md section 3, `tensors[]`).
public struct TensorComparison: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var kind: TensorKind
    public var shape: [Int]
    /// b's shape, when it differs from a's (extra vocabulary rows).
    public var shapeB: [Int]?
    public var dtypeA: String
    public var dtypeB: String
    /// Rows compared, when fewer than a's rows (a shared vocabulary prefix).
    public var rowsCompared: Int?
    public var cosine: Double?
    public var relL2: Double?
    public var maxAbsDiff: Double?
    public var bitIdentical: Bool
    /// Values that differ after rounding the wider side to the narrower format (conversions).
    public var roundingMismatches: Int64?
    /// Re-quantization of the float side with ggml's reference quantizer.
    public var requantization: RequantizationCheck?
    /// The hidden-permutation z-score and its log10 p-value (evidence tensors only).
    public var z: Double?
    public var log10PValue: Double?
    /// Weight of this tensor in the combined evidence (0 for norms, biases, buffers).
    public var weight: Double
    /// Why no measure is given (an undecodable type).
    public var note: String?
}

/// Evidence per block of the model (embeddings, each layer's attention and MLP, head).
public struct BlockEvidence: Codable, Sendable, Equatable {
    public var name: String
    /// Residual-stream units the block's permutation test ran over.
    public var units: Int
    public var tensors: Int
    /// Tensors whose weights are strongly shared (significant and cosine >= 0.5).
    public var sharedTensors: Int
    public var z: Double
    public var log10PValue: Double
    /// MLP blocks that were aligned: hidden units on which the input- and output-side matchings
    /// agree (`alignment.layers[].matchedUnits`).
    public var matchedUnits: Int?
}

/// The result of `compare A B` (`pedigree.compare/1`).
public struct Comparison: Codable, Sendable, Equatable {
    public var schema = "pedigree.compare/1"
    public var tool = ToolInfo()
    public var a: ModelSummary
    public var b: ModelSummary
    public var verdict: Verdict
    public var tensors: [TensorComparison]
    public var blocks: [BlockEvidence]
    public var findings: [Finding]
    /// Sections of the deeper analyses, present when they ran.
    public var quantization: QuantizationReport?
    public var lora: LoRAReport?
    public var merge: MergeReport?
    public var alignment: AlignmentReport?
}
