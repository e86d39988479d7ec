import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

@Suite struct TreeEdmondsTests {
    /// The cheapest arborescence by brute force: every choice of one parent per node, kept when
    /// every node reaches the root.
    static func bruteForce(_ n: Int, _ edges: [Edmonds.Edge]) -> Double? {
        let incoming = (0 ..< n).map { v in edges.indices.filter { edges[$0].to == v && edges[$0].from != v } }
        var best: Double?
        var choice = [Int](repeating: 0, count: n)
        func valid() -> Bool {
            for v in 1 ..< n {
                var x = v, steps = 0
                while x != 0 { x = edges[incoming[x][choice[x]]].from; steps += 1; if steps > n { return false } }
            }
            return true
        }
        func recurse(_ v: Int) {
            if v == n {
                guard valid() else { return }
                let cost = (1 ..< n).reduce(0.0) { $0 + edges[incoming[$1][choice[$1]]].cost }
                if best == nil || cost < best! { best = cost }
                return
            }
            for c in incoming[v].indices { choice[v] = c; recurse(v + 1) }
        }
        for v in 1 ..< n where incoming[v].isEmpty { return nil }
        recurse(1)
        return best
    }

    @Test func matchesBruteForceOnRandomGraphs() {
        var state: UInt64 = 12345
        func random() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        for trial in 0 ..< 200 {
            let n = 3 + trial % 4
            var edges = [Edmonds.Edge]()
            for u in 0 ..< n { for v in 1 ..< n where u != v && random() < 0.7 { edges.append(.init(from: u, to: v, cost: (random() * 10).rounded())) } }
            let chosen = Edmonds.arborescence(nodes: n, root: 0, edges: edges)
            let want = Self.bruteForce(n, edges)
            #expect((chosen == nil) == (want == nil), "trial \(trial)")
            guard let chosen, let want else { continue }
            #expect(chosen.count == n - 1)
            #expect(Set(chosen.map { edges[$0].to }) == Set(1 ..< n))
            #expect(abs(chosen.reduce(0.0) { $0 + edges[$1].cost } - want) < 1e-9, "trial \(trial)")
        }
    }

    @Test func breaksACycleAtItsCheapestEntry() {
        // 1 <-> 2 cost 1 each (a cycle); entering from the root costs 5 to 1 and 3 to 2.
        let edges: [Edmonds.Edge] = [.init(from: 1, to: 2, cost: 1), .init(from: 2, to: 1, cost: 1), .init(from: 0, to: 1, cost: 5), .init(from: 0, to: 2, cost: 3)]
        #expect(Edmonds.arborescence(nodes: 3, root: 0, edges: edges) == [1, 3])
    }

    @Test func mergeGeometry() {
        // C halfway between P1 and P2: on the segment, weight 0.5.
        let g = MergeGeometry(parent1ToChild: 1, childToParent2: 1, parent1ToParent2: 2)!
        #expect(g.isMerge && abs(g.weight - 0.5) < 1e-12)
        // Two independent deltas from one parent: not on the segment.
        #expect(!MergeGeometry(parent1ToChild: 1, childToParent2: 0.3, parent1ToParent2: (1 + 0.09).squareRoot())!.isMerge)
        // Almost all of one parent: not a merge.
        #expect(!MergeGeometry(parent1ToChild: 0.99, childToParent2: 0.01, parent1ToParent2: 1)!.isMerge)
    }

    @Test func shortLabelsDropTheSharedFolder() {
        #expect(TreeBuilder.shortLabels(["/x/f/base", "/x/f/llama/base", "/x/f/gguf/a.gguf"]) == ["base", "llama/base", "gguf/a.gguf"])
    }
}

/// The tree of a fixture family: its edges follow MANIFEST.json's parent links.
@Suite struct TreeFixtureTests {
    @Test func fixtureFamily() throws {
        let names = ["base", "finetune", "lora_merged", "gguf/base-Q8_0.gguf", "gguf/finetune-Q4_0.gguf", "merge_linear_50_50",
                     "unrelated_random", "other_real_paraphrase_minilm_l3", "llama/base", "llama/finetune"]
        let models = try names.map { try Model.open(LineageFixtures.path($0)) }
        let tree = TreeBuilder.build(models)
        let node = { (name: String) in tree.models[names.firstIndex(of: name)!].node }
        func parents(_ name: String, kind: String = "parent") -> [Int] { tree.edges.filter { $0.kind == kind && $0.to == node(name) && $0.directed }.map(\.from).sorted() }

        #expect(tree.nodes.count == names.count)
        #expect(parents("finetune") == [node("base")])
        #expect(parents("lora_merged") == [node("base")])
        #expect(parents("gguf/base-Q8_0.gguf") == [node("base")])
        #expect(parents("gguf/finetune-Q4_0.gguf") == [node("finetune")])
        #expect(parents("merge_linear_50_50", kind: "merge") == [node("finetune"), node("lora_merged")].sorted())
        #expect(parents("llama/finetune") == [node("llama/base")])
        for root in ["base", "unrelated_random", "other_real_paraphrase_minilm_l3", "llama/base"] { #expect(tree.roots.contains(node(root)), "\(root)") }
        #expect(tree.roots.count == 4)
        let related = tree.edges.filter { $0.kind == "related" }
        #expect(related.contains { Set([$0.from, $0.to]) == Set([node("base"), node("other_real_paraphrase_minilm_l3")]) && !$0.directed })
        let relation = { (name: String) in tree.edges.first { $0.to == node(name) && $0.kind == "parent" }?.relation }
        #expect(relation("gguf/base-Q8_0.gguf") == .quantized)
        #expect(relation("gguf/finetune-Q4_0.gguf") == .quantized)
        // Different architectures are never compared; unrelated_random is settled by the sample.
        #expect(tree.comparisons.skippedByShape == 8 * 2)
        #expect(tree.comparisons.skippedBySample >= 7)
        #expect(tree.comparisons.full + tree.comparisons.skippedByShape + tree.comparisons.skippedBySample
                + tree.comparisons.skippedUndecodable + tree.comparisons.skippedByGroup == tree.comparisons.pairs)
    }

    @Test func identicalAndConversionsFormOneNode() throws {
        let names = ["base", "base_fp16", "sharded", "unrelated_random"]
        let tree = TreeBuilder.build(try names.map { try Model.open(LineageFixtures.path($0)) })
        #expect(tree.nodes.count == 2)
        #expect(tree.nodes[0].models == [0, 1, 2])
        #expect(tree.nodes[0].memberRelations == [.conversion, .conversion])
        #expect(tree.edges.isEmpty)
        #expect(tree.roots == [0, 1])
    }
}
