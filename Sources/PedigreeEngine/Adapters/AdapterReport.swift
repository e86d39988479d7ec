/// A PEFT adapter as compare reads it: its configuration and every module it adapts.
public struct AdapterSummary: Codable, Sendable, Equatable {
    public var path: String
    /// The side of the comparison the adapter is on (`a` or `b`); nil for `--adapter`.
    public var side: String?
    public var peftType: String?
    /// `base_model_name_or_path`: the base the adapter claims.
    public var baseModel: String?
    public var r: Int
    public var loraAlpha: Double
    /// alpha / r, or alpha / sqrt(r) with `use_rslora`.
    public var scaling: Double
    public var useRslora: Bool
    public var fanInFanOut: Bool
    public var targetModules: [String]
    public var modules: [AdapterModule]
    /// Adapter keys that match no tensor of the base (a loader would drop them: never a zero update).
    public var unmatchedKeys: [String]
}

/// One adapted module.
public struct AdapterModule: Codable, Sendable, Equatable {
    public var module: String
    public var baseTensor: String?
    public var rank: Int
    public var alpha: Double
    public var scaling: Double
    /// `matched`, `no-base-tensor`, `shape-mismatch`, `incomplete` (one factor missing).
    public var status: String
    /// ||scale·B·A|| / ||W_base||.
    public var relL2: Double?
}

/// The check MERGED == BASE + scale·B·A. Errors are in units of the merged dtype's epsilon at
/// the tensor's scale, |m − e| / (eps · max|m|) (eps = 2^-10 for F16, 2^-7 for BF16, 2^-23 for
/// F32): rounding alone gives at most 0.5. `maxErrorUlps` is the same error per element in ulps of
/// the element itself, which grows without bound near zero and is reported, not judged.
public struct AdapterCheck: Codable, Sendable, Equatable {
    public var passed: Bool
    /// Largest error allowed, in epsilons.
    public var tolerance: Double
    /// Largest error over the adapted tensors, in epsilons.
    public var maxErrorEpsilon: Double
    /// Largest error over every other tensor (expected: the base, up to the dtype conversion).
    public var untouchedMaxErrorEpsilon: Double
    /// Largest per-element error over the adapted tensors, in ulps of each element.
    public var maxErrorUlps: Double
    public var tensors: [AdapterCheckTensor]
    public var untouchedTensors: Int
    /// Adapter modules with no base tensor to check.
    public var unmatchedModules: Int
}

public struct AdapterCheckTensor: Codable, Sendable, Equatable {
    public var tensor: String
    public var dtype: String
    public var maxErrorEpsilon: Double
    public var maxErrorUlps: Double
    public var maxAbsError: Double
}
