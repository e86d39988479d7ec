import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The randomized SVD against LAPACK's full sgesdd on planted ranks and on full-rank noise.
@Suite struct DeltaSVDTests {
    /// A rows × columns matrix of exact rank `rank` (singular values 10, 9, ...) plus iid noise.
    static func planted(rank: Int, rows: Int = 300, columns: Int = 200, noise: Float = 1e-4, seed: UInt64) -> FloatMatrix {
        var g = TestNormals(seed: seed)
        var m = FloatMatrix(rows: rows, columns: columns, values: g.values(rows * columns, scale: noise))
        let u = RandomizedSVD.full(FloatMatrix(rows: rows, columns: rank, values: g.values(rows * rank))).u
        let v = RandomizedSVD.full(FloatMatrix(rows: columns, columns: rank, values: g.values(columns * rank))).u
        for k in 0 ..< rank {
            let s = Float(10 - Double(k) * 0.5)
            for i in 0 ..< rows { for j in 0 ..< columns { m[i, j] += s * u[i, k] * v[j, k] } }
        }
        return m
    }

    static func energy(_ m: FloatMatrix) -> Double { m.values.reduce(0) { $0 + Double($1) * Double($1) } }

    @Test(arguments: [1, 4, 8, 16])
    func plantedRankIsRecovered(rank: Int) {
        let m = Self.planted(rank: rank, seed: UInt64(rank))
        let fast = RandomizedSVD.decompose(m, rank: 40)
        let exact = RandomizedSVD.full(m)
        for i in 0 ..< rank {
            #expect(Swift.abs(fast.singularValues[i] - exact.singularValues[i]) <= 1e-4 * exact.singularValues[0])
        }
        let noise = Double(m.count) * 1e-8   // iid N(0, 1e-8) entries
        let s = Spectrum.summarize(fast.singularValues, energy: Self.energy(m), noise: noise, rows: m.rows, columns: m.columns)
        #expect(s.lowRank)
        #expect(s.gapRank == rank)
        #expect(s.energyRank ?? 0 <= rank)
        #expect(s.topEnergy > 0.9999)
        // The rank-r reconstruction leaves only the noise.
        let r = fast.reconstruct(rank: rank)
        let residual = zip(m.values, r.values).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        #expect(residual < 2 * noise)
    }

    @Test func fullRankNoiseIsNotLowRank() {
        var g = TestNormals(seed: 99)
        let m = FloatMatrix(rows: 256, columns: 192, values: g.values(256 * 192))
        let fast = RandomizedSVD.decompose(m, rank: 64)
        let exact = RandomizedSVD.full(m)
        // A flat spectrum is the hard case for a sketch: the leading values still agree to a few percent.
        #expect(Swift.abs(fast.singularValues[0] - exact.singularValues[0]) / exact.singularValues[0] < 0.05)
        let s = Spectrum.summarize(fast.singularValues, energy: Self.energy(m), noise: 0, rows: 256, columns: 192)
        #expect(!s.lowRank)
        #expect(s.gapRatio < 1.5)
        #expect(s.energyRank == nil)
        // iid noise sits at the Marchenko-Pastur edge.
        #expect(s.structure > 0.9 && s.structure < 1.1)
    }

    @Test func singularVectorsAreOrthonormalAndDeterministic() {
        let m = Self.planted(rank: 8, rows: 120, columns: 90, seed: 5)
        let a = RandomizedSVD.decompose(m, rank: 8), b = RandomizedSVD.decompose(m, rank: 8)
        #expect(a == b)
        for i in 0 ..< 8 {
            for j in 0 ..< 8 {
                let d = (0 ..< 120).reduce(Float(0)) { $0 + a.u[$1, i] * a.u[$1, j] }
                #expect(Swift.abs(d - (i == j ? 1 : 0)) < 1e-4)
            }
        }
    }

