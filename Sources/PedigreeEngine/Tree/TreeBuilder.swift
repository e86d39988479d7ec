import Foundation
import PedigreeFormats

/// Options of `tree`.
public struct TreeOptions: Sendable {
    public var alpha = 0.01
    /// Settle clearly unrelated pairs from a sample instead of a full comparison.
    public var prefilter = true
    /// Rows sampled per tensor and tensors sampled per pair by the pre-filter.
    public var sampleRows = 32
    public var sampleTensors = 8
    public init(alpha: Double = 0.01) { self.alpha = alpha }
}

/// Builds the family tree of a set of models (MoTHer-style: pairwise relations, then Edmonds'
/// minimum spanning arborescence over the distances between related models).
///
/// 1. Pre-filter: pairs with no 2-D shape in common are not compared; for the others a few rows
///    of up to `sampleTensors` shared matrices are decoded and correlated, and the sorted row
///    norms of whole tensors are matched (a permutation of units keeps them). A pair whose sample
///    is at chance level (|z| < 6 on every tensor) with no matching norm profile is settled as
///    unrelated without the full analysis.
/// 2. Full `compare` on the remaining pairs. A model identical to, or a conversion of, a model
///    already placed joins its node and is not compared again.
/// 3. Merges: a node that lies on the segment between two of its ancestors (a linear merge) gets
///    an edge to each of them.
/// 4. Edmonds' algorithm on the descent edges: cost is the relative distance; a direction the
///    comparison shows is the only one allowed; otherwise the more central model of the family
///    (smaller median distance to its relatives) is preferred as the parent. Every node may also
///    hang from a virtual root at a prohibitive cost, so unrelated families become separate roots.
/// 5. A `related` root (shares weights, descends from nothing given) is linked by an undirected
///    edge to its closest relative in each family.
public enum TreeBuilder {
    public static let caveat = "Edges are statistical evidence, not proof: each relation's p-value is the probability of shared weights this strong between independently initialised models, with a false-positive rate of about alpha per pair. Directions marked 'structure' were chosen by the shape of the family (the parent is the more central model: the smaller median distance to its relatives), not shown by the weights; pairs settled by the pre-filter were judged on a sample, without a p-value."

    struct PairResult {
        var comparison: Comparison?
        /// Why no comparison ran: `shape`, `sample`, `undecodable`.
        var skipped: String?
    }

