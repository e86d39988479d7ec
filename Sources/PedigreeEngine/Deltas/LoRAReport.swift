/// What the delta analysis found (`lora` in compare's JSON): the singular spectrum of every
/// changed matrix, a summary per module, and what the deltas add up to. For a PEFT adapter it
/// also describes the adapter, and with `--adapter` it holds the check MERGED == BASE + scale·B·A.
public struct LoRAReport: Codable, Sendable, Equatable {
    /// `lora` (low rank on a subset of modules, the rest unchanged), `finetune` (dense deltas
    /// throughout), `mixed`, `unchanged`, or `adapter` (a PEFT adapter against its base).
    public var classification: String
    /// The adapter rank the deltas imply (the largest rank of a low-rank module).
    public var rank: Int?
    /// Modules (layer index removed) whose deltas are low rank.
    public var targets: [String]
    /// True when every tensor outside the targets is bit-identical or equal up to a dtype conversion.
    public var untouchedUnchanged: Bool?
    public var bitIdenticalTensors: Int
    /// Tensors equal up to the rounding of the narrower dtype (not bit-identical).
    public var convertedTensors: Int
    public var changedTensors: Int
    public var modules: [ModuleDelta]
    public var tensors: [TensorDelta]
    public var direction: DirectionEvidence?
    public var adapter: AdapterSummary?
    public var check: AdapterCheck?
}

/// The deltas of one module (the same tensor name in every layer).
public struct ModuleDelta: Codable, Sendable, Equatable {
    /// e.g. `attention.self.query`, `self_attn.q_proj`.
    public var module: String
    public var tensors: Int
    public var changed: Int
    public var lowRank: Int
    /// The largest rank among its low-rank deltas.
    public var rank: Int?
    /// sqrt(Σ||ΔW||² / Σ||W_a||²) over its tensors.
    public var relL2: Double
    /// Its share of the whole model's delta energy Σ||ΔW||².
    public var energyShare: Double
}

/// The delta of one tensor pair.
public struct TensorDelta: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var module: String
    public var kind: TensorKind
    public var shape: [Int]
    /// `bit-identical`, `converted`, `low-rank`, `full-rank`, `changed` (1-D or too small for a
    /// spectrum) or `not-decoded`.
    public var status: String
    /// ||W_b − W_a|| / ||W_a||.
    public var relL2: Double?
    public var spectrum: SpectrumSummary?
    /// Top singular vectors of b (of a) with |cosine| below 0.5 to every top singular vector of
    /// the other side (arXiv 2410.21228); computed for changed matrices.
    public var intrudersB: Int?
    public var intrudersA: Int?
    /// Excess kurtosis of each side's values.
    public var kurtosisA: Double?
    public var kurtosisB: Double?
}

/// Which side the deltas say is the parent, and the statistics behind it.
public struct DirectionEvidence: Codable, Sendable, Equatable {
    /// Σ<W_a, ΔW> / Σ||ΔW||² over the low-rank deltas: near 0 when ΔW is orthogonal to a (a is
    /// the base a zero-initialised LoRA grew from), near −1 when orthogonal to b.
    public var orthogonality: Double?
    public var parent: String?
    /// Matrices whose excess kurtosis is lower in b than in a, of those compared (reported, not
    /// used: fine-tuning lowered kurtosis on most fixture tensors, against MoTHer's premise).
    public var kurtosisLowerInB: Int
    public var kurtosisCompared: Int
    public var note: String
}
