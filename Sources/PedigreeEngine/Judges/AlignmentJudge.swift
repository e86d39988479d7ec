import Foundation
import PedigreeFormats

/// `permuted`: equal after a permutation of hidden units (and a function-preserving rescaling),
/// up to dtype rounding (verdicts.md section 1), from `UnitAlignment` (MLP units) and
/// `HeadAlignment` (attention heads).
///
/// Runs on a `derived` or `related` verdict when some MLP or attention tensor differs and is not
/// strongly shared; each kind of layer is aligned only where one of its tensors does. It returns
/// `permuted` when every aligned tensor equals its counterpart, every other tensor agrees, and some
/// permutation or scale is not the identity. A `related` verdict keeps its relation and gains the
/// alignment section, so partial reuse shows per block (`matchedUnits`, `matchedHeads`).
/// Otherwise nil.
enum AlignmentJudge {
    static func permuted(_ context: JudgeContext, _ base: Judgement) -> Judgement? {
        let layers = UnitAlignment.layers(of: context.pairing)
        let layerTensors = Set(layers.flatMap { $0.pairs.map { $0.0.a.name } })
        let attentionTensors = HeadAlignment.candidateTensors(of: context.pairing)
        // Only where some tensor is not already strongly shared: a fine-tune needs no alignment.
        func calls(_ names: Set<String>) -> Bool {
            let tensors = context.measured.filter { names.contains($0.pair.a.name) }
            return !tensors.isEmpty && !tensors.allSatisfy { context.valuesAgree($0) }
                && tensors.contains { !base.stronglyShared.contains($0.pair.a.name) }
        }
        let alignUnits = !layers.isEmpty && calls(layerTensors)
        let alignHeads = calls(attentionTensors)
        guard alignUnits || alignHeads else { return nil }
        var aligned = [LayerAlignment]()
        var heads = [HeadLayerAlignment]()
        var notes = [String]()
        do throws(ReadError) {
            if alignUnits { aligned = try UnitAlignment.align(context.a, context.b, pairing: context.pairing) }
            if alignHeads {
                let found = try HeadAlignment.align(context.a, context.b, pairing: context.pairing)
                heads = found.layers
                if let note = found.note { notes.append(note) }
            }
        } catch {
            return nil
        }
        guard !aligned.isEmpty || !heads.isEmpty else {
            guard base.verdict.relation == .related, !notes.isEmpty else { return nil }
            var judgement = base
            judgement.verdict.evidence = notes + judgement.verdict.evidence
            judgement.alignment = AlignmentReport(method: "no layer could be aligned", layers: [], log10PValue: nil,
                                                  equalAfterAlignment: false, notes: notes)
            return judgement
        }
        let equal = aligned.allSatisfy { $0.tensors.allSatisfy(\.equal) } && heads.allSatisfy { $0.tensors.allSatisfy(\.equal) }
        let combined = aligned.isEmpty ? nil : Numbers.rounded(NormalTail.fisherLog10(aligned.map(\.log10PValue)), places: 1)
        let headsCombined = heads.isEmpty ? nil : Numbers.rounded(NormalTail.fisherLog10(heads.map(\.log10PValue)), places: 1)
        var method = "linear assignment on unit cosine (input rows, output columns, both); per layer the agreement of the input- and output-side permutations against the fixed points of a uniform random permutation; Fisher's method across layers"
        if !heads.isEmpty {
            method += "; attention heads: linear assignment on the cosine of each head's query/key form (Wqᵀ·Wk) and value/output form (Wo·Wv), key/value groups moved whole, the agreement of the two matchings against the fixed points of a random head permutation (a weak bound with few heads: permuted rests on the equality after alignment)"
        }
        let report = AlignmentReport(method: method, layers: aligned, log10PValue: combined, equalAfterAlignment: equal,
                                     heads: heads.isEmpty ? nil : heads, headsLog10PValue: headsCombined,
                                     notes: notes.isEmpty ? nil : notes)
        var lines = aligned.map { l in
            String(format: "%@: %d of %d units agree between the input- and output-side matchings (log10 p = %.1f); %d units in place; scale %.4g / %.4g",
                   l.block, l.matchedUnits, l.units, l.log10PValue, l.fixedUnits, l.scaleIn, l.scaleOut)
        }
        lines += heads.map { l in
            String(format: "%@: %d of %d heads agree between the query/key and value/output matchings (log10 p = %.1f, a weak bound with %d heads); %d heads in place",
                   l.block, l.matchedHeads, l.heads, l.log10PValue, l.heads, l.fixedHeads)
        }
        lines += notes
        let alignedTensors = (alignUnits ? layerTensors : []).union(heads.isEmpty ? [] : Set(heads.flatMap { $0.tensors.map(\.a) }))
        let others = context.measured.filter { !alignedTensors.contains($0.pair.a.name) }
        let movedUnits = aligned.filter { $0.fixedUnits < $0.units || abs($0.scaleIn - 1) > 1e-3 || abs($0.scaleOut - 1) > 1e-3 }
        let movedHeads = heads.filter { $0.fixedHeads < $0.heads || $0.headsWithMovedCoordinates > 0 }
        if equal, !movedUnits.isEmpty || !movedHeads.isEmpty, context.complete, others.allSatisfy({ context.valuesAgree($0) }) {
            let scaled = aligned.filter { abs($0.scaleIn - 1) > 1e-3 }
            var parts = [String]()
            if !movedUnits.isEmpty {
                var part = "the hidden units of \(aligned.filter { $0.fixedUnits < $0.units }.count) MLP layer(s) permuted"
                if !scaled.isEmpty { part += String(format: " and rescaled (input side by %.4g, output side by %.4g)", scaled[0].scaleIn, scaled[0].scaleOut) }
                parts.append(part)
            }
            if !movedHeads.isEmpty {
                var part = "the attention heads of \(movedHeads.count) layer(s) permuted"
                let within = movedHeads.filter { $0.headsWithMovedCoordinates > 0 }.count
                if within > 0 { part += " (with coordinates permuted within heads in \(within) of them)" }
                parts.append(part)
            }
            let summary = "b is a with " + parts.joined(separator: " and ")
                + ": after alignment every tensor is equal up to dtype rounding; the network function is unchanged"
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
