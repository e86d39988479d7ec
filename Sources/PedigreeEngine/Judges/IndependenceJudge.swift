import Foundation
import PedigreeFormats

/// `derived`, `related` or `unrelated`, from the hidden-permutation test (HiddenPermutationTest).
///
/// Null model: the two models were initialised independently, so B's residual-stream basis is an
/// arbitrary permutation of A's. Tensors that share that basis are combined into one joint
/// statistic; tensors whose axis is unknown are tested alone and joined by Fisher's method.
/// How much of the evidence-carrying parameters is strongly shared (significant at alpha/k with
/// cosine >= 0.5) tells a descendant of the whole model (`derived`) from partial reuse or a
/// sibling (`related`). What it does not prove: a p-value is evidence with a false-positive rate
/// of alpha, not proof of origin; the test is blind to weights that were shared and then
/// rotated by more than a permutation.
enum IndependenceJudge {
    /// A tensor is strongly shared when significant and at least this similar (raw cosine).
    static let sharedCosine = 0.5
    /// Share of evidence-carrying parameters strongly shared for `derived` rather than `related`.
    static let derivedShare = 0.5

    struct Combined {
        var log10PValue: Double?
        var method: String
        var lines: [String]
    }

    /// Combines the joint statistic and the standalone tensors' p-values into one.
    static func combine(evidence: [PairOutcome], joint: PermutationStatistic?, alpha: Double) -> Combined {
        var groups = [Double]()
        var lines = [String]()
        if let joint { groups.append(joint.log10PValue) }
        let standalone = evidence.filter { $0.pair.hiddenAxis == nil }
        groups += standalone.map { $0.statistic!.log10PValue }
        if let joint {
            lines.append(String(format: "hidden-permutation test over %d residual-stream units, %d tensors: z = %.1f (Stouffer sum with the exact variance of the joint permutation null)",
                                joint.units, evidence.count - standalone.count, joint.z))
            lines.append(String(format: "a permutation test cannot honestly report p below 1/%d! (log10 %.1f): smaller p-values are reported at that bound",
                                joint.units, -NormalTail.log10Factorial(joint.units)))
        }
        if !standalone.isEmpty {
            lines.append("\(standalone.count) tensors whose residual-stream axis is unknown were tested on their own permutation null and combined with Fisher's method")
        }
        lines.append("p is the probability of evidence this strong if the models were initialised independently; at alpha = \(alpha) about \(Int((alpha * 100).rounded()))% of unrelated pairs would be called related: statistical evidence, not proof of origin")
        let log10P: Double? = groups.isEmpty ? nil : (groups.count == 1 ? groups[0] : NormalTail.fisherLog10(groups))
        return Combined(log10PValue: log10P, method: groups.count > 1 ? "fisher" : "stouffer", lines: lines)
    }

    static func judge(_ c: JudgeContext) -> Judgement {
        guard !c.measured.isEmpty else {
            let reason = c.outcomes.isEmpty
                ? "no tensor of a has a counterpart in b with the same name and shape: nothing can be compared"
                : "no tensor pair could be decoded: nothing can be compared"
            return c.judgement(.inconclusive, reason)
        }
        guard let log10P = c.log10PValue, !c.evidence.isEmpty else {
            return c.judgement(.inconclusive, "no tensor pair carries evidence (only norms, biases, buffers or constant tensors are comparable)")
        }
        let threshold = log10(c.alpha / Double(c.evidence.count))
        var sharedParameters = 0, evidenceParameters = 0
        var shared = [PairOutcome]()
        for o in c.evidence {
            let n = o.pair.rows * o.pair.a.rowLength
            evidenceParameters += n
            if o.statistic!.log10PValue < threshold, (o.measures!.cosine ?? 0) >= sharedCosine {
                sharedParameters += n
                shared.append(o)
            }
        }
        let pText = log10P < -300 ? String(format: "log10 p = %.1f", log10P) : String(format: "p = %.3g", pow(10, log10P))
        if log10P >= log10(c.alpha) {
            return c.judgement(.unrelated, "no evidence of shared weights beyond chance (\(pText) under the hidden-permutation null, alpha \(c.alpha))")
        }
        let fraction = evidenceParameters > 0 ? Double(sharedParameters) / Double(evidenceParameters) : 0
        let sharedLine = String(format: "%d of %d evidence-carrying tensors (%.0f%% of their parameters) are strongly shared (significant at alpha/%d and cosine >= %.1f)",
                                shared.count, c.evidence.count, 100 * fraction, c.evidence.count, sharedCosine)
        var judgement: Judgement
        if fraction >= derivedShare {
            let parent = vocabularyParent(c)
            var summary = "one model descends from the other: shared weights far beyond chance (\(pText)); \(sharedLine)"
            if let parent { summary += "; \(parent == "a" ? "b" : "a") has added vocabulary rows, so \(parent) is the parent" }
            judgement = c.judgement(.derived, parent: parent, summary)
        } else {
            let sharedBlocks = Set(shared.map { BlockNaming.block(of: $0.pair) }).sorted()
            let summary = "the models share weights (\(pText)) but neither descends from the other as a whole: \(sharedLine)"
                + (sharedBlocks.isEmpty ? "; the evidence is spread thinly over many tensors" : "; shared: \(sharedBlocks.joined(separator: ", "))")
            judgement = c.judgement(.related, summary)
        }
        judgement.stronglyShared = Set(shared.map { $0.pair.a.name })
        return judgement
    }

    /// The side without added vocabulary rows, when one side's embeddings are a prefix of the other's.
    static func vocabularyParent(_ c: JudgeContext) -> String? {
        let grown = c.measured.filter { $0.pair.rows < max($0.pair.a.rowCount, $0.pair.b.rowCount) }
        let bigger = Set(grown.map { $0.pair.a.rowCount > $0.pair.b.rowCount ? "a" : "b" })
        guard bigger.count == 1 else { return nil }
        return bigger.first == "a" ? "b" : "a"
    }
}
