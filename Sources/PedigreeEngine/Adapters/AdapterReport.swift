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

/// The check MERGED == BASE + scale·B·A, errors in units of the merged dtype's spacing (ulp).
public struct AdapterCheck: Codable, Sendable, Equatable {
    public var passed: Bool
    /// Largest error allowed, in ulps of the merged side's dtype (rounding gives at most 0.5).
    public var tolerance: Double
    /// Largest error over the adapted tensors.
    public var maxErrorUlps: Double
    /// Largest error over every other tensor (expected: the base, up to the dtype conversion).
    public var untouchedMaxErrorUlps: Double
    public var tensors: [AdapterCheckTensor]
    public var untouchedTensors: Int
    /// Adapter modules with no base tensor to check.
    public var unmatchedModules: Int
}

public struct AdapterCheckTensor: Codable, Sendable, Equatable {
    public var tensor: String
    public var dtype: String
    public var maxErrorUlps: Double
    public var maxAbsError: Double
}
