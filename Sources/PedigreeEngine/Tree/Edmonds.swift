/// Edmonds' (Chu–Liu) algorithm: the minimum-cost spanning arborescence of a directed graph
/// from a given root, by repeated contraction of the cycles that the cheapest incoming edges form.
public enum Edmonds {
    public struct Edge: Sendable, Equatable {
        public var from: Int
        public var to: Int
        public var cost: Double
        public init(from: Int, to: Int, cost: Double) { self.from = from; self.to = to; self.cost = cost }
    }

    /// Indices (into `edges`) of the arborescence's edges, one entering every node but `root`;
    /// nil when some node cannot be reached from the root. Ties go to the lower edge index, so
    /// the answer is deterministic.
    public static func arborescence(nodes: Int, root: Int, edges: [Edge]) -> [Int]? {
        let current = edges.enumerated().map { (from: $0.element.from, to: $0.element.to, cost: $0.element.cost, id: $0.offset) }
        return solve(nodes: nodes, root: root, edges: current)?.sorted()
    }

    private typealias Working = (from: Int, to: Int, cost: Double, id: Int)

    private static func solve(nodes n: Int, root: Int, edges: [Working]) -> [Int]? {
        // The cheapest edge entering each node.
        var best = [Int?](repeating: nil, count: n)   // index into edges
        for (i, e) in edges.enumerated() where e.to != root && e.from != e.to {
            if let b = best[e.to] {
                let other = edges[b]
                if e.cost < other.cost || (e.cost == other.cost && e.id < other.id) { best[e.to] = i }
            } else {
                best[e.to] = i
            }
        }
        for v in 0 ..< n where v != root && best[v] == nil { return nil }

        // Find a cycle among the chosen edges.
        var color = [Int](repeating: 0, count: n)  // 0 unvisited, 1 on the current path, 2 done
        var cycle: [Int]?
        for start in 0 ..< n where color[start] == 0 {
            var path = [Int]()
            var v = start
            while v != root, color[v] == 0 {
                color[v] = 1
                path.append(v)
                v = edges[best[v]!].from
            }
            if v != root, color[v] == 1, let at = path.firstIndex(of: v) { cycle = Array(path[at...]) }
            for p in path { color[p] = 2 }
            if cycle != nil { break }
        }
        guard let cycle else { return (0 ..< n).compactMap { $0 == root ? nil : edges[best[$0]!].id } }

        // Contract the cycle into one node.
        let inCycle = Set(cycle)
        var mapping = [Int](repeating: -1, count: n)
        var next = 0
        for v in 0 ..< n where !inCycle.contains(v) { mapping[v] = next; next += 1 }
        let contracted = next
        for v in cycle { mapping[v] = contracted }
        var reduced = [Working]()
        var enters = [Int: Int]()   // id of an edge entering the cycle -> the cycle node it enters
        for e in edges {
            let u = mapping[e.from], v = mapping[e.to]
            if u == contracted, v == contracted { continue }
            if v == contracted {
                reduced.append((u, v, e.cost - edges[best[e.to]!].cost, e.id))
                enters[e.id] = e.to
            } else {
                reduced.append((u, v, e.cost, e.id))
            }
        }
        guard var chosen = solve(nodes: contracted + 1, root: mapping[root], edges: reduced) else { return nil }
        let entering = chosen.first { enters[$0] != nil }
        let brokenAt = entering.flatMap { enters[$0] }
        for v in cycle where v != brokenAt { chosen.append(edges[best[v]!].id) }
        return chosen
    }
}
