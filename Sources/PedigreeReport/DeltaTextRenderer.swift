import PedigreeEngine

/// The text lines of the delta, adapter and merge sections: per-module rank and delta energy,
/// the adapter and its check, the merge weights.
enum DeltaTextRenderer {
    static func render(_ c: Comparison) -> String {
        var out = ""
        if let l = c.lora {
            if !l.modules.isEmpty {
                out += "\ndeltas (\(l.classification)" + (l.rank.map { ", rank \($0)" } ?? "") + "):\n"
                var t = TextTable(["module", "tensors", "changed", "low rank", "rank", "relL2", "energy"], rightAligned: [1, 2, 3, 4, 5, 6])
                for m in l.modules {
                    t.append([m.module, "\(m.tensors)", "\(m.changed)", "\(m.lowRank)", m.rank.map(String.init) ?? (m.changed > 0 ? "full" : "-"),
                              Format.number(m.relL2), Format.number(100 * m.energyShare, digits: 3) + "%"])
                }
                out += t.render(indent: "  ")
            }
            if let a = l.adapter {
                out += "adapter: \(a.path): r \(a.r), lora_alpha \(Format.number(a.loraAlpha)), scaling \(Format.number(a.scaling))\(a.useRslora ? " (rslora)" : ""), targets \(a.targetModules.joined(separator: ", "))"
                out += a.unmatchedKeys.isEmpty ? "\n" : "; \(a.unmatchedKeys.count) keys match no base tensor\n"
            }
            if let k = l.check {
                out += "adapter check: \(k.passed ? "passed" : "FAILED"), largest error \(Format.number(k.maxErrorEpsilon)) eps on \(k.tensors.count) adapted tensors, \(Format.number(k.untouchedMaxErrorEpsilon)) eps on \(k.untouchedTensors) others (tolerance \(Format.number(k.tolerance)))\n"
            }
        }
        if let m = c.merge {
            out += "\nmerge (\(m.isMerge ? m.method : "no fit")):"
            if let w = m.weights { out += " weights " + zip(m.parents, w).map { "\($0) \(Format.number($1))" }.joined(separator: ", ") }
            if let r = m.residual { out += ", residual \(Format.number(r))" }
            if let r = m.residualOverRounding { out += " (\(Format.number(r)) x rounding)" }
            out += "\n"
            if let t = m.taskArithmetic, let l = t.lambdas { out += "  task arithmetic: " + l.map { Format.number($0) }.joined(separator: ", ") + "\n" }
        }
        return out
    }
}
