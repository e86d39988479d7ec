import Foundation
import PedigreeFormats

/// What every judge sees: the two models, the pairing, each pair's measures, and the combined
/// evidence of the independence test. Judges read it and return a `Judgement` or nil.
struct JudgeContext {
    let a: Model
    let b: Model
    let pairing: Pairing
    let outcomes: [PairOutcome]
    let alpha: Double
    /// Pairs that could be measured.
    let measured: [PairOutcome]
    /// Measured pairs with a permutation statistic.
    let evidence: [PairOutcome]
    /// The combined evidence (nil when no tensor carries any).
    let log10PValue: Double?
    let method: String
    /// Lines that explain the evidence, for every verdict.
    let evidenceLines: [String]
    /// Findings judges add on the way (kept whatever verdict wins).
    var findings: [Finding] = []
    /// The quantization analysis, kept whatever verdict wins (set by QuantizationJudge).
    var quantization: QuantizationReport?

    init(a: Model, b: Model, pairing: Pairing, outcomes: [PairOutcome], joint: PermutationStatistic?, alpha: Double) {
        self.a = a
        self.b = b
        self.pairing = pairing
        self.outcomes = outcomes
        self.alpha = alpha
        measured = outcomes.filter { $0.measures != nil }
        evidence = measured.filter { $0.statistic != nil }
        let combined = IndependenceJudge.combine(evidence: evidence, joint: joint, alpha: alpha)
        log10PValue = combined.log10PValue
        method = combined.method
        evidenceLines = combined.lines
    }

    /// Tensors present on one side only.
    var oneSided: [TensorInfo] { pairing.onlyInA + pairing.onlyInB }

    /// True when some pair compares only a shared prefix of rows (vocabularies of different sizes).
    var vocabularyDiffers: Bool {
        measured.contains { $0.pair.rows < $0.pair.a.rowCount || $0.pair.rows < $0.pair.b.rowCount }
    }

    /// Every tensor pairs up (one-sided buffers aside) with the same shape, and every pair was measured.
    var complete: Bool {
        oneSided.allSatisfy { TensorKind.of($0) == .buffer } && !vocabularyDiffers
            && !pairing.findings.contains { $0.code == "shape-mismatch" } && measured.count == outcomes.count
    }

    /// True when a pair holds the same values up to the rounding of the narrower float format.
    func valuesAgree(_ outcome: PairOutcome) -> Bool {
        guard let m = outcome.measures else { return false }
        if m.bitIdentical || (m.sums.unequal == 0 && m.sums.nonFinite == 0) { return true }
        if let r = m.rounding { return r.mismatches == 0 }
        return false
    }

    /// A judgement with `relation`, carrying the combined evidence and every finding so far.
    func judgement(_ relation: Relation, parent: String? = nil, _ summary: String, evidence extra: [String] = []) -> Judgement {
        Judgement(verdict: Verdict(relation: relation, parent: parent, log10PValue: log10PValue, alpha: alpha, method: method,
                                   summary: summary, evidence: extra + evidenceLines),
                  findings: findings, weighted: Set(evidence.map { $0.pair.a.name }))
    }
}

/// A verdict and what led to it.
struct Judgement {
    var verdict: Verdict
    var findings: [Finding] = []
    /// Tensors (a's names) that entered the combined evidence.
    var weighted: Set<String> = []
    /// Tensors (a's names) whose weights are strongly shared.
    var stronglyShared: Set<String> = []
    /// Sections of the deeper analyses, copied into the `Comparison`.
    var quantization: QuantizationReport?
    var lora: LoRAReport?
    var merge: MergeReport?
    var alignment: AlignmentReport?
}
