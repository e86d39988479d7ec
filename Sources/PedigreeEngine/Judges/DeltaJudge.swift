import Foundation
import PedigreeFormats
import Synchronization

/// `lora` and `finetune`: what the weight differences of a descendant look like (DeltaAnalysis).
///
/// Both refine a `derived` verdict of the IndependenceJudge, whose p-value they keep (null: the
/// models were initialised independently). `lora`: the changed tensors are all low rank (a
/// spectral gap, or nothing beyond the storage rounding after the top r) and every other tensor is
/// bit-identical or equal up to a dtype conversion; the side the low-rank update is orthogonal to
/// (a zero-initialised adapter grows away from its base) is the parent. `finetune`: most matrices
/// changed, with structured full-rank deltas small next to the weights; the parent is named only
/// by the independence judge's evidence (added vocabulary rows). Neither fires when a side is
/// block-quantized (a quantized fine-tune is two steps: `derived`). What it does not prove: which
/// training produced the update, or that no intermediate model existed.
enum DeltaJudge {
    /// A low-rank update on a subset of modules, every other tensor unchanged.
    static func lora(_ context: JudgeContext, _ base: Judgement) -> Judgement? {
        guard base.verdict.relation == .derived, !quantizedStep(context), context.oneSided.allSatisfy({ TensorKind.of($0) == .buffer }) else { return nil }
        let report = Cache.analysis(context)
        guard report.classification == "lora", let rank = report.rank else { return nil }
        Cache.clear()
        let parent = report.direction?.parent
        var judgement = base
        let child = parent == "a" ? "b" : "a"
        var summary = "a low-rank update (rank \(rank)) on \(report.targets.joined(separator: ", ")); every other tensor is unchanged"
            + " (\(report.bitIdenticalTensors) bit-identical, \(report.convertedTensors) equal up to a dtype conversion)"
        if let parent { summary += ": \(child) is \(parent) plus a merged LoRA, so \(parent) is the parent" }
        judgement.verdict = Verdict(relation: .lora, parent: parent, log10PValue: base.verdict.log10PValue, alpha: base.verdict.alpha,
                                    method: base.verdict.method, summary: summary,
                                    evidence: lines(report) + base.verdict.evidence)
        judgement.lora = report
        return judgement
    }

    /// A dense update of most tensors, small next to the weights.
    static func finetune(_ context: JudgeContext, _ base: Judgement) -> Judgement? {
        guard base.verdict.relation == .derived, !quantizedStep(context) else { Cache.clear(); return nil }
        let report = Cache.analysis(context)
        Cache.clear()
        guard report.classification == "finetune" else { return nil }
        var judgement = base
        let changed = report.tensors.filter { $0.status == "full-rank" }.count
        var summary = "a dense update: \(changed) matrices carry full-rank deltas, small next to the weights"
        if let parent = base.verdict.parent {
            summary += "; \(parent == "a" ? "b" : "a") has added vocabulary rows, so \(parent) is the parent"
        } else {
            summary += "; the deltas do not show which side is the parent"
        }
        judgement.verdict = Verdict(relation: .finetune, parent: base.verdict.parent, log10PValue: base.verdict.log10PValue,
                                    alpha: base.verdict.alpha, method: base.verdict.method, summary: summary,
                                    evidence: lines(report) + base.verdict.evidence)
        judgement.lora = report
        return judgement
    }

    /// True when a side holds block-quantized tensors: its deltas mix a quantization step with
    /// whatever else happened (several steps: `derived`).
    static func quantizedStep(_ c: JudgeContext) -> Bool {
        c.measured.contains { $0.pair.a.type.isBlockQuantized || $0.pair.b.type.isBlockQuantized }
    }

    /// The lines the verdict's evidence gets from the delta analysis.
    static func lines(_ r: LoRAReport) -> [String] {
        var out = [String]()
        for m in r.modules where m.changed > 0 {
            let rank = m.rank.map { "rank \($0)" } ?? "full rank"
            out.append(String(format: "%@: %d of %d tensors changed, %d low rank (%@), relL2 %.4g, %.1f%% of the delta energy",
                              m.module, m.changed, m.tensors, m.lowRank, rank, m.relL2, 100 * m.energyShare))
        }
        if let d = r.direction { out.append(d.note) }
        if let d = r.direction, d.kurtosisCompared > 0 {
            out.append("kurtosis is lower in b for \(d.kurtosisLowerInB) of \(d.kurtosisCompared) changed matrices; not used for direction (on the fixtures fine-tuning lowered it in most tensors)")
        }
        return out
    }

    /// The analysis of the pair being judged, shared by `lora` and `finetune` (computed once).
    enum Cache {
        final class Entry: Sendable {
            let a: Model, b: Model, report: LoRAReport
            init(a: Model, b: Model, report: LoRAReport) { self.a = a; self.b = b; self.report = report }
        }
        static let last = Mutex<Entry?>(nil)

        static func analysis(_ c: JudgeContext) -> LoRAReport {
            if let e = last.withLock({ $0 }), e.a === c.a, e.b === c.b { return e.report }
            let report = DeltaAnalysis.analyse(c.a, c.b, pairs: c.measured.map(\.pair), measures: c.measured.map(\.measures))
            last.withLock { $0 = Entry(a: c.a, b: c.b, report: report) }
            return report
        }

        static func clear() { last.withLock { $0 = nil } }
    }
}
