import Foundation
import Testing
@testable import PedigreeEngine

@Suite struct AlignmentAssignmentTests {
    static func randomMatrix(_ n: Int, seed: UInt64) -> [Float] {
        var r = AlignmentRandom(seed: seed)
        return (0 ..< n * n).map { _ in r.gaussian() }
    }

    static func total(_ s: [Float], _ n: Int, _ p: [Int]) -> Double {
        (0 ..< n).reduce(0.0) { $0 + Double(s[$1 * n + p[$1]]) }
    }

    @Test func sparseSolverMatchesTheDenseHungarianOptimum() {
        for (n, seed) in [(1, 1), (2, 2), (7, 3), (40, 4), (150, 5), (300, 6)] as [(Int, UInt64)] {
            let s = Self.randomMatrix(n, seed: seed)
            let sparse = LinearAssignment.maximize(s, n: n, candidates: 4)
            let dense = LinearAssignment.maximizeDense(s, n: n)
            #expect(Set(sparse.columnOfRow).count == n)
            #expect(abs(sparse.total - Self.total(s, n, dense)) <= 1e-4 * max(1, abs(sparse.total)), "n = \(n)")
        }
    }

    @Test func smallCaseByBruteForce() {
        // The six permutations total 12, 22, 19, 16, 16 and 3: the optimum takes columns 0, 2, 1,
        // and with one candidate per row (columns 0, 0, 1) the optimality check must add edges.
        let s: [Float] = [9, 8, 1,
                          9, 1, 7,
                          1, 6, 2]
        let a = LinearAssignment.maximize(s, n: 3, candidates: 1)
        #expect(a.columnOfRow == [0, 2, 1])
        #expect(a.total == 22)
    }

    @Test func recoversAPlantedPermutationUnderNoise() {
        let n = 1536
        var r = AlignmentRandom(seed: 77)
        let p = r.permutation(n)
        var s = [Float](repeating: 0, count: n * n)
        for i in 0 ..< n * n { s[i] = 0.1 * r.gaussian() }
        for i in 0 ..< n { s[i * n + p[i]] += 1 }
        let start = Date()
        let a = LinearAssignment.maximize(s, n: n)
        let seconds = Date().timeIntervalSince(start)
        print("assignment 1536 units (planted, debug build): \(String(format: "%.3f", seconds)) s, edges \(a.edges), checks \(a.checks)")
        #expect(a.columnOfRow == p)
    }

    @Test func fixedPointTail() {
        // P(X >= 1) = 1 − D_n/n! → 1 − 1/e; P(X >= n) = 1/n!; P(X >= 0) = 1.
        #expect(abs(pow(10, FixedPoints.log10AtLeast(1, units: 50)) - (1 - exp(-1))) < 1e-9)
        #expect(abs(FixedPoints.log10AtLeast(10, units: 10) + NormalTail.log10Factorial(10)) < 1e-9)
        #expect(FixedPoints.log10AtLeast(0, units: 10) == 0)
        // n = 3: fixed-point counts over the 6 permutations are 3,1,1,1,0,0: P(X >= 1) = 4/6.
        #expect(abs(pow(10, FixedPoints.log10AtLeast(1, units: 3)) - 4.0 / 6) < 1e-12)
        #expect(abs(pow(10, FixedPoints.log10AtLeast(2, units: 3)) - 1.0 / 6) < 1e-12)
    }
}