    public static func build(_ models: [Model], options: TreeOptions = TreeOptions()) -> FamilyTree {
        let n = models.count
        let labels = shortLabels(models.map(\.path))
        let compareOptions = CompareOptions(alpha: options.alpha)
        var findings = [Finding]()
        var stats = TreeComparisons(pairs: n * (n - 1) / 2, skippedByShape: 0, skippedBySample: 0, skippedUndecodable: 0, skippedByGroup: 0, full: 0)
        let norms = models.map { WeightNorms($0) }

        // Nodes: identical files and conversions join the first model they match.
        var nodeOf = [Int](repeating: -1, count: n)
        var nodeMembers = [[Int]]()
        var memberRelations = [[Relation]]()
        var results = [[PairResult?]](repeating: [PairResult?](repeating: nil, count: n), count: n)   // by model index, i < j
        for j in 0 ..< n {
            for node in nodeMembers.indices {
                let i = nodeMembers[node][0]
                let result = pairResult(models[i], models[j], norms[i], norms[j], options: options, compareOptions: compareOptions, stats: &stats)
                results[i][j] = result
                if let relation = result.comparison?.verdict.relation, relation == .identical || relation == .conversion {
                    nodeOf[j] = node
                    nodeMembers[node].append(j)
                    memberRelations[node].append(relation)
                    break
                }
            }
            if nodeOf[j] < 0 {
                nodeOf[j] = nodeMembers.count
                nodeMembers.append([j])
                memberRelations.append([])
            }
        }
        stats.skippedByGroup = stats.pairs - stats.full - stats.skippedByShape - stats.skippedBySample - stats.skippedUndecodable

        // Node-level relations (between representatives; "a" is the lower node).
        let k = nodeMembers.count
        let rep = nodeMembers.map { $0[0] }
        func comparison(_ u: Int, _ v: Int) -> (Comparison, flipped: Bool)? {
            let (i, j) = (rep[u], rep[v])
            if i < j, let c = results[i][j]?.comparison { return (c, false) }
            if j < i, let c = results[j][i]?.comparison { return (c, true) }
            return nil
        }
        var distance = [[Double?]](repeating: [Double?](repeating: nil, count: k), count: k)
        var relation = [[Relation?]](repeating: [Relation?](repeating: nil, count: k), count: k)
        var parentOf = [[Bool?]](repeating: [Bool?](repeating: nil, count: k), count: k)   // [u][v] true: u is v's parent
        for u in 0 ..< k {
            for v in 0 ..< k where u != v {
                guard let (c, flipped) = comparison(u, v) else { continue }
                let aNode = flipped ? v : u
                relation[u][v] = c.verdict.relation
                if let d = WeightDistance(c, normsA: norms[rep[aNode]]) { distance[u][v] = d.relative }
                if let p = c.verdict.parent {
                    let parentNode = (p == "a") == !flipped ? u : v
                    parentOf[u][v] = parentNode == u
                }
            }
        }
        let descent = ClaimRules.descent
        func descends(_ u: Int, _ v: Int) -> Bool { relation[u][v].map { descent.contains($0) } ?? false }

        // Centrality: median distance to the node's relatives (smaller: more likely an ancestor;
        // the median, because a permuted relative is far from everyone in raw distance).
        let centrality: [Double] = (0 ..< k).map { u in
            let ds = (0 ..< k).compactMap { v -> Double? in descends(u, v) ? distance[u][v] : nil }.sorted()
            guard !ds.isEmpty else { return .infinity }
            return ds.count % 2 == 1 ? ds[ds.count / 2] : (ds[ds.count / 2 - 1] + ds[ds.count / 2]) / 2
        }

        // Merges: the child on the segment between two ancestors.
        var mergeParents = [Int: (p1: Int, p2: Int, geometry: MergeGeometry)]()
        for c in 0 ..< k {
            var best: (Int, Int, MergeGeometry)?
            let candidates = (0 ..< k).filter { $0 != c && descends(c, $0) && parentOf[c][$0] != true }
            for x in candidates.indices {
                for y in candidates.indices where y > x {
                    let p1 = candidates[x], p2 = candidates[y]
                    guard relation[p1][p2] != nil, relation[p1][p2] != .unrelated,
                          let d1 = absoluteDistance(p1, c), let d2 = absoluteDistance(c, p2), let d12 = absoluteDistance(p1, p2),
                          let g = MergeGeometry(parent1ToChild: d1, childToParent2: d2, parent1ToParent2: d12), g.isMerge else { continue }
                    if best == nil || g.excess < best!.2.excess { best = (p1, p2, g) }
                }
            }
            if let best { mergeParents[c] = (best.0, best.1, best.2) }
        }
        func absoluteDistance(_ u: Int, _ v: Int) -> Double? {
            guard let (c, flipped) = comparison(u, v) else { return nil }
            return WeightDistance(c, normsA: norms[rep[flipped ? v : u]])?.absolute
        }

        // Edmonds on the descent edges, with a virtual root k.
        let rootCost = 1e9
        var edges = [Edmonds.Edge]()
        for u in 0 ..< k {
            for v in 0 ..< k where u != v && descends(u, v) {
                guard let d = distance[u][v] ?? distance[v][u] else { continue }
                if let merge = mergeParents[v], merge.p1 != u, merge.p2 != u { continue }   // a merge hangs from its parents
                // A merge is a parent only where the comparison shows it (a quantization of the merge):
                // its distances to its parents' relatives say nothing about direction.
                if mergeParents[u] != nil, parentOf[u][v] != true { continue }
                if let known = parentOf[u][v] {
                    if known { edges.append(Edmonds.Edge(from: u, to: v, cost: d)) }
                } else {
                    let preferred = centrality[u] < centrality[v] || (centrality[u] == centrality[v] && u < v)
                    edges.append(Edmonds.Edge(from: u, to: v, cost: d * (preferred ? 1 : 1.1) + 1e-9))
                }
            }
        }
        for v in 0 ..< k { edges.append(Edmonds.Edge(from: k, to: v, cost: rootCost)) }
        let chosen = Edmonds.arborescence(nodes: k + 1, root: k, edges: edges) ?? []
        var parent = [Int?](repeating: nil, count: k)
        for index in chosen where edges[index].from != k { parent[edges[index].to] = edges[index].from }

        // Depths.
        var depth = [Int](repeating: 0, count: k)
        func depthOf(_ v: Int, _ guardCount: Int = 0) -> Int {
            guard let p = parent[v], guardCount < k else { return 0 }
            return depthOf(p, guardCount + 1) + 1
        }
        for v in 0 ..< k { depth[v] = depthOf(v) }

        // Edges of the result.
        var treeEdges = [TreeEdge]()
        func edge(_ kind: String, _ from: Int, _ to: Int, directed: Bool, weight: Double? = nil, relationOverride: Relation? = nil, summary: String? = nil) -> TreeEdge {
            let c = comparison(from, to)?.0
            let rel = relationOverride ?? relation[from][to] ?? .inconclusive
            let direction: String? = directed ? (parentOf[from][to] != nil || kind == "merge" ? "evidence" : "structure") : nil
            return TreeEdge(kind: kind, from: from, to: to, directed: directed, relation: rel, direction: direction,
                            weight: weight, pValue: c?.verdict.pValue, log10PValue: c?.verdict.log10PValue,
                            distance: (distance[from][to] ?? distance[to][from]).map { Numbers.significant($0, digits: 4) },
                            summary: summary ?? c?.verdict.summary ?? "")
        }
        for v in 0 ..< k {
            if let merge = mergeParents[v] {
                let w1 = Numbers.significant(merge.geometry.weight, digits: 3)
                let text = String(format: "a linear merge: the model lies on the segment between %@ and %@ (distance ratio 1 + %.2g), weights %.3g and %.3g",
                                  labels[rep[merge.p1]], labels[rep[merge.p2]], merge.geometry.excess, w1, 1 - w1)
                treeEdges.append(edge("merge", merge.p1, v, directed: true, weight: w1, relationOverride: .merge, summary: text))
                treeEdges.append(edge("merge", merge.p2, v, directed: true, weight: Numbers.significant(1 - merge.geometry.weight, digits: 3), relationOverride: .merge, summary: text))
            } else if let p = parent[v] {
                treeEdges.append(edge("parent", p, v, directed: true))
            }
        }
        // Related roots: one undirected edge to the closest relative outside the root's family
        // (the largest family first, then the shallowest node, then the strongest evidence).
        func family(_ v: Int) -> Int {
            var x = v, steps = 0
            while let p = mergeParents[x]?.p1 ?? parent[x], steps <= k { x = p; steps += 1 }
            return x
        }
        let familyOf = (0 ..< k).map { family($0) }
        let familySize = Dictionary(grouping: 0 ..< k, by: { familyOf[$0] }).mapValues(\.count)
        var relatedPairs = Set<[Int]>()
        for r in 0 ..< k where parent[r] == nil && mergeParents[r] == nil {
            let log10P = { (v: Int) in comparison(r, v)?.0.verdict.log10PValue ?? 0 }
            let relatives = (0 ..< k).filter { $0 != r && relation[r][$0] == .related && familyOf[$0] != familyOf[r] }
            guard let best = relatives.min(by: { x, y in
                let fx = familySize[familyOf[x]]!, fy = familySize[familyOf[y]]!
                if fx != fy { return fx > fy }
                if depth[x] != depth[y] { return depth[x] < depth[y] }
                if log10P(x) != log10P(y) { return log10P(x) < log10P(y) }
                return x < y
            }) else { continue }
            relatedPairs.insert([min(r, best), max(r, best)])
        }
        for pair in relatedPairs.sorted(by: { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }) {
            treeEdges.append(edge("related", pair[0], pair[1], directed: false))
        }

        for i in 0 ..< n {
            for j in (i + 1) ..< n where results[i][j]?.comparison == nil && results[i][j]?.skipped == "undecodable" {
                findings.append(Finding(.info, "not-compared", "\(labels[i]) and \(labels[j]) have no matrix both sides can decode in this build: left apart"))
            }
        }

        let nodes = (0 ..< k).map { u in
            TreeNode(id: u, models: nodeMembers[u], memberRelations: memberRelations[u].isEmpty ? nil : memberRelations[u],
                     label: nodeMembers[u].map { labels[$0] }.joined(separator: " = "),
                     parent: mergeParents[u] == nil ? parent[u] : nil, depth: depth[u])
        }
        let treeModels = models.enumerated().map { i, m in
            let s = ModelSummary(m)
            return TreeModel(path: m.path, label: labels[i], format: s.format, tensors: s.tensors, parameters: s.parameters, dtypes: s.dtypes, node: nodeOf[i])
        }
        return FamilyTree(alpha: options.alpha, models: treeModels, nodes: nodes, edges: treeEdges,
                          roots: (0 ..< k).filter { parent[$0] == nil && mergeParents[$0] == nil },
                          comparisons: stats, caveat: caveat, findings: findings)
    }

