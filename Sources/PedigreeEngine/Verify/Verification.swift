/// The result of `verify MODEL` (`pedigree.verify/1`): every claim the model's files make (or the
/// one given with `--claimed-base`), each checked against the weights.
public struct Verification: Codable, Sendable, Equatable {
    public var schema = "pedigree.verify/1"
    public var tool = ToolInfo()
    public var model: ModelSummary
    /// verdicts.md section 4: `contradicted` if any strong claim is, else `inconclusive` if any
    /// is (or there is none), else `supported`. Weak claims are reported, never decisive.
    public var result: ClaimResult
    public var alpha: Double
    public var summary: String
    public var claims: [ClaimCheck]
    /// When a claimed base is not available: the known models (`--models`) the weights do descend from.
    public var derivesFrom: [KnownRelative]?
    /// What the result does and does not prove.
    public var caveat: String
    public var findings: [Finding]
}

/// One claim and what the weights say about it.
public struct ClaimCheck: Codable, Sendable, Equatable {
    public var claim: Claim
    public var result: ClaimResult
    /// Why, in one sentence.
    public var reason: String
    /// Whether this claim enters the model's result (false for weak claims).
    public var decisive: Bool
    /// Each claimed base and the comparison with it.
    public var bases: [BaseCheck]
    /// For merge claims: the merge as judged against all claimed parents at once.
    public var merge: MergeCheck?
}

/// A claimed base: how it resolved and what `compare BASE MODEL` found.
public struct BaseCheck: Codable, Sendable, Equatable {
    public var id: String
    /// The local path the id resolved to (`--models`, or the path given); absent when not available.
    public var path: String?
    /// The relation found (absent when the base was not available).
    public var relationFound: Relation?
    /// `"base"`, `"model"` or absent: the side the evidence shows to be the ancestor.
    public var parentFound: String?
    public var pValue: Double?
    public var log10PValue: Double?
    public var method: String?
    public var summary: String?
    public var evidence: [String]?
    /// Per-block evidence (embeddings, each layer's attention and MLP, head).
    public var blocks: [BlockEvidence]?
    /// sqrt(Σ||base − model||²) / sqrt(Σ||base||²) over the shared matrices and embeddings.
    public var relativeDistance: Double?
}

/// A merge claim checked against every claimed parent at once.
public struct MergeCheck: Codable, Sendable, Equatable {
    /// `merge-analysis` (the delta judge with all parents) or `segment-geometry` (the child lies on
    /// the segment between two parents: a linear or near-linear merge).
    public var method: String
    public var isMerge: Bool
    /// Estimated weights, in the claim's parent order.
    public var weights: [Double]?
    /// (||P1 − C|| + ||C − P2||) / ||P1 − P2|| − 1 for the segment test.
    public var excess: Double?
    public var summary: String
}

/// A known model the weights are related to.
public struct KnownRelative: Codable, Sendable, Equatable {
    public var id: String
    public var path: String
    public var relation: Relation
    /// `"known"` when the known model is the ancestor, absent when the direction is not shown.
    public var parent: String?
    public var log10PValue: Double?
    public var summary: String
}
