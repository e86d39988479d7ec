import Foundation
import PedigreeFormats

/// The shape of one delta's singular spectrum: how much energy its top directions hold, where
/// the spectrum drops (spectral gap), and whether that makes it low rank.
public struct SpectrumSummary: Codable, Sendable, Equatable {
    /// The leading singular values of the delta (at most 12 are kept).
    public var singularValues: [Double]
    /// Smallest r whose top-r energy reaches 99% of ||ΔW||²_F; nil when beyond the sketch.
    public var energyRank: Int?
    /// r at the largest ratio s_r / s_{r+1} among the sketched values.
    public var gapRank: Int
    public var gapRatio: Double
    /// Share of ||ΔW||²_F in the top `gapRank` singular values.
    public var topEnergy: Double
    /// s_1 against the largest singular value of an iid noise matrix of the same shape and
    /// Frobenius norm (Marchenko-Pastur edge): about 1 for unstructured noise such as rounding or
    /// quantization error, above 2 for the trained deltas of the fixtures.
    public var structure: Double
    /// True when the delta is an update of rank `gapRank` plus at most rounding-level noise.
    public var lowRank: Bool
}

enum Spectrum {
    /// A gap at least this sharp, with this much energy above it, makes a delta low rank.
    static let gapRatio = 4.0
    static let gapEnergy = 0.999
    /// Or: the energy beyond the gap is within this factor of the storage rounding's energy.
    static let noiseFactor = 4.0

    /// - Parameters: `values` descending (a sketch of `sketched` values), `energy` = ||ΔW||²_F
    ///   exactly, `noise` = the energy the storage dtypes' rounding alone would give.
    static func summarize(_ values: [Float], energy: Double, noise: Double, rows: Int, columns: Int) -> SpectrumSummary {
        let s = values.map(Double.init)
        let p = min(rows, columns)
        var cumulative = 0.0, energyRank: Int?
        var cumulativeAt = [Double]()
        for (i, v) in s.enumerated() {
            cumulative += v * v
            cumulativeAt.append(energy > 0 ? min(cumulative / energy, 1) : 1)
            if energyRank == nil, energy > 0, cumulative / energy >= 0.99 { energyRank = i + 1 }
        }
        var gapRank = 1, ratio = 1.0
        let floor = (s.first ?? 0) * 1e-7
        for r in 1 ..< max(s.count, 1) {
            let next = s[r]
            let q = next > floor ? s[r - 1] / next : 1e7
            if q > ratio { ratio = q; gapRank = r }
        }
        let top = cumulativeAt.isEmpty ? 0 : cumulativeAt[min(gapRank, cumulativeAt.count) - 1]
        let tail = max(0, energy - (cumulativeAt.isEmpty ? 0 : top * energy))
        let edge = energy.squareRoot() * (1 / Double(max(rows, 1)).squareRoot() + 1 / Double(max(columns, 1)).squareRoot())
        let structure = edge > 0 ? (s.first ?? 0) / edge : 0
        let sharp = ratio >= gapRatio && top >= gapEnergy
        let quiet = ratio >= 2 && tail <= noiseFactor * noise
        let low = energy > 0 && s.count > gapRank && gapRank * 4 <= p && (sharp || quiet)
        return SpectrumSummary(singularValues: s.prefix(12).map { Numbers.significant($0, digits: 5) },
                               energyRank: energyRank, gapRank: gapRank, gapRatio: Numbers.significant(min(ratio, 1e7), digits: 4),
                               topEnergy: Numbers.significant(top, digits: 6), structure: Numbers.significant(structure, digits: 4),
                               lowRank: low)
    }

    /// The spacing of representable values of `format` around |x| (subnormal spacing near 0).
    @inline(__always)
    /// Σ ulp(x)² / 12 over `values`: the variance rounding to `format` leaves in them (the same sum,
    /// term by term, as adding `ulp(x, format:)² / 12` in order).
    static func roundingNoise(of values: [Float], format: FloatFormat) -> Double {
        let (mantissa, minExponent): (Int, Int) = switch format {
        case .f16: (10, -14)
        case .bf16: (7, -126)
        case .f32: (23, -126)
        case .f64: (52, -1022)
        }
        guard format != .f64 else { return values.reduce(0) { let u = ulp($1, format: format); return $0 + u * u / 12 } }
        var noise = 0.0
        values.withUnsafeBufferPointer { x in
            for v in x {
                let field = Int((v.bitPattern >> 23) & 0xff)
                // Zero, float32 subnormals and non-finite values take the format's smallest exponent.
                let e = field == 0 || field == 255 ? minExponent : max(field - 127, minExponent)
                let u2 = Double(bitPattern: UInt64(1023 + 2 * (e - mantissa)) << 52)   // ulp², exact
                noise += u2 / 12
            }
        }
        return noise
    }

    static func ulp(_ x: Float, format: FloatFormat) -> Double {
        let (mantissa, minExponent): (Int, Int) = switch format {
        case .f16: (10, -14)
        case .bf16: (7, -126)
        case .f32: (23, -126)
        case .f64: (52, -1022)
        }
        let e = x == 0 || !x.isFinite ? minExponent : max(Int(x.exponent), minExponent)
        return Double(sign: .plus, exponent: e - mantissa, significand: 1)
    }
}
