import PedigreeEngine

/// Renders a `Verification`: the result on top, then each claim with the relation claimed, the
/// relation found and its evidence, then what the result does and does not prove.
public enum VerifyTextRenderer {
    public static func render(_ v: Verification) -> (text: String, warnings: [String]) {
        var out = "result: \(v.result.rawValue)    model: \(v.model.path)    alpha \(Format.number(v.alpha))\n"
        out += v.summary + "\n"
        for (index, check) in v.claims.enumerated() {
            let c = check.claim
            out += "\nclaim \(index + 1): \(check.result.rawValue)\(check.decisive ? "" : " (weak: not decisive)")\n"
            out += "  from:     \(c.source)" + (c.keys.isEmpty ? "" : " (\(c.keys.joined(separator: ", ")))") + "\n"
            out += "  claimed:  " + (c.bases.count == 1 ? c.bases[0] : "[" + c.bases.joined(separator: ", ") + "]")
            out += ", relation " + (c.relation?.rawValue ?? "any descent") + "\n"
            for base in check.bases {
                guard let found = base.relationFound else {
                    out += "  base:     \(base.id): " + (base.summary ?? "not available locally") + "\n"
                    continue
                }
                var line = "  found:    \(found.rawValue)"
                if let parent = base.parentFound { line += " (parent: \(parent))" }
                if let log10P = base.log10PValue {
                    line += log10P < -300 ? "    p < 1e-300 (log10 \(Format.number(log10P, digits: 5)))" : "    p = \(Format.number(base.pValue ?? 0, digits: 3))"
                }
                if let d = base.relativeDistance { line += "    distance \(Format.number(d))" }
                out += line + "    vs \(base.id)\n"
                if let blocks = base.blocks, !blocks.isEmpty {
                    out += "  blocks:   " + blocks.map { "\($0.name) \($0.sharedTensors)/\($0.tensors) shared, log10 p \(Format.number($0.log10PValue, digits: 5))" }
                        .joined(separator: "; ") + "\n"
                }
            }
            if let merge = check.merge { out += "  merge:    \(merge.summary)\n" }
            out += "  why:      \(check.reason)\n"
        }
        if let relatives = v.derivesFrom {
            out += "\nknown models the weights descend from:"
            out += relatives.isEmpty ? " none\n" : "\n" + relatives.map { "  \($0.id): \($0.relation.rawValue)" + ($0.parent == "known" ? " (it is the ancestor)" : "") }.joined(separator: "\n") + "\n"
        }
        out += "\nwhat this shows: \(v.caveat)\n"
        let warnings = v.findings.filter { $0.severity != .info }.map { "\($0.severity.rawValue): \($0.code): \($0.message)" }
        return (out, warnings)
    }
}
