/// What the quantization analysis found (`quantization` in `pedigree.compare/1`): one side's
/// block-quantized tensors checked against the other side's floats.
public struct QuantizationReport: Codable, Sendable, Equatable {
    /// The quantized side ("a" or "b"); nil when both sides hold quantized tensors.
    public var quantizedSide: String?
    /// Blocks re-quantized with ggml's reference quantizer, and how many reproduce the stored bytes.
    public var blocks: Int64
    public var matchingBlocks: Int64
    /// matchingBlocks / blocks (nil when no block could be re-quantized).
    public var matchingShare: Double?
    /// True when the quantized side is, block for block, what the reference quantizer makes of the float side.
    public var faithful: Bool
    /// The GGUF quantization signature of the quantized side, when it is a GGUF file.
    public var signature: GGUFQuantizationSignature?
    /// One entry per quantized tensor, in pairing order.
    public var tensors: [Tensor]

    public struct Tensor: Codable, Sendable, Equatable {
        /// The quantized side's tensor name.
        public var name: String
        public var type: String
        /// Blocks re-quantized and matching (nil for types without a deterministic reference quantizer).
        public var blocks: Int64?
        public var matchingBlocks: Int64?
        /// ||float − dequantized||² / ||float||² over the values compared.
        public var nmse: Double?
        /// The NMSE the type's quantizer gives on Gaussian weights (`QuantizationError.expectedNMSE`).
        public var expectedNMSE: Double?
        /// nmse / expectedNMSE: about 1 for a faithful quantization, well above for another model's.
        public var nmseRatio: Double?
    }

    public init(quantizedSide: String?, blocks: Int64, matchingBlocks: Int64, faithful: Bool,
                signature: GGUFQuantizationSignature?, tensors: [Tensor]) {
        self.quantizedSide = quantizedSide
        self.blocks = blocks
        self.matchingBlocks = matchingBlocks
        self.matchingShare = blocks > 0 ? Double(matchingBlocks) / Double(blocks) : nil
        self.faithful = faithful
        self.signature = signature
        self.tensors = tensors
    }
}

/// The relative squared error each ggml type's quantizer leaves on Gaussian weights.
///
/// Measured values come from quantizing 2^19 N(0, 0.02²) values with this package's reference
/// quantizers (pdg_quantize_*_ref) and decoding them again; the others (types whose quantizer
/// searches or needs an importance matrix) are estimates from their bits per weight.
public enum QuantizationError {
    public static let expectedNMSE: [String: Double] = [
        // measured
        "Q4_0": 7.34e-3, "Q4_1": 6.10e-3, "Q5_0": 1.82e-3, "Q5_1": 1.43e-3, "Q8_0": 2.84e-5, "Q8_1": 2.84e-5,
        "Q2_K": 8.79e-2, "Q3_K": 2.28e-2, "Q4_K": 5.06e-3, "Q5_K": 1.30e-3, "Q6_K": 3.14e-4,
        // estimated
        "Q8_K": 2.8e-5, "IQ4_NL": 5.5e-3, "IQ4_XS": 5.5e-3, "IQ3_S": 1.5e-2, "IQ3_XXS": 2.0e-2, "IQ2_S": 4.0e-2,
        "IQ2_XS": 5.0e-2, "IQ2_XXS": 6.5e-2, "IQ1_M": 1.2e-1, "IQ1_S": 1.5e-1, "TQ1_0": 2.0e-1, "TQ2_0": 2.0e-1,
        "MXFP4": 1.0e-2, "NVFP4": 8.0e-3, "Q1_0": 3.6e-1, "Q2_0": 1.0e-1,
    ]

    /// True when `type` has a measured (not estimated) expectation.
    public static func isMeasured(_ type: String) -> Bool {
        ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"].contains(type)
    }
}
