import PedigreeEngine

/// Renders a `Comparison` as a readable report: the verdict on top, then the tensor table.
/// Warnings are returned apart, for stderr (verdicts.md section 5).
public enum CompareTextRenderer {
    public static func render(_ c: Comparison) -> (text: String, warnings: [String]) {
        var out = ""
        let v = c.verdict
        var head = "verdict: \(v.relation.rawValue)"
        if let parent = v.parent { head += " (parent: \(parent))" }
        head += "    related: \(v.related ? "yes" : "no")"
        head += v.log10PValue < -300 ? "    p < 1e-300 (log10 \(Format.number(v.log10PValue, digits: 5)))" : "    p = \(Format.number(v.pValue, digits: 3))"
        head += "    alpha \(Format.number(v.alpha))"
        out += head + "\n" + v.summary + "\n\n"
        out += "a: \(describe(c.a))\n"
        out += "b: \(describe(c.b))\n\n"

        var table = TextTable(["tensor (a)", "tensor (b)", "kind", "shape", "types", "cosine", "relL2", "max|a-b|", "bits", "z", "log10 p"],
                              rightAligned: [5, 6, 7, 9, 10])
        for t in c.tensors {
            table.append([t.a, t.b == t.a ? "=" : t.b, t.kind.rawValue, Format.shape(t.shape) + (t.shapeB.map { " vs " + Format.shape($0) } ?? ""),
                          t.dtypeA == t.dtypeB ? t.dtypeA : "\(t.dtypeA)/\(t.dtypeB)",
                          Format.number(t.cosine, digits: 6), Format.number(t.relL2), Format.number(t.maxAbsDiff),
                          t.note != nil ? "n/a" : (t.bitIdentical ? "same" : "differ"),
                          Format.number(t.z, digits: 4), Format.number(t.log10PValue, digits: 5)])
        }
        out += table.render()
        if !c.blocks.isEmpty {
            out += "\nblocks:\n"
            var blocks = TextTable(["block", "tensors", "shared", "units", "z", "log10 p"], rightAligned: [1, 2, 3, 4, 5])
            for b in c.blocks {
                blocks.append([b.name, "\(b.tensors)", "\(b.sharedTensors)", "\(b.units)", Format.number(b.z), Format.number(b.log10PValue, digits: 5)])
            }
            out += blocks.render(indent: "  ")
        }
        out += DeltaTextRenderer.render(c)
        let infos = c.findings.filter { $0.severity == .info }
        if !infos.isEmpty {
            out += "\nnotes:\n" + infos.map { "  \($0.code): \($0.message)" }.joined(separator: "\n") + "\n"
        }
        out += "\nevidence (\(v.method)):\n" + v.evidence.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        let warnings = c.findings.filter { $0.severity != .info }.map { "\($0.severity.rawValue): \($0.code): \($0.message)" }
        return (out, warnings)
    }

    static func describe(_ m: ModelSummary) -> String {
        let format = m.format + (m.version.map { " v\($0)" } ?? "")
        let types = m.dtypes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(m.path)  (\(format), \(m.tensors) tensors, \(Format.grouped(m.parameters)) parameters; \(types))"
    }
}
