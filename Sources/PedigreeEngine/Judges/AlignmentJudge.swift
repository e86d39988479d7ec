import Foundation
import PedigreeFormats

/// `permuted`: equal after a permutation of hidden units (and a function-preserving rescaling),
/// up to dtype rounding (verdicts.md section 1), from `UnitAlignment`.
///
/// Runs on a `derived` or `related` verdict when some MLP tensor differs and is not strongly shared. It returns `permuted`
/// when every aligned tensor equals its counterpart, every other tensor agrees, and the
/// permutation or the scale is not the identity. A `related` verdict keeps its relation and gains
/// the alignment section, so partial reuse shows per block (`matchedUnits`). Otherwise nil.
enum AlignmentJudge {
    static func permuted(_ context: JudgeContext, _ base: Judgement) -> Judgement? {
        let layers = UnitAlignment.layers(of: context.pairing)
        guard !layers.isEmpty else { return nil }
        let layerTensors = Set(layers.flatMap { $0.pairs.map { $0.0.a.name } })
        let mlp = context.measured.filter { layerTensors.contains($0.pair.a.name) }
        // Only where some MLP tensor is not already strongly shared: a fine-tune needs no alignment.
        guard !mlp.isEmpty, !mlp.allSatisfy({ context.valuesAgree($0) }),
              mlp.contains(where: { !base.stronglyShared.contains($0.pair.a.name) }) else { return nil }
        let aligned: [LayerAlignment]
        do throws(ReadError) {
            aligned = try UnitAlignment.align(context.a, context.b, pairing: context.pairing)
        } catch {
            return nil
        }
        let equal = aligned.allSatisfy { $0.tensors.allSatisfy(\.equal) }
        let combined = aligned.isEmpty ? nil : Numbers.rounded(NormalTail.fisherLog10(aligned.map(\.log10PValue)), places: 1)
        let report = AlignmentReport(
            method: "linear assignment on unit cosine (input rows, output columns, both); per layer the agreement of the input- and output-side permutations against the fixed points of a uniform random permutation; Fisher's method across layers",
            layers: aligned, log10PValue: combined, equalAfterAlignment: equal)
        let lines = aligned.map { l in
            String(format: "%@: %d of %d units agree between the input- and output-side matchings (log10 p = %.1f); %d units in place; scale %.4g / %.4g",
                   l.block, l.matchedUnits, l.units, l.log10PValue, l.fixedUnits, l.scaleIn, l.scaleOut)
        }
        let others = context.measured.filter { !layerTensors.contains($0.pair.a.name) }
        let moved = aligned.contains { $0.fixedUnits < $0.units || abs($0.scaleIn - 1) > 1e-3 || abs($0.scaleOut - 1) > 1e-3 }
        if equal, moved, context.complete, others.allSatisfy({ context.valuesAgree($0) }) {
            let scaled = aligned.filter { abs($0.scaleIn - 1) > 1e-3 }
            var summary = "b is a with the hidden units of \(aligned.filter { $0.fixedUnits < $0.units }.count) MLP layer(s) permuted"
            if !scaled.isEmpty { summary += String(format: " and rescaled (input side by %.4g, output side by %.4g)", scaled[0].scaleIn, scaled[0].scaleOut) }
            summary += ": after alignment every tensor is equal up to dtype rounding; the network function is unchanged"
            var judgement = context.judgement(.permuted, summary, evidence: lines)
            judgement.weighted = base.weighted
            judgement.stronglyShared = base.stronglyShared
            judgement.alignment = report
            return judgement
        }
        guard base.verdict.relation == .related else { return nil }
        var judgement = base
        judgement.verdict.evidence = lines + judgement.verdict.evidence
        judgement.alignment = report
        return judgement
    }
}
