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

extension AlignmentJudge {
    /// A residual-stream permutation (`ResidualStreamAlignment`), tried only on an `unrelated`
    /// verdict: the agreement of two independently found permutations of the hidden dimension,
    /// then, when it is significant (below alpha/2: the pair's second test, Bonferroni; the measured
    /// false-positive rate of the whole pipeline is `PipelineNullCheck`'s), every tensor measured
    /// with b's residual axis in a's order.
    /// `permuted` when all of them (and every tensor without a residual axis) are equal; `derived`
    /// or `related` when the aligned tensors are shared (cosine >= 0.5) but not equal; otherwise
    /// the verdict stays `unrelated` and carries the check in its alignment section.
    /// Tests a pair can get: the plain hidden-permutation test, then the residual alignment.
    static let testsPerPair = 2

    static func residual(_ context: JudgeContext, _ base: Judgement) -> Judgement? {
        guard base.verdict.relation == .unrelated, let d = context.pairing.hiddenSize else { return nil }
        let estimated: ResidualAlignment?
        do throws(ReadError) {
            estimated = try ResidualStreamAlignment.estimate(context.a, context.b, pairing: context.pairing)
        } catch {
            return nil
        }
        guard var found = estimated else { return nil }
        let method = "residual stream: linear assignment on the column correlation of \(found.sources.joined(separator: " and ")) over \(found.sampledRows) sampled rows each; the agreement of the two permutations against the fixed points of a uniform random permutation of \(d) units"
        guard let matched = found.matchedUnits, let log10P = found.log10PValue else {
            var judgement = base
            judgement.verdict.evidence = ["residual-stream screen: \(found.bestMatchAgreement) of \(d) hidden units have the same best match in \(found.sources[0]) and \(found.sources[1]) (fewer than \(ResidualStreamAlignment.screen): no sign of a permuted residual stream, the assignment was not run)"] + judgement.verdict.evidence
            judgement.alignment = AlignmentReport(method: method, layers: [], log10PValue: nil, equalAfterAlignment: false, residual: found)
            return judgement
        }
        let agreement = String(format: "residual-stream alignment: %d of %d hidden units agree between the permutations found from %@ and %@ (log10 p = %.1f, bounded below by 1/%d!)",
                               matched, d, found.sources[0], found.sources[1], log10P, d)
        func unchanged(_ extra: String) -> Judgement {
            var judgement = base
            judgement.verdict.evidence = [agreement + extra] + judgement.verdict.evidence
            judgement.alignment = AlignmentReport(method: method, layers: [], log10PValue: nil, equalAfterAlignment: false, residual: found)
            return judgement
        }
        // A second test on a pair the plain test already tried: Bonferroni, it decides at alpha/2.
        let share = context.alpha / Double(AlignmentJudge.testsPerPair)
        let calibration = String(format: "the residual alignment is a second test on this pair, decided at alpha/%d = %.3g (Bonferroni), and it relates the models only when tensors besides its two sources confirm the permutation",
                                 AlignmentJudge.testsPerPair, share)
        guard log10P < log10(share) else { return unchanged(String(format: ": not below alpha/%d = %.3g, no permutation of the residual stream relates the models either", AlignmentJudge.testsPerPair, share)) }
        do throws(ReadError) {
            found = try ResidualStreamAlignment.apply(found, context.a, context.b, pairs: context.measured.map(\.pair))
        } catch {
            return unchanged("; the tensors could not be read again")
        }
        let aligned = found.tensors ?? []
        let alignedNames = Set(aligned.map(\.a))
        var pi = [Int](repeating: 0, count: d)
        for (j, i) in found.permutation.enumerated() { pi[i] = j }
        // Tensors still unequal may have their MLP units or heads permuted as well: align those on
        // b's reordered residual axis.
        let unequal = Set(aligned.filter { !$0.equal }.map(\.a))
            .union(context.measured.filter { !alignedNames.contains($0.pair.a.name) && !context.valuesAgree($0) }.map(\.pair.a.name))
        var units = [LayerAlignment](), heads = [HeadLayerAlignment]()
        var notes = [String]()
        let unitNames = Set(UnitAlignment.layers(of: context.pairing).flatMap { $0.pairs.map { $0.0.a.name } })
        do throws(ReadError) {
            if !unequal.isDisjoint(with: unitNames) { units = try UnitAlignment.align(context.a, context.b, pairing: context.pairing, residual: pi) }
            if !unequal.isDisjoint(with: HeadAlignment.candidateTensors(of: context.pairing)) {
                let found = try HeadAlignment.align(context.a, context.b, pairing: context.pairing, residual: pi)
                heads = found.layers
                if let note = found.note { notes.append(note) }
            }
        } catch {
            units = []; heads = []
        }
        var equalNames = Set(aligned.filter(\.equal).map(\.a))
        equalNames.formUnion(units.flatMap { $0.tensors.filter(\.equal).map(\.a) })
        equalNames.formUnion(heads.flatMap { $0.tensors.filter(\.equal).map(\.a) })
        let sourceNames = Set(found.sources)
        let byName = Dictionary(aligned.map { ($0.a, $0) }, uniquingKeysWith: { x, _ in x })
        func shared(_ o: PairOutcome) -> Bool {
            equalNames.contains(o.pair.a.name) || (byName[o.pair.a.name]?.cosine ?? 0) >= IndependenceJudge.sharedCosine
        }
        // The sources chose the permutation; the other evidence-carrying tensors confirm it.
        let confirming = context.evidence.filter { !sourceNames.contains($0.pair.a.name) && shared($0) }
        guard !confirming.isEmpty else {
            return unchanged("; but after applying it no other tensor is shared, so it is not taken as evidence")
        }
        var sharedParameters = 0, total = 0
        for o in context.evidence {
            let n = o.pair.rows * o.pair.a.rowLength
            total += n
            if shared(o) { sharedParameters += n }
        }
        var lines = [agreement, "after putting b's residual units in a's order, \(aligned.filter(\.equal).count) of \(aligned.count) tensors with a residual axis are equal up to dtype rounding and \(confirming.count) tensors besides the two sources are shared (cosine >= \(IndependenceJudge.sharedCosine) or equal)"]
        lines += units.map { l in
            String(format: "%@ (on the aligned residual stream): %d of %d units agree between the input- and output-side matchings (log10 p = %.1f)", l.block, l.matchedUnits, l.units, l.log10PValue)
        }
        lines += heads.map { l in
            String(format: "%@ (on the aligned residual stream): %d of %d heads agree between the query/key and value/output matchings (log10 p = %.1f)", l.block, l.matchedHeads, l.heads, l.log10PValue)
        }
        lines += notes
        lines.append(calibration)
        lines.append("the plain hidden-permutation test follows (a permuted residual stream hides from it):")
        let equal = context.complete && context.measured.allSatisfy {
            equalNames.contains($0.pair.a.name) || (!alignedNames.contains($0.pair.a.name) && context.valuesAgree($0))
        }
        let relation: Relation
        let summary: String
        if equal {
            relation = .permuted
            var extra = [String]()
            let movedUnits = units.filter { $0.fixedUnits < $0.units }.count
            let movedHeads = heads.filter { $0.fixedHeads < $0.heads || $0.headsWithMovedCoordinates > 0 }.count
            if movedUnits > 0 { extra.append("the hidden units of \(movedUnits) MLP layer(s)") }
            if movedHeads > 0 { extra.append("the attention heads of \(movedHeads) layer(s)") }
            summary = "b is a with its residual stream (the hidden dimension, \(d) units) permuted consistently across the model"
                + (extra.isEmpty ? "" : ", and " + extra.joined(separator: " and ") + " permuted")
                + ": after alignment every tensor is equal up to dtype rounding; the network function is unchanged"
        } else if total > 0, Double(sharedParameters) / Double(total) >= IndependenceJudge.derivedShare {
            relation = .derived
            summary = String(format: "one model descends from the other with its residual stream permuted: after alignment %.0f%% of the evidence-carrying parameters are shared, but not every tensor is equal (the permutation is one of several changes)", 100 * Double(sharedParameters) / Double(total))
        } else {
            relation = .related
            summary = "the models share weights once b's residual stream is put in a's order, but neither descends from the other as a whole"
        }
        var report = AlignmentReport(method: method, layers: units, log10PValue: units.isEmpty ? nil : Numbers.rounded(NormalTail.fisherLog10(units.map(\.log10PValue)), places: 1),
                                     equalAfterAlignment: equal, residual: found)
        if !heads.isEmpty {
            report.heads = heads
            report.headsLog10PValue = Numbers.rounded(NormalTail.fisherLog10(heads.map(\.log10PValue)), places: 1)
        }
        if !notes.isEmpty { report.notes = notes }
        var judgement = Judgement(verdict: Verdict(relation: relation, parent: relation == .derived ? IndependenceJudge.vocabularyParent(context) : nil,
                                                   log10PValue: log10P, alpha: context.alpha, method: "residual-alignment",
                                                   summary: summary, evidence: lines + base.verdict.evidence),
                                  findings: context.findings, weighted: sourceNames)
        judgement.stronglyShared = Set(confirming.map { $0.pair.a.name })
        judgement.alignment = report
        return judgement
    }
}
