import CPedigreeKernels
import PedigreeFormats

/// Everything one streamed pass over a tensor pair measures.
public struct PairMeasures: Sendable {
    public var sums = pdg_pair_sums()
    /// Same storage type and the same bytes (after row maps).
    public var bitIdentical = false
    /// Conversion check, when both sides are plain floats of different formats: values of the
    /// wider side that do not round to the narrower side's values, and values of the wider side
    /// that the narrower format cannot hold exactly.
    public var rounding: RoundingCheck?
    /// Re-quantization check, when one side is block-quantized and the other float.
    public var requantization: RequantizationCheck?
    /// Sampled units × sampled positions of each side, for the hidden-permutation test.
    public var sample: HiddenSample?

    public var cosine: Double? {
        let denominator = (sums.sumA2 * sums.sumB2).squareRoot()
        return denominator > 0 ? sums.dot / denominator : nil
    }

    /// ||a − b|| / ||a||.
    public var relativeL2: Double? {
        sums.sumA2 > 0 ? (sums.sumDiff2 / sums.sumA2).squareRoot() : (sums.sumDiff2 == 0 ? 0 : nil)
    }

    /// True when every value is zero on both sides, or constant: such tensors carry no evidence.
    public var isDegenerate: Bool {
        let n = Double(max(sums.count, 1))
        let varA = sums.sumA2 / n - (sums.sumA / n) * (sums.sumA / n)
        let varB = sums.sumB2 / n - (sums.sumB / n) * (sums.sumB / n)
        return !(varA > 0) || !(varB > 0)
    }
}

/// The outcome of rounding one side to the other's float format.
public struct RoundingCheck: Sendable, Codable, Equatable {
    /// The side holding the wider format ("a" or "b"); nil when neither contains the other.
    public var widerSide: String?
    public var narrowFormat: String
    public var mismatches: Int64 = 0
    public var inexact: Int64 = 0
    public var checked: Int64 = 0
}

/// The outcome of re-quantizing the float side with the reference quantizer.
public struct RequantizationCheck: Sendable, Codable, Equatable {
    /// The quantized side ("a" or "b").
    public var quantizedSide: String
    public var type: String
    public var blocks: Int64 = 0
    public var matchingBlocks: Int64 = 0
    /// False when no reference quantizer exists for the type in this build.
    public var available: Bool
}

/// A regular sample of a pair for the hidden-permutation test: `units` residual-stream units,
/// each with the same `positions` values on both sides, unit-major.
public struct HiddenSample: Sendable {
    public let units: Int
    public let positions: Int
    /// True when the tensor's hidden axis matches the model's residual stream (joint test).
    public let joint: Bool
    public var a: [Float]
    public var b: [Float]
}
