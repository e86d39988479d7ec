/// What the hidden-unit alignment found (compare's `alignment` section).
public struct AlignmentReport: Codable, Sendable, Equatable {
    /// How the units were matched and tested.
    public var method: String
    public var layers: [LayerAlignment]
    /// Fisher's combination of the layers' agreement p-values (log10).
    public var log10PValue: Double?
    /// True when every aligned tensor equals its counterpart after the permutation (and rescaling),
    /// up to the rounding of the narrower dtype.
    public var equalAfterAlignment: Bool
    /// The attention layers whose heads were aligned (omitted when heads were not aligned).
    public var heads: [HeadLayerAlignment]? = nil
    /// Fisher's combination of the head layers' agreement p-values (log10): a weak bound with few heads.
    public var headsLog10PValue: Double? = nil
    /// What was not aligned and why (a head count no file declares, shapes that do not fit).
    public var notes: [String]? = nil
    /// The residual-stream alignment, when the plain test found no relation (ResidualAlignment.swift).
    public var residual: ResidualAlignment? = nil
}

/// One attention layer: the permutation of its heads that best matches a's heads to b's.
public struct HeadLayerAlignment: Codable, Sendable, Equatable {
    /// The block (`encoder.layer.0.attention`, `model.layers.1.attention`).
    public var block: String
    /// Query heads, key/value heads (fewer under grouped-query attention) and the width of a head.
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Query heads on which the matching found from the query/key forms equals the one found from
    /// the value/output forms: about 1 for independent models, `heads` for a copy.
    public var matchedHeads: Int
    /// Heads the permutation leaves in place.
    public var fixedHeads: Int
    /// Mean over heads of the matched heads' cosine (query/key and value/output forms averaged).
    public var meanMatchedSimilarity: Double
    /// log10 P(agreement >= matchedHeads) under independent matchings: the fixed points of a
    /// uniform random permutation of the heads (moving key/value groups whole). Weak with few heads.
    public var log10PValue: Double
    /// `permutation[j]` is the head of a that b's head j holds.
    public var permutation: [Int]
    /// The same for key/value heads, under grouped-query attention.
    public var kvPermutation: [Int]?
    /// How the coordinates within a head were treated.
    public var withinHead: String
    /// Heads whose coordinates the within-head matching moved.
    public var headsWithMovedCoordinates: Int
    /// The measures of each tensor after alignment.
    public var tensors: [AlignedTensor]
}

/// One MLP layer: the permutation of its hidden units that best matches a's units to b's.
public struct LayerAlignment: Codable, Sendable, Equatable {
    /// The block (`encoder.layer.0.mlp`, `model.layers.1.mlp`).
    public var block: String
    /// Hidden (intermediate) units of the layer.
    public var units: Int
    /// Units on which the permutation found from the input-side rows (gate/up, intermediate)
    /// equals the one found from the output-side columns (down, output): about 1 for independent
    /// models, `units` for a copy.
    public var matchedUnits: Int
    /// Every pairwise agreement between the permutations found from single tensors.
    public var agreements: [PermutationAgreement]
    /// Units the permutation leaves in place.
    public var fixedUnits: Int
    /// Mean cosine of the matched units (input side).
    public var meanMatchedCosine: Double
    /// log10 P(agreement >= matchedUnits) for two independent uniform permutations (fixed points
    /// of a random permutation of `units`).
    public var log10PValue: Double
    /// The first entries of `permutation` and an FNV-1a checksum of all of it.
    public var permutationHead: [Int]
    public var permutationChecksum: String
    /// Median per-unit scale of b's input-side rows against a's (c of a rescaling attack), and of
    /// the output-side columns (1/c when the function is preserved).
    public var scaleIn: Double
    public var scaleOut: Double
    /// The measures of each tensor after alignment.
    public var tensors: [AlignedTensor]
    /// `permutation[j]` is the unit of a that b's unit j holds (b's rows are a's rows
    /// `permutation[0], permutation[1], ...`). Not in the JSON (see `permutationHead`).
    public var permutation: [Int] = []

    enum CodingKeys: String, CodingKey {
        case block, units, matchedUnits, agreements, fixedUnits, meanMatchedCosine, log10PValue
        case permutationHead, permutationChecksum, scaleIn, scaleOut, tensors
    }

    /// FNV-1a (64 bit) over the permutation's entries as little-endian UInt32, in hex.
    public static func checksum(_ permutation: [Int]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in permutation {
            var x = UInt32(truncatingIfNeeded: p)
            for _ in 0 ..< 4 {
                h ^= UInt64(x & 0xff)
                h = h &* 0x0000_0100_0000_01b3
                x >>= 8
            }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// How often two permutations, each found from one tensor, agree.
public struct PermutationAgreement: Codable, Sendable, Equatable {
    public var first: String
    public var second: String
    public var agree: Int
}

/// A tensor pair's measures after b's units were put in a's order.
public struct AlignedTensor: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var cosine: Double
    public var relL2: Double
    public var maxAbsDiff: Double
    /// Values that differ after rounding both sides to the narrower dtype (unscaled).
    public var roundingMismatches: Int
    /// ||b − s·a|| / ||b|| with the per-unit scales s.
    public var scaledResidual: Double
    /// Equal up to the narrower dtype's rounding (after the per-unit rescaling, if any).
    public var equal: Bool
}
