import PedigreeEngine

/// The text of the quantized-layout and grid-signature sections of `inspect`.
enum QuantizedLayoutText {
    static func render(_ i: Inspection) -> String {
        var out = ""
        if let layouts = i.quantizedLayouts, !layouts.isEmpty {
            out += "\nquantized layouts:\n"
            var table = TextTable(["scheme", "method", "type", "bits", "scale per", "symmetric", "tensors", "stored as"], rightAligned: [3, 6, 7])
            for l in layouts {
                let per = l.blockShape.map { "block " + $0.map(String.init).joined(separator: "×") }
                    ?? (l.granularity == "group" || l.granularity == "block" ? "\(l.granularity) \(l.groupSize.map(String.init) ?? "?")" : l.granularity)
                table.append([l.scheme, l.quantMethod, l.type, "\(l.bits)", per, l.symmetric ? "yes" : "no", "\(l.tensors)", "\(l.components)"])
            }
            out += table.render(indent: "  ")
        }
        if let grids = i.onceQuantized {
            out += "\nonce quantized (--deep):\n"
            var table = TextTable(["tensor", "blocks", "on grid", "signature"], rightAligned: [1, 2])
            for g in grids { table.append([g.tensor, "\(g.blocksChecked)", Format.number(g.onGridShare), g.description]) }
            out += table.render(indent: "  ")
        }
        return out
    }
}
