import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

/// Attention-head alignment on copies of the fixture models whose heads were permuted in place
/// (the function unchanged), written to a temporary directory.
@Suite struct AlignmentHeadTests {
    /// Writes `model`'s tensors, each passed through `transform` (name, values, shape), with the
    /// source dtype for F32 and BF16, beside a copy of its config.json (unless `config` is false).
    static func copy(_ model: Model, config: Bool = true, _ transform: (String, [Float], [Int]) -> [Float]) throws -> String {
        var tensors = [SafetensorsWriter.Tensor]()
        for t in model.tensors {
            var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
            try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!) }
            let out = transform(t.name, v, t.shape)
            if t.type.name == "BF16" {
                var bytes = [UInt8]()
                bytes.reserveCapacity(out.count * 2)
                for x in out { let bits = x.bitPattern >> 16; bytes.append(UInt8(bits & 0xff)); bytes.append(UInt8(bits >> 8)) }
                #expect(out.allSatisfy { $0.bitPattern & 0xffff == 0 }, "a BF16 value does not survive the copy")
                tensors.append(SafetensorsWriter.Tensor(name: t.name, dtype: .bf16, shape: t.shape, data: bytes))
            } else {
                tensors.append(SafetensorsWriter.Tensor(name: t.name, dtype: .f32, shape: t.shape, data: out.withUnsafeBytes { Array($0) }))
            }
        }
        let dir = try AlignmentFixtures.temporaryDirectory()
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        if config {
            try FileManager.default.copyItem(atPath: model.path + "/config.json", toPath: dir + "/config.json")
        }
        return dir
    }

    /// Rows of a [rows, width] matrix taken in the order `rows`.
    static func takeRows(_ v: [Float], width: Int, _ rows: [Int]) -> [Float] {
        rows.flatMap { r in v[(r * width) ..< ((r + 1) * width)] }
    }

    /// Columns of a [rows, width] matrix taken in the order `columns`.
    static func takeColumns(_ v: [Float], width: Int, _ columns: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for r in 0 ..< v.count / width { for (j, c) in columns.enumerated() { out[r * width + j] = v[r * width + c] } }
        return out
    }

    /// b's row x·hd + r holds a's row heads[x]·hd + within[x][r].
    static func headRows(_ heads: [Int], headDim hd: Int, within: [[Int]]? = nil) -> [Int] {
        heads.enumerated().flatMap { x, h in (0 ..< hd).map { r in h * hd + (within?[x][r] ?? r) } }
    }

    /// BERT base with layer 0's 12 heads permuted, optionally each head's query/key and
    /// value/output coordinates too, optionally the FFN units as well.
    static func bertCopy(seed: UInt64, within: Bool, mlp: Bool = false, config: Bool = true, from base: Model)
        throws -> (dir: String, heads: [Int], units: [Int]) {
        var random = AlignmentRandom(seed: seed)
        let heads = random.permutation(12)
        let qk = Self.headRows(heads, headDim: 32, within: within ? (0 ..< 12).map { _ in random.permutation(32) } : nil)
        let vo = Self.headRows(heads, headDim: 32, within: within ? (0 ..< 12).map { _ in random.permutation(32) } : nil)
        let units = random.permutation(1536)
        let dir = try copy(base, config: config) { name, v, shape in
            let p = "encoder.layer.0."
            switch name {
            case p + "attention.self.query.weight", p + "attention.self.key.weight": return takeRows(v, width: 384, qk)
            case p + "attention.self.query.bias", p + "attention.self.key.bias": return qk.map { v[$0] }
            case p + "attention.self.value.weight": return takeRows(v, width: 384, vo)
            case p + "attention.self.value.bias": return vo.map { v[$0] }
            case p + "attention.output.dense.weight": return takeColumns(v, width: 384, vo)
            case p + "intermediate.dense.weight" where mlp: return takeRows(v, width: 384, units)
            case p + "intermediate.dense.bias" where mlp: return units.map { v[$0] }
            case p + "output.dense.weight" where mlp: return takeColumns(v, width: 1536, units)
            default: return v
            }
        }
        return (dir, heads, units)
    }

    @Test func bertHeadPermutedCopyIsPermutedWithThePlantedPermutation() throws {
        let base = try Model.open(AlignmentFixtures.path("base"))
        for within in [false, true] {
            let (dir, heads, _) = try Self.bertCopy(seed: within ? 11 : 12, within: within, from: base)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let c = Comparator.compare(base, try Model.open(dir))
            #expect(c.verdict.relation == .permuted, "\(c.verdict.summary)")
            let report = try #require(c.alignment)
            #expect(report.layers.isEmpty)   // the MLP is untouched: not aligned
            let layer = try #require(report.heads?.first)
            #expect(report.heads?.count == 1)
            #expect(layer.block == "encoder.layer.0.attention")
            #expect(layer.heads == 12 && layer.kvHeads == 12 && layer.headDim == 32)
            #expect(layer.permutation == heads)
            #expect(layer.kvPermutation == nil)
            #expect(layer.matchedHeads == 12)
            #expect(layer.fixedHeads == (0 ..< 12).filter { heads[$0] == $0 }.count)
            #expect(abs(layer.log10PValue - FixedPoints.log10AtLeast(12, units: 12)) < 0.01)
            #expect(layer.headsWithMovedCoordinates == (within ? 12 : 0))
            #expect(layer.tensors.count == 7)   // q, k, v, o weights and q, k, v biases
            #expect(layer.tensors.allSatisfy { $0.equal && $0.roundingMismatches == 0 && $0.maxAbsDiff == 0 })
            #expect(report.equalAfterAlignment)
        }
    }

    @Test func headAndMLPPermutedCopyIsPermutedWithBoth() throws {
        let base = try Model.open(AlignmentFixtures.path("base"))
        let (dir, heads, units) = try Self.bertCopy(seed: 13, within: true, mlp: true, from: base)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Comparator.compare(base, try Model.open(dir))
        #expect(c.verdict.relation == .permuted, "\(c.verdict.summary)")
        let report = try #require(c.alignment)
        #expect(report.layers.first?.permutation == units)
        #expect(report.heads?.first?.permutation == heads)
        #expect(report.equalAfterAlignment)
        #expect(c.verdict.summary.contains("MLP") && c.verdict.summary.contains("attention heads"))
    }

    @Test func llamaGroupedQueryCopyIsPermutedWithTheKVGroupsMovedWhole() throws {
        let base = try Model.open(AlignmentFixtures.path("llama/base"))
        // 8 query heads in 2 groups of 4 (one KV head each), head_dim 32, hidden 256.
        var random = AlignmentRandom(seed: 21)
        var planted = [(heads: [Int], kv: [Int])]()
        for layer in 0 ..< 2 {
            let kv = layer == 0 ? [1, 0] : [0, 1]
            let heads = kv.flatMap { g in random.permutation(4).map { g * 4 + $0 } }
            planted.append((heads, kv))
        }
        let dir = try Self.copy(base) { name, v, shape in
            for (layer, p) in planted.enumerated() {
                let prefix = "model.layers.\(layer).self_attn."
                let q = Self.headRows(p.heads, headDim: 32), kv = Self.headRows(p.kv, headDim: 32)
                switch name {
                case prefix + "q_proj.weight": return Self.takeRows(v, width: 256, q)
                case prefix + "k_proj.weight", prefix + "v_proj.weight": return Self.takeRows(v, width: 256, kv)
                case prefix + "o_proj.weight": return Self.takeColumns(v, width: 256, q)
                default: continue
                }
            }
            return v
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Comparator.compare(base, try Model.open(dir))
        #expect(c.verdict.relation == .permuted, "\(c.verdict.summary)")
        let layers = try #require(c.alignment?.heads)
        #expect(layers.count == 2)
        for (layer, p) in zip(layers, planted) {
            #expect(layer.heads == 8 && layer.kvHeads == 2 && layer.headDim == 32)
            #expect(layer.permutation == p.heads)
            #expect(layer.kvPermutation == p.kv)
            #expect(layer.matchedHeads == 8)
            #expect(layer.headsWithMovedCoordinates == 0)
            #expect(layer.withinHead.hasPrefix("not attempted"))
            #expect(abs(layer.log10PValue - GroupedFixedPoints.log10AtLeast(8, groups: 2, groupSize: 4)) < 0.01)
            #expect(layer.tensors.allSatisfy { $0.equal && $0.maxAbsDiff == 0 })
        }
    }

    @Test func withoutAHeadCountHeadsAreNotAlignedAndTheReportSaysSo() throws {
        let original = try Model.open(AlignmentFixtures.path("base"))
        let plain = try Self.copy(original, config: false) { _, v, _ in v }
        defer { try? FileManager.default.removeItem(atPath: plain) }
        let (dir, _, _) = try Self.bertCopy(seed: 14, within: false, config: false, from: original)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Model.open(plain), b = try Model.open(dir)
        #expect(HeadAlignment.headCounts(a) == nil)
        let (layers, note) = try HeadAlignment.align(a, b, pairing: TensorPairing.pair(a, b))
        #expect(layers.isEmpty)
        #expect(note?.contains("head count") == true)
        let c = Comparator.compare(a, b)
        #expect(c.verdict.relation != .permuted)
        #expect(c.verdict.related)
    }

    @Test func unrelatedModelsAgreeOnFewHeads() throws {
        for (x, y) in [("base", "unrelated_random"), ("llama/base", "llama/unrelated_same_data")] {
            let a = try Model.open(AlignmentFixtures.path(x)), b = try Model.open(AlignmentFixtures.path(y))
            let (layers, note) = try HeadAlignment.align(a, b, pairing: TensorPairing.pair(a, b))
            #expect(note == nil)
            #expect(!layers.isEmpty)
            for layer in layers {
                #expect(layer.matchedHeads <= 3, "\(x) vs \(y) \(layer.block): \(layer.matchedHeads) heads agree")
                #expect(layer.log10PValue > -2)
                #expect(!layer.tensors.contains { $0.equal })
            }
            #expect(Comparator.compare(a, b).verdict.relation == .unrelated)
        }
    }

    @Test func baseAgainstItselfAndItsFineTuneKeepTheirRelations() throws {
        let base = try Model.open(AlignmentFixtures.path("base"))
        #expect(Comparator.compare(base, base).verdict.relation == .identical)
        let finetune = Comparator.compare(base, try Model.open(AlignmentFixtures.path("finetune")))
        #expect(finetune.verdict.relation == .finetune)
        #expect(finetune.alignment == nil)
        let llama = try Model.open(AlignmentFixtures.path("llama/base"))
        let llamaFinetune = Comparator.compare(llama, try Model.open(AlignmentFixtures.path("llama/finetune")))
        #expect(llamaFinetune.verdict.relation == .finetune)
    }

    /// The grouped null against a brute-force count over every group-preserving permutation.
    @Test func groupedFixedPointsMatchEnumeration() {
        func permutations(_ n: Int) -> [[Int]] {
            if n == 0 { return [[]] }
            return permutations(n - 1).flatMap { p in (0 ... p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
        }
        for (groups, m) in [(2, 2), (3, 2), (2, 3), (4, 2)] {
            var counts = [Int](repeating: 0, count: groups * m + 1)
            var total = 0
            for sigma in permutations(groups) {
                // Every choice of a within-group permutation per group.
                var choices = [[[Int]]]([[]])
                for _ in 0 ..< groups { choices = choices.flatMap { c in permutations(m).map { c + [$0] } } }
                for tau in choices {
                    var fixed = 0
                    for g in 0 ..< groups { for r in 0 ..< m where sigma[g] == g && tau[g][r] == r { fixed += 1 } }
                    counts[fixed] += 1
                    total += 1
                }
            }
            for k in 1 ... groups * m {
                let tail = Double(counts[k...].reduce(0, +)) / Double(total)
                let computed = GroupedFixedPoints.log10AtLeast(k, groups: groups, groupSize: m)
                if tail == 0 { #expect(computed < -15) } else { #expect(abs(computed - log10(tail)) < 1e-9, "\(groups)×\(m) k=\(k)") }
            }
        }
        #expect(GroupedFixedPoints.log10AtLeast(3, groups: 12, groupSize: 1) == FixedPoints.log10AtLeast(3, units: 12))
    }
}