    /// The pre-filter, then the full comparison when the pre-filter cannot settle the pair.
    static func pairResult(_ a: Model, _ b: Model, _ normsA: WeightNorms, _ normsB: WeightNorms, options: TreeOptions,
                           compareOptions: CompareOptions, stats: inout TreeComparisons) -> PairResult {
        if options.prefilter {
            switch PreFilter.check(a, b, normsA, normsB, options: options) {
            case .differentShapes: stats.skippedByShape += 1; return PairResult(skipped: "shape")
            case .undecodable: stats.skippedUndecodable += 1; return PairResult(skipped: "undecodable")
            case .chance: stats.skippedBySample += 1; return PairResult(skipped: "sample")
            case .candidate: break
            }
        }
        stats.full += 1
        return PairResult(comparison: Comparator.compare(a, b, options: compareOptions))
    }

    /// Every entry of `directory` that opens as a model, and the models of sub-folders that do
    /// not, in name order (hidden entries skipped, at most `depth` levels).
    public static func modelPaths(in directory: String, depth: Int = 3) -> [String] {
        guard depth > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var result = [String]()
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if (try? Model.open(path)) != nil { result.append(path) } else { result += modelPaths(in: path, depth: depth - 1) }
            } else if name.hasSuffix(".safetensors") || name.hasSuffix(".gguf"), (try? Model.open(path)) != nil {
                result.append(path)
            }
        }
        return result
    }

    /// Paths without the folder every path shares.
    static func shortLabels(_ paths: [String]) -> [String] {
        let parts = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.pathComponents }
        guard var common = parts.first.map({ Array($0.dropLast()) }) else { return [] }
        for p in parts.dropFirst() {
            var m = 0
            while m < common.count, m < p.count - 1, common[m] == p[m] { m += 1 }
            common = Array(common.prefix(m))
        }
        return parts.map { $0.dropFirst(common.count).joined(separator: "/") }
    }
}
