import Foundation
import Testing
@testable import PedigreeEngine

/// The permutation statistic's closed-form mean and variance against brute force over all
/// permutations of a small sample, and its behaviour on shared and independent weights.
@Suite struct HiddenPermutationTestTests {
    /// A deterministic sample: `units` × `positions`, unit-major.
    static func randomSample(units: Int, positions: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0 ..< units * positions).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    @Test func closedFormMatchesAllPermutations() throws {
        let d = 6, n = 5
        let a = Self.randomSample(units: d, positions: n, seed: 1), b = Self.randomSample(units: d, positions: n, seed: 2)
        let statistic = try #require(HiddenPermutationTest.statistic(of: HiddenSample(units: d, positions: n, joint: true, a: a, b: b)))
        // S(pi) = sum_j <a_j, b_pi(j)> over all 720 permutations.
        func dot(_ i: Int, _ j: Int) -> Double { (0 ..< n).reduce(0) { $0 + Double(a[i * n + $1]) * Double(b[j * n + $1]) } }
        var values = [Double]()
        func permute(_ prefix: [Int], _ rest: [Int]) {
            if rest.isEmpty { values.append(prefix.enumerated().reduce(0) { $0 + dot($1.offset, $1.element) }); return }
            for (k, x) in rest.enumerated() { var r = rest; r.remove(at: k); permute(prefix + [x], r) }
        }
        permute([], Array(0 ..< d))
        #expect(values.count == 720)
        let mean = values.reduce(0, +) / 720
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 720
        let observed = (0 ..< d).reduce(0) { $0 + dot($1, $1) }
        #expect(abs(statistic.z - (observed - mean) / variance.squareRoot()) < 1e-4)
    }

    @Test func sharedWeightsAreSignificantIndependentOnesAreNot() throws {
        let d = 64, n = 256
        let a = Self.randomSample(units: d, positions: n, seed: 3)
        let noise = Self.randomSample(units: d, positions: n, seed: 4)
        let child = zip(a, noise).map { $0 + 0.1 * $1 }
        let shared = try #require(HiddenPermutationTest.statistic(of: HiddenSample(units: d, positions: n, joint: true, a: a, b: child)))
        #expect(shared.z > 20)
        #expect(shared.log10PValue < -50)
        let independent = try #require(HiddenPermutationTest.statistic(of: HiddenSample(units: d, positions: n, joint: true, a: a, b: noise)))
        #expect(abs(independent.z) < 4)
    }

    @Test func jointOfIndependentTensorsIsStouffer() throws {
        let d = 32, n = 64
        var accumulator = JointPermutationAccumulator(units: d)
        var zs = [Double]()
        for seed in 0 ..< 4 {
            let a = Self.randomSample(units: d, positions: n, seed: 10 + UInt64(seed))
            let b = Self.randomSample(units: d, positions: n, seed: 20 + UInt64(seed))
            let s = try #require(HiddenPermutationTest.statistic(of: HiddenSample(units: d, positions: n, joint: true, a: a, b: b)))
            zs.append(s.z)
            accumulator.add(s)
        }
        let joint = try #require(accumulator.statistic)
        // Independent tensors: the joint variance is close to the number of tensors.
        let stouffer = zs.reduce(0, +) / 2
        #expect(abs(joint.z - stouffer) < 0.5)
        #expect(accumulator.members == 4)
    }

    @Test func boundedByFactorial() throws {
        let d = 16, n = 64
        let a = Self.randomSample(units: d, positions: n, seed: 5)
        let s = try #require(HiddenPermutationTest.statistic(of: HiddenSample(units: d, positions: n, joint: true, a: a, b: a)))
        #expect(s.log10PValue >= -NormalTail.log10Factorial(16) - 1e-9)
    }

    @Test func constantSampleGivesNoStatistic() {
        let sample = HiddenSample(units: 8, positions: 8, joint: true, a: [Float](repeating: 1, count: 64), b: [Float](repeating: 1, count: 64))
        #expect(HiddenPermutationTest.statistic(of: sample) == nil)
    }
}
