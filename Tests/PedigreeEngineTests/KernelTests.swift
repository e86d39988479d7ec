import CPedigreeKernels
import Foundation
import Testing

/// The C measure kernels: the fast path against its scalar twin, the rounding checks against
/// Swift's own conversions.
@Suite struct KernelTests {
    static func values(_ count: Int, seed: UInt64, specials: Bool) -> [Float] {
        var state = seed
        return (0 ..< count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            if specials && i % 97 == 5 { return [Float.nan, .infinity, -.infinity, 0][Int(state >> 62)] }
            return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000
        }
    }

    @Test(arguments: [1, 7, 8, 33, 4095, 4096, 4097, 10_000])
    func fastSumsMatchReference(_ n: Int) {
        for specials in [false, true] {
            let a = Self.values(n, seed: 1, specials: specials), b = Self.values(n, seed: 2, specials: specials)
            var fast = pdg_pair_sums(), reference = pdg_pair_sums()
            pdg_pair_accumulate(a, b, n, &fast)
            pdg_pair_accumulate_ref(a, b, n, &reference)
            #expect(fast.count == reference.count)
            #expect(fast.nonFinite == reference.nonFinite)
            #expect(fast.unequal == reference.unequal)
            #expect(fast.maxAbsDiff == reference.maxAbsDiff)
            for (x, y) in [(fast.dot, reference.dot), (fast.sumA2, reference.sumA2), (fast.sumDiff2, reference.sumDiff2), (fast.sumA, reference.sumA)] {
                #expect(abs(x - y) <= 1e-5 * max(1, abs(y)))
            }
        }
    }

    /// Values of `format` as stored bytes, starting `offset` bytes into the buffer (any alignment),
    /// and the floats they decode to.
    static func encoded(_ values: [Float], format: Int32, offset: Int) -> (bytes: [UInt8], floats: [Float]) {
        var bytes = [UInt8](repeating: 0, count: offset)
        var floats = [Float]()
        for v in values {
            switch format {
            case Int32(PDG_FORMAT_F16):
                let h = Float16(v)
                floats.append(Float(h))
                bytes += [UInt8(h.bitPattern & 0xff), UInt8(h.bitPattern >> 8)]
            case Int32(PDG_FORMAT_BF16):
                let top = UInt16(v.bitPattern >> 16)
                floats.append(Float(bitPattern: UInt32(top) << 16))
                bytes += [UInt8(top & 0xff), UInt8(top >> 8)]
            default:
                floats.append(v)
                bytes += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
            }
        }
        return (bytes, floats)
    }

    static func sumsEqual(_ x: pdg_pair_sums, _ y: pdg_pair_sums) -> Bool {
        x.dot == y.dot && x.sumA == y.sumA && x.sumB == y.sumB && x.sumA2 == y.sumA2 && x.sumB2 == y.sumB2
            && x.sumDiff2 == y.sumDiff2 && x.maxAbsDiff == y.maxAbsDiff && x.count == y.count
            && x.nonFinite == y.nonFinite && x.unequal == y.unequal
    }

