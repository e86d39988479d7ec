/// What the merge analysis found (`merge` in compare's JSON, `compare CHILD --parents P1 P2 ...`).
public struct MergeReport: Codable, Sendable, Equatable {
    public var parents: [String]
    public var base: String?
    /// True when CHILD is a combination of the parents with a residual at the child's rounding level.
    public var isMerge: Bool
    /// `linear`, `task-arithmetic`, `sparsified` (TIES/DARE signature) or `none`.
    public var method: String
    /// Least-squares weights for the whole model, CHILD ≈ Σ w_i P_i, one per parent.
    public var weights: [Double]?
    /// ||CHILD − Σ w_i P_i|| / ||CHILD|| for the whole-model weights.
    public var residual: Double?
    /// Residual energy over the energy the child's dtype rounding alone gives (about 1 when exact).
    public var residualOverRounding: Double?
    /// Task arithmetic relative to the base: CHILD − B ≈ Σ λ_i (P_i − B).
    public var taskArithmetic: TaskArithmeticFit?
    /// TIES/DARE signatures of the task vectors (with a base).
    public var signatures: MergeSignatures?
    public var tensors: [MergeTensor]
}

public struct TaskArithmeticFit: Codable, Sendable, Equatable {
    public var lambdas: [Double]?
    /// ||τ_C − Σ λ_i τ_i|| / ||τ_C||.
    public var residual: Double?
    public var residualOverRounding: Double?
}

/// Traces sparsifying merges leave in the task vectors τ = model − base.
public struct MergeSignatures: Codable, Sendable, Equatable {
    /// Share of entries where the child equals the base exactly.
    public var childZeroShare: Double
    /// The same, beyond the entries where every parent equals the base (drops, trims).
    public var excessZeroShare: Double
    public var parentZeroShares: [Double]
    /// Per parent: share of entries (both non-zero) where τ_C and τ_i have the same sign.
    public var signAgreement: [Double]
    /// Per parent: the task-arithmetic slope on the child's non-zero entries over the slope on all
    /// entries; DARE's 1/(1−p) rescale shows as about 1/(1 − excessZeroShare).
    public var rescale: [Double?]
}

/// The fit of one tensor.
public struct MergeTensor: Codable, Sendable, Equatable {
    public var tensor: String
    public var weights: [Double]?
    public var residual: Double?
    /// Why no coefficient is given: the parents agree on this tensor, or it is all zero.
    public var note: String?
}
