import PedigreeFormats

/// `identical` and `conversion`: exact checks on bytes and on rounding, no statistics.
enum ExactJudge {
    /// Every tensor has the same name (after mapping), shape, dtype and bytes.
    static func identical(_ c: JudgeContext) -> Judgement? {
        guard c.oneSided.isEmpty, c.complete, !c.measured.isEmpty,
              c.measured.allSatisfy({ $0.measures!.bitIdentical && $0.pair.rowMapA == $0.pair.rowMapB }) else { return nil }
        return c.judgement(.identical, "every tensor has the same name, shape, dtype and bytes (\(c.measured.count) tensors)")
    }

    /// Every tensor equals the other side's up to the rounding of the narrower float dtype.
    /// The parent is the side the values come from: the narrower side when the wider one holds
    /// only values the narrower format represents exactly (widened), else the wider side (rounded).
    static func conversion(_ c: JudgeContext) -> Judgement? {
        guard c.complete, !c.measured.isEmpty,
              c.measured.allSatisfy({ $0.pair.a.type.floatFormat != nil && $0.pair.b.type.floatFormat != nil }),
              c.measured.allSatisfy(c.valuesAgree) else { return nil }
        var votes = Set<String>()
        var rounded = 0, widened = 0
        for o in c.measured {
            guard let r = o.measures!.rounding, let wider = r.widerSide else { continue }
            if r.inexact > 0 { votes.insert(wider); rounded += 1 } else { votes.insert(wider == "a" ? "b" : "a"); widened += 1 }
        }
        let parent = votes.count == 1 ? votes.first : nil
        let formats = Set(c.measured.map { "\($0.pair.a.type.name)→\($0.pair.b.type.name)" }).sorted().joined(separator: ", ")
        var summary = "the same values in another container or dtype (\(formats)): every tensor equals the other side's up to the rounding of the narrower dtype"
        if rounded > 0 { summary += "; \(rounded) tensors were rounded" }
        if widened > 0 { summary += "; \(widened) tensors were widened exactly" }
        if c.measured.contains(where: { $0.pair.rowMapA != $0.pair.rowMapB }) { summary += "; llama.cpp's rotary Q/K row order undone" }
        if let parent { summary += "; \(parent) is the source" }
        return c.judgement(.conversion, parent: parent, summary)
    }
}
