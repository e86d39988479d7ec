import PedigreeEngine

/// Renders an `Inspection` as text: the summary, the declared lineage, the tensor table.
public enum InspectTextRenderer {
    public static func render(_ i: Inspection) -> (text: String, warnings: [String]) {
        var out = "\(i.path)\n"
        out += "  format:      \(i.format)\(i.version.map { " v\($0)" } ?? "")\n"
        if let arch = i.architecture { out += "  architecture: \(arch)\n" }
        out += "  tensors:     \(i.tensorCount)\n"
        out += "  parameters:  \(Format.grouped(i.parameters))\n"
        var types = TextTable(["type", "tensors", "parameters", "bytes"], rightAligned: [1, 2, 3])
        for (name, total) in i.types.sorted(by: { $0.value.bytes != $1.value.bytes ? $0.value.bytes > $1.value.bytes : $0.key < $1.key }) {
            types.append([name, "\(total.tensors)", Format.grouped(total.parameters), Format.grouped(total.bytes)])
        }
        out += "\n" + types.render(indent: "  ")
        if let q = i.quantizationSignature { out += quantizationSection(q) }
        out += QuantizedLayoutText.render(i)
        out += "\ndeclared lineage:\n"
        if i.lineage.isEmpty {
            out += "  (none found)\n"
        } else {
            var claims = TextTable(["source", "key", "value"])
            for claim in i.lineage { claims.append([claim.source, claim.key, claim.value]) }
            out += claims.render(indent: "  ")
        }
        out += "\ntensors:\n"
        var tensors = TextTable(["name", "shape", "type", "bytes"], rightAligned: [3])
        for t in i.tensors {
            tensors.append([t.name, Format.shape(t.shape), t.typeId.map { "unknown (id \($0))" } ?? t.type,
                            t.bytes.map(Format.grouped) ?? "?"])
        }
        out += tensors.render(indent: "  ")
        let infos = i.findings.filter { $0.severity == .info }
        if !infos.isEmpty { out += "\nnotes:\n" + infos.map { "  \($0.code): \($0.message)" }.joined(separator: "\n") + "\n" }
        let warnings = i.findings.filter { $0.severity != .info }.map { "\($0.severity.rawValue): \($0.code): \($0.message)" }
        return (out, warnings)
    }

    /// The GGUF quantization signature: declared and inferred file type, matrix types, agreement.
    static func quantizationSection(_ q: GGUFQuantizationSignature) -> String {
        var out = "\nquantization:\n"
        let declared = q.declaredFileType.map { "\($0)\(q.declaredFileTypeName.map { " (\($0))" } ?? "")" } ?? "(absent)"
        out += "  general.file_type: \(declared)\n"
        out += "  tensors add up to: \(q.inferredFileType ?? "?")\n"
        let types = q.matrixTypes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        out += "  matrix types:      " + types.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        if q.fallbackMatrices > 0 {
            out += "  fallbacks:         \(q.fallbackMatrices) matrices whose rows do not fit the base type's blocks\n"
        }
        switch q.consistent {
        case true?: out += "  consistent:        yes\n"
        case false?: out += "  consistent:        no (" + q.mismatches.prefix(3).joined(separator: "; ") + ")\n"
        case nil: out += "  consistent:        not checked\n"
        }
        return out
    }
}
