import PedigreeEngine

/// Renders a `FamilyTree` as an indented text tree, Graphviz DOT or Mermaid. All three are views
/// of the same value: nodes, parent edges, an edge to each parent of a merge, related edges.
public enum TreeRenderers {
    /// An indented tree per root; a merge is listed under each parent, in full under the first.
    public static func text(_ tree: FamilyTree) -> String {
        let c = tree.comparisons
        var out = "family tree of \(tree.models.count) models, \(tree.nodes.count) nodes: \(c.full) full comparisons of \(c.pairs) pairs"
        out += " (\(c.skippedByShape) without shared shapes, \(c.skippedBySample) settled by the sample, \(c.skippedUndecodable) undecodable, \(c.skippedByGroup) spared by grouping)\n\n"
        let children = Dictionary(grouping: tree.edges.filter { $0.kind != "related" }, by: \.from)
        var printed = Set<Int>()
        func describe(_ e: TreeEdge) -> String {
            var text = e.relation.rawValue
            if let w = e.weight { text += " \(Format.number(w, digits: 3))" }
            if e.direction == "structure" { text += ", direction from structure" }
            if let log10P = e.log10PValue { text += ", log10 p \(Format.number(log10P, digits: 5))" }
            if let d = e.distance { text += ", distance \(Format.number(d))" }
            return text
        }
        func walk(_ node: Int, _ prefix: String, _ edge: TreeEdge?, last: Bool, top: Bool) {
            let label = tree.nodes[node].label
            let branch = top ? "" : (last ? "└── " : "├── ")
            let seen = printed.contains(node)
            out += prefix + branch + label + (edge.map { "  (\(describe($0)))" } ?? "") + (seen ? "  [merge, listed above]" : "") + "\n"
            guard !seen else { return }
            printed.insert(node)
            let kids = (children[node] ?? []).sorted { $0.to < $1.to }
            let childPrefix = top ? "" : prefix + (last ? "    " : "│   ")
            for (i, e) in kids.enumerated() { walk(e.to, childPrefix, e, last: i == kids.count - 1, top: false) }
        }
        for root in tree.roots {
            walk(root, "", nil, last: true, top: true)
            let related = tree.edges.filter { $0.kind == "related" && ($0.from == root || $0.to == root) }
            for e in related {
                let other = e.from == root ? e.to : e.from
                out += "    ~ related to \(tree.nodes[other].label)" + (e.log10PValue.map { " (log10 p \(Format.number($0, digits: 5)))" } ?? "") + "\n"
            }
            if related.isEmpty, (children[root] ?? []).isEmpty { out += "    (no relative among the models given)\n" }
            out += "\n"
        }
        if tree.nodes.contains(where: { $0.models.count > 1 }) {
            out += "nodes with several files (identical or conversions):\n"
            for node in tree.nodes where node.models.count > 1 { out += "  \(node.label)\n" }
            out += "\n"
        }
        for f in tree.findings where f.severity == .info { out += "note: \(f.code): \(f.message)\n" }
        out += "what this shows: \(tree.caveat)\n"
        return out
    }

    /// Graphviz DOT: solid edges for parents, dashed for merge parents, dotted undirected for related.
    public static func dot(_ tree: FamilyTree) -> String {
        var out = "digraph pedigree {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        for node in tree.nodes { out += "  n\(node.id) [label=\(quoted(node.label))];\n" }
        for e in tree.edges {
            var attributes = ["label=\(quoted(edgeLabel(e)))"]
            switch e.kind {
            case "merge": attributes.append("style=dashed")
            case "related": attributes += ["style=dotted", "dir=none", "constraint=false"]
            default: if e.direction == "structure" { attributes.append("arrowhead=empty") }
            }
            out += "  n\(e.from) -> n\(e.to) [\(attributes.joined(separator: ", "))];\n"
        }
        return out + "}\n"
    }

    /// Mermaid flowchart: `-->` for parents, `-.->` for merge parents, `-.-` for related.
    public static func mermaid(_ tree: FamilyTree) -> String {
        var out = "flowchart TD\n"
        for node in tree.nodes { out += "  n\(node.id)[\"\(mermaidText(node.label))\"]\n" }
        for e in tree.edges {
            let arrow = e.kind == "merge" ? "-.->" : e.kind == "related" ? "-.-" : "-->"
            out += "  n\(e.from) \(arrow)|\"\(mermaidText(edgeLabel(e)))\"| n\(e.to)\n"
        }
        return out
    }

    static func edgeLabel(_ e: TreeEdge) -> String {
        e.relation.rawValue + (e.weight.map { " \(Format.number($0, digits: 3))" } ?? "")
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func mermaidText(_ s: String) -> String {
        s.replacingOccurrences(of: "\"", with: "#quot;")
    }
}
