import Foundation
import PedigreeFormats

/// Turns the measures of every tensor pair into one verdict, trying the relations of
/// verdicts.md section 1 in order (the first that holds wins).
///
/// - identical, conversion and quantized are exact checks: bytes, rounding, re-quantization.
/// - Otherwise the hidden-permutation test decides whether the models share weights (p < alpha),
///   and how much of the evidence-carrying parameters are strongly shared tells `derived`
///   (the model as a whole) from `related` (some blocks only).
enum VerdictRules {
    struct Judgement {
        var verdict: Verdict
        var findings: [Finding] = []
        /// Tensors (a's names) that entered the combined evidence.
        var weighted: Set<String> = []
        /// Tensors (a's names) whose weights are strongly shared.
        var stronglyShared: Set<String> = []
    }

    /// Share of re-quantized blocks that must reproduce the stored codes for `quantized`.
    static let faithfulBlockShare = 0.99
    /// A tensor is strongly shared when significant and at least this similar (raw cosine).
    static let sharedCosine = 0.5
    /// Share of evidence-carrying parameters strongly shared for `derived` rather than `related`.
    static let derivedShare = 0.5

    static func judge(a: Model, b: Model, pairing: Pairing, outcomes: [PairOutcome],
                      joint: PermutationStatistic?, alpha: Double) -> Judgement {
        let measured = outcomes.filter { $0.measures != nil }
        let evidence = measured.filter { $0.statistic != nil }
        let oneSided = pairing.onlyInA + pairing.onlyInB
        let onlyBuffersOneSided = oneSided.allSatisfy { TensorKind.of($0) == .buffer }
        let vocabularyDiffers = measured.contains { $0.pair.rows < $0.pair.a.rowCount || $0.pair.rows < $0.pair.b.rowCount }
        let shapeMismatches = pairing.findings.contains { $0.code == "shape-mismatch" }

        // Combined evidence: the joint hidden-permutation statistic, and Fisher over the rest.
        var groupLog10Ps = [Double]()
        var evidenceLines = [String]()
        if let joint { groupLog10Ps.append(joint.log10PValue) }
        let standalone = evidence.filter { !$0.pair.hiddenAxisIsJoint }
        groupLog10Ps += standalone.map { $0.statistic!.log10PValue }
        let method = groupLog10Ps.count > 1 ? "fisher" : "stouffer"
        let log10P: Double? = groupLog10Ps.isEmpty ? nil
            : (groupLog10Ps.count == 1 ? groupLog10Ps[0] : NormalTail.fisherLog10(groupLog10Ps))
        if let joint {
            evidenceLines.append(String(format: "hidden-permutation test over %d residual-stream units, %d tensors: z = %.1f (Stouffer sum with the exact variance of the joint permutation null)",
                                        joint.units, evidence.count - standalone.count, joint.z))
            evidenceLines.append(String(format: "a permutation test cannot honestly report p below 1/%d! (log10 %.1f): smaller p-values are reported at that bound",
                                        joint.units, -NormalTail.log10Factorial(joint.units)))
        }
        if !standalone.isEmpty {
            evidenceLines.append("\(standalone.count) tensors whose residual-stream axis is unknown were tested on their own permutation null and combined with Fisher's method")
        }
        evidenceLines.append("p is the probability of evidence this strong if the models were initialised independently; at alpha = \(alpha) about \(Int(alpha * 100))% of unrelated pairs would be called related: statistical evidence, not proof of origin")

        var judgement = Judgement(verdict: Verdict(relation: .inconclusive, log10PValue: log10P, alpha: alpha, method: method,
                                                   summary: "", evidence: evidenceLines))
        judgement.weighted = Set(evidence.map { $0.pair.a.name })

        func verdict(_ relation: Relation, parent: String? = nil, _ summary: String, extra: [String] = []) -> Judgement {
            var j = judgement
            j.verdict = Verdict(relation: relation, parent: parent, log10PValue: log10P, alpha: alpha, method: method,
                                summary: summary, evidence: extra + evidenceLines)
            return j
        }

        guard !measured.isEmpty else {
            let reason = outcomes.isEmpty
                ? "no tensor of a has a counterpart in b with the same name and shape: nothing can be compared"
                : "no tensor pair could be decoded: nothing can be compared"
            return verdict(.inconclusive, reason)
        }

        // identical: every tensor has the same name, shape, dtype and bytes.
        if oneSided.isEmpty, !vocabularyDiffers, !shapeMismatches, measured.count == outcomes.count,
           measured.allSatisfy({ $0.measures!.bitIdentical && $0.pair.rowMapA == $0.pair.rowMapB }) {
            return verdict(.identical, "every tensor has the same name, shape, dtype and bytes (\(measured.count) tensors)")
        }

        let valuesAgree: (PairOutcome) -> Bool = { o in
            let m = o.measures!
            if m.bitIdentical || (m.sums.unequal == 0 && m.sums.nonFinite == 0) { return true }
            if let r = m.rounding { return r.mismatches == 0 }
            return false
        }
        let complete = onlyBuffersOneSided && !vocabularyDiffers && !shapeMismatches && measured.count == outcomes.count

        // conversion: every tensor equal up to the rounding of the narrower dtype.
        if complete, measured.allSatisfy({ $0.pair.a.type.floatFormat != nil && $0.pair.b.type.floatFormat != nil }),
           measured.allSatisfy(valuesAgree) {
            var votes = Set<String>()
            var rounded = 0, widened = 0
            for o in measured {
                guard let r = o.measures!.rounding, let wider = r.widerSide else { continue }
                if r.inexact > 0 { votes.insert(wider); rounded += 1 }
                else { votes.insert(wider == "a" ? "b" : "a"); widened += 1 }
            }
            let parent = votes.count == 1 ? votes.first : nil
            let formats = Set(measured.map { "\($0.pair.a.type.name)→\($0.pair.b.type.name)" }).sorted().joined(separator: ", ")
            var summary = "the same values in another container or dtype (\(formats)): every tensor equals the other side's up to the rounding of the narrower dtype"
            if rounded > 0 { summary += "; \(rounded) tensors were rounded" }
            if widened > 0 { summary += "; \(widened) tensors were widened exactly" }
            if measured.contains(where: { $0.pair.rowMapA != $0.pair.rowMapB }) {
                summary += "; llama.cpp's rotary Q/K row order undone"
            }
            return verdict(.conversion, parent: parent, summary)
        }

        // quantized: one side's block-quantized tensors re-quantize from the other's floats.
        let quantizedPairs = measured.filter { $0.measures!.requantization != nil }
        if complete, !quantizedPairs.isEmpty {
            let checks = quantizedPairs.map { $0.measures!.requantization! }
            let sides = Set(checks.map(\.quantizedSide))
            let available = checks.allSatisfy(\.available)
            let blocks = checks.reduce(Int64(0)) { $0 + $1.blocks }
            let matching = checks.reduce(Int64(0)) { $0 + $1.matchingBlocks }
            let others = measured.filter { $0.measures!.requantization == nil }
            let share = blocks > 0 ? Double(matching) / Double(blocks) : 0
            if sides.count == 1, available, blocks > 0, share >= faithfulBlockShare, others.allSatisfy(valuesAgree) {
                let side = sides.first!, floatSide = side == "a" ? "b" : "a"
                let types = Set(checks.map(\.type)).sorted().joined(separator: "/")
                let summary = String(format: "%@ is a faithful %@ quantization of %@: %.2f%% of %lld blocks re-quantize bit for bit with ggml's reference quantizer; the other %d tensors are equal up to dtype rounding",
                                     side, types, floatSide, 100 * share, blocks, others.count)
                return verdict(.quantized, parent: floatSide, summary)
            }
            if available, blocks > 0 {
                judgement.findings.append(Finding(.info, "requantization-mismatch",
                    String(format: "only %.1f%% of %lld quantized blocks re-quantize from the float side: not a faithful quantization of it", 100 * share, blocks)))
            } else if !available {
                judgement.findings.append(Finding(.info, "requantization-unavailable",
                    "no reference quantizer for \(Set(checks.map(\.type)).sorted().joined(separator: ", ")) in this build: faithfulness not checked"))
            }
        }

        // Shared weights beyond chance?
        guard let log10P, !evidence.isEmpty else {
            return verdict(.inconclusive, "no tensor pair carries evidence (only norms, biases, buffers or constant tensors are comparable)")
        }
        let threshold = log10(alpha / Double(evidence.count))
        var sharedParameters = 0, evidenceParameters = 0
        var shared = [PairOutcome]()
        for o in evidence {
            let n = o.pair.rows * o.pair.a.rowLength
            evidenceParameters += n
            if o.statistic!.log10PValue < threshold, (o.measures!.cosine ?? 0) >= sharedCosine {
                sharedParameters += n
                shared.append(o)
            }
        }
        judgement.stronglyShared = Set(shared.map { $0.pair.a.name })
        let pText = log10P < -300 ? String(format: "log10 p = %.1f", log10P) : String(format: "p = %.3g", pow(10, log10P))
        if log10P >= log10(alpha) {
            return verdict(.unrelated, "no evidence of shared weights beyond chance (\(pText) under the hidden-permutation null, alpha \(alpha))")
        }
        let fraction = evidenceParameters > 0 ? Double(sharedParameters) / Double(evidenceParameters) : 0
        let sharedLine = String(format: "%d of %d evidence-carrying tensors (%.0f%% of their parameters) are strongly shared (significant at alpha/%d and cosine >= %.1f)",
                                shared.count, evidence.count, 100 * fraction, evidence.count, sharedCosine)
        if fraction >= derivedShare {
            // Direction: the side with added vocabulary rows is the child.
            var parent: String?
            let grown = measured.filter { $0.pair.rows < max($0.pair.a.rowCount, $0.pair.b.rowCount) }
            if !grown.isEmpty {
                let bigger = Set(grown.map { $0.pair.a.rowCount > $0.pair.b.rowCount ? "a" : "b" })
                if bigger.count == 1 { parent = bigger.first == "a" ? "b" : "a" }
            }
            var summary = "one model descends from the other: shared weights far beyond chance (\(pText)); \(sharedLine)"
            if let parent { summary += "; \(parent == "a" ? "b" : "a") has added vocabulary rows, so \(parent) is the parent" }
            return verdict(.derived, parent: parent, summary)
        }
        let sharedBlocks = Set(shared.map { BlockNaming.block(of: $0.pair) }).sorted()
        let summary = "the models share weights (\(pText)) but neither descends from the other as a whole: \(sharedLine)"
            + (sharedBlocks.isEmpty ? "; the evidence is spread thinly over many tensors" : "; shared: \(sharedBlocks.joined(separator: ", "))")
        return verdict(.related, summary)
    }
}

extension TensorPair {
    /// True when the pair's permutation statistic joins the whole-model joint statistic.
    var hiddenAxisIsJoint: Bool { hiddenAxis != nil }
}