    /// Thin matrices take LAPACK's exact values; wide-and-tall ones the randomized sketch. Both agree
    /// with the full SVD on the leading values.
    @Test(arguments: [(120, 900), (900, 120), (280, 200), (460, 500)])
    func singularValuesAgreeWithTheFullSVD(_ shape: (Int, Int)) {
        let m = Self.planted(rank: 6, rows: shape.0, columns: shape.1, noise: 1e-3, seed: 5)
        let exact = RandomizedSVD.full(m).singularValues
        let values = RandomizedSVD.singularValues(of: m, count: 64)
        #expect(values.count == 64)
        if min(shape.0, shape.1) <= RandomizedSVD.gramLimit(64) {   // the exact path: every value, not just the leading ones
            for i in 0 ..< 64 { #expect(Swift.abs(values[i] - exact[i]) <= 1e-5 * exact[0]) }
        }
        for i in 0 ..< 6 { #expect(Swift.abs(values[i] - exact[i]) <= 1e-4 * exact[0]) }
        #expect(RandomizedSVD.singularValues(of: m, count: 0).isEmpty)
    }

    /// Leading left singular vectors from the Gram matrix span the same directions as the full SVD's.
    @Test func leftSingularVectorsMatchTheFullSVD() {
        let m = Self.planted(rank: 5, rows: 150, columns: 700, noise: 1e-3, seed: 9)
        let exact = RandomizedSVD.full(m).u
        let u = RandomizedSVD.leftSingularVectors(of: m, count: 64)
        #expect(u.rows == 150 && u.columns == 64)
        for c in 0 ..< 5 {
            let cosine = (0 ..< 150).reduce(Float(0)) { $0 + u[$1, c] * exact[$1, c] }
            #expect(Swift.abs(Swift.abs(cosine) - 1) < 1e-4, "vector \(c)")
        }
        for i in 0 ..< 8 { for j in 0 ..< 8 {
            let d = (0 ..< 150).reduce(Float(0)) { $0 + u[$1, i] * u[$1, j] }
            #expect(Swift.abs(d - (i == j ? 1 : 0)) < 1e-4)
        } }
    }

    /// The rounding noise of a whole array is the sum of ulp² / 12 of its values, zeros, float32
    /// subnormals and non-finite values included.
    @Test func roundingNoiseIsTheSumOfSquaredUlps() {
        var normals = TestNormals(seed: 8)
        var values = normals.values(5000, scale: 0.05)
        values += [0, -0, Float.leastNonzeroMagnitude, 1e-40, 6e-8, 70000, .infinity, -.infinity, .nan]
        for format in [FloatFormat.f16, .bf16, .f32] {
            let expected = values.reduce(0.0) { let u = Spectrum.ulp($1, format: format); return $0 + u * u / 12 }
            #expect(Spectrum.roundingNoise(of: values, format: format) == expected, "\(format)")
        }
    }

    @Test func kurtosisOfKnownSamples() {
        // Population excess kurtosis of 1, 2, 3, 4: m4 / m2² - 3 = 2.5625 / 1.5625 - 3.
        #expect(Swift.abs(Moments([1, 2, 3, 4]).excessKurtosis! - (2.5625 / 1.5625 - 3)) < 1e-12)
        // Two equal masses at ±1: kurtosis 1, excess -2.
        #expect(Swift.abs(Moments([1, -1, 1, -1, 1, -1]).excessKurtosis! + 2) < 1e-12)
        #expect(Moments([3, 3, 3]).excessKurtosis == nil)
        #expect(Moments([]).excessKurtosis == nil)
    }

    @Test func ulpMatchesTheFormats() {
        #expect(Spectrum.ulp(1, format: .f16) == 0x1p-10)
        #expect(Spectrum.ulp(1, format: .bf16) == 0x1p-7)
        #expect(Spectrum.ulp(0.75, format: .f32) == 0x1p-24)
        #expect(Spectrum.ulp(0, format: .f16) == 0x1p-24)   // subnormal spacing
    }
}
