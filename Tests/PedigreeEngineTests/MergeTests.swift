import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// Merge fits: the mergekit fixture, and synthetic task-arithmetic and DARE merges.
@Suite struct MergeTests {
    @Test func mergekitLinearFiftyFifty() throws {
        let (r, _) = MergeAnalysis.analyse(child: try DeltaFixtures.open("merge_linear_50_50"),
                                           parents: [try DeltaFixtures.open("finetune"), try DeltaFixtures.open("lora_merged")], base: nil)
        #expect(r.isMerge && r.method == "linear")
        let w = try #require(r.weights)
        #expect(Swift.abs(w[0] - 0.5) <= 0.01 && Swift.abs(w[1] - 0.5) <= 0.01)
        #expect(try #require(r.residualOverRounding) < 4)   // at the F16 rounding of the child
        #expect(r.tensors.allSatisfy { $0.weights != nil })
    }

    @Test func notAMergeOfUnrelatedParents() throws {
        let (r, _) = MergeAnalysis.analyse(child: try DeltaFixtures.open("finetune"),
                                           parents: [try DeltaFixtures.open("unrelated_random"), try DeltaFixtures.open("lora_merged")], base: nil)
        #expect(!r.isMerge)
    }

    static func synthetic() throws -> (base: Model, p1: Model, p2: Model, child: Model, dare: Model) {
        var g = TestNormals(seed: 7)
        let n = 64 * 48
        let b = g.values(n, scale: 0.05), t1 = g.values(n, scale: 0.01), t2 = g.values(n, scale: 0.01)
        let bias = g.values(48, scale: 0.1)
        let p1 = zip(b, t1).map { $0 + $1 }, p2 = zip(b, t2).map { $0 + $1 }
        let child = (0 ..< n).map { b[$0] + 0.7 * t1[$0] + 0.4 * t2[$0] }
        var dropped = g   // DARE: drop half of t1's entries, rescale the rest by 1/(1-0.5)
        let dare = (0 ..< n).map { i -> Float in dropped.uniform() < 0.5 ? b[i] : b[i] + 2 * t1[i] }
        func m(_ w: [Float]) throws -> Model {
            try DeltaFixtures.model([("w.weight", [64, 48], w), ("same.bias", [48], bias), ("zero.weight", [4, 4], [Float](repeating: 0, count: 16))])
        }
        return (try m(b), try m(p1), try m(p2), try m(child), try m(dare))
    }

    @Test func taskArithmeticRelativeToTheBase() throws {
        let s = try Self.synthetic()
        let (r, _) = MergeAnalysis.analyse(child: s.child, parents: [s.p1, s.p2], base: s.base)
        #expect(r.isMerge)
        let l = try #require(r.taskArithmetic?.lambdas)
        #expect(Swift.abs(l[0] - 0.7) < 1e-3 && Swift.abs(l[1] - 0.4) < 1e-3)
        // The parents agree on the bias and the zero tensor: no coefficient there, and no division by zero.
        #expect(r.tensors.first { $0.tensor == "same.bias" }?.note?.contains("agree") == true)
        #expect(r.tensors.first { $0.tensor == "zero.weight" }?.note?.contains("all zero") == true)
        #expect(r.signatures?.excessZeroShare == 0)
    }

    @Test func dareLeavesZerosAndTheRescale() throws {
        let s = try Self.synthetic()
        let (r, _) = MergeAnalysis.analyse(child: s.dare, parents: [s.p1], base: s.base)
        let sig = try #require(r.signatures)
        #expect(Swift.abs(sig.excessZeroShare - 0.5) < 0.05)
        #expect(sig.signAgreement[0] == 1)
        let rescale = try #require(sig.rescale[0])
        #expect(Swift.abs(rescale - 2) < 0.2)   // 1/(1-p) with p = 0.5
    }

    @Test func singularSystemsGiveNoSolution() {
        #expect(MergeAnalysis.solve([1, 1, 1, 1], [1, 1], 2) == nil)
        #expect(MergeAnalysis.solve([0, 0, 0, 0], [0, 0], 2) == nil)
        let x = MergeAnalysis.solve([2, 1, 1, 3], [3, 5], 2)!
        #expect(Swift.abs(x[0] - 0.8) < 1e-12 && Swift.abs(x[1] - 1.4) < 1e-12)
    }
}