    /// Folding F16, BF16 or F32 values straight from their bytes gives exactly the sums of decoding
    /// them first, at every length, alignment and format pair, with and without NaN and infinities.
    @Test(arguments: [1, 7, 8, 33, 4095, 4096, 4097, 10_000])
    func encodedSumsEqualDecodedSums(_ n: Int) {
        let formats = [PDG_FORMAT_F32, PDG_FORMAT_F16, PDG_FORMAT_BF16].map { Int32($0) }
        for specials in [false, true] {
            let x = Self.values(n, seed: 3, specials: specials), y = Self.values(n, seed: 4, specials: specials)
            for fa in formats {
                for fb in formats {
                    let a = Self.encoded(x, format: fa, offset: 1), b = Self.encoded(y, format: fb, offset: 3)
                    var direct = pdg_pair_sums(), decoded = pdg_pair_sums(), reference = pdg_pair_sums()
                    a.bytes.withUnsafeBytes { pa in
                        b.bytes.withUnsafeBytes { pb in
                            pdg_pair_accumulate_encoded(pa.baseAddress! + 1, fa, pb.baseAddress! + 3, fb, n, &direct)
                            pdg_pair_accumulate_encoded_ref(pa.baseAddress! + 1, fa, pb.baseAddress! + 3, fb, n, &reference)
                        }
                    }
                    pdg_pair_accumulate(a.floats, b.floats, n, &decoded)
                    #expect(Self.sumsEqual(direct, decoded), "formats \(fa) \(fb), n \(n), specials \(specials)")
                    #expect(reference.count == decoded.count && reference.unequal == decoded.unequal
                            && reference.nonFinite == decoded.nonFinite && reference.maxAbsDiff == decoded.maxAbsDiff)
                    #expect(abs(reference.dot - decoded.dot) <= 1e-5 * max(1, abs(decoded.dot)))
                }
            }
        }
    }

    /// The double Gram kernel against its scalar twin, at odd and even sizes (every edge path).
    @Test(arguments: [(1, 5), (2, 4), (7, 13), (64, 256), (33, 1031)])
    func selfGramMatchesReference(_ shape: (Int, Int)) {
        let (rows, k) = shape
        let a = Self.values(rows * k, seed: 11, specials: false)
        var fast = [Double](repeating: .nan, count: rows * rows), reference = fast
        pdg_gram_self_f64(a, rows, k, &fast)
        pdg_gram_self_f64_ref(a, rows, k, &reference)
        for i in 0 ..< rows * rows { #expect(abs(fast[i] - reference[i]) <= 1e-12 * max(1, abs(reference[i]))) }
        for i in 0 ..< rows { for j in 0 ..< rows { #expect(fast[i * rows + j] == fast[j * rows + i]) } }
    }

    @Test func roundingToHalfMatchesSwift() {
        var state: UInt64 = 7
        for _ in 0 ..< 200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            let expected = Float(Float16(x))
            let got = pdg_round_to_format(x, Int32(PDG_FORMAT_F16))
            #expect(x.isNaN ? got.isNaN : got.bitPattern == expected.bitPattern, "x = \(x)")
        }
    }

    @Test func roundingToBFloat16IsNearestEven() {
        // 1 + 2^-8 is halfway between two BF16 values and rounds to the even one, 1.
        #expect(pdg_round_to_format(1 + 1.0 / 256, Int32(PDG_FORMAT_BF16)) == 1)
        #expect(pdg_round_to_format(1 + 3.0 / 256, Int32(PDG_FORMAT_BF16)) == 1 + 4.0 / 256)
        #expect(pdg_round_to_format(Float.nan, Int32(PDG_FORMAT_BF16)).isNaN)
    }

    @Test func roundingCheckCounts() {
        let wide: [Float] = [1, 1.0001, 0.5, 3]
        let narrow: [Float] = [1, Float(Float16(1.0001)), 0.5, 2]
        var mismatches: Int64 = 0, inexact: Int64 = 0
        pdg_rounding_check(wide, narrow, 4, Int32(PDG_FORMAT_F16), &mismatches, &inexact)
        #expect(mismatches == 1)
        #expect(inexact == 1)
    }
}

extension KernelTests {
    @Test(arguments: [Int32(PDG_FORMAT_F16), Int32(PDG_FORMAT_BF16)])
    func fastRoundingCheckMatchesReference(_ format: Int32) {
        for n in [1, 7, 8, 9, 1000, 4099] {
            let wide = Self.values(n, seed: 11, specials: true)
            // Half of the narrow values are the correct rounding, the others are moved or random.
            let narrow: [Float] = wide.enumerated().map { i, w in
                let r = pdg_round_to_format(w, format)
                return i % 3 == 0 ? r : (i % 3 == 1 ? r.nextUp : Float(i) * 1e-3)
            }
            var fastMismatches: Int64 = 0, fastInexact: Int64 = 0, refMismatches: Int64 = 0, refInexact: Int64 = 0
            pdg_rounding_check(wide, narrow, n, format, &fastMismatches, &fastInexact)
            pdg_rounding_check_ref(wide, narrow, n, format, &refMismatches, &refInexact)
            #expect(fastMismatches == refMismatches)
            #expect(fastInexact == refInexact)
        }
    }
}

extension KernelTests {
    /// The statistic's own product kernel against its double-precision twin, odd sizes included.
    @Test(arguments: [(1, 1), (3, 5), (4, 8), (9, 17), (64, 200)])
    func gramMatchesReference(_ d: Int, _ k: Int) {
        let a = Self.values(d * k, seed: 21, specials: false), b = Self.values(d * k, seed: 22, specials: false)
        var fast = [Float](repeating: 0, count: d * d), reference = [Float](repeating: 0, count: d * d)
        pdg_gram_ab(a, b, d, k, &fast)
        pdg_gram_ab_ref(a, b, d, k, &reference)
        for (x, y) in zip(fast, reference) { #expect(abs(x - y) <= 1e-4 * max(1, abs(y)) * Float(k).squareRoot()) }
    }
}
