import CPedigreeKernels
import Foundation

/// A (truncated) singular value decomposition A ≈ U · diag(s) · Vᵀ, values in descending order.
public struct SVDResult: Sendable, Equatable {
    /// m × k, orthonormal columns.
    public var u: FloatMatrix
    public var singularValues: [Float]
    /// k × n, orthonormal rows.
    public var vt: FloatMatrix

    public var rank: Int { singularValues.count }

    /// U_k · diag(s_k) · V_kᵀ for the first `k` triplets.
    public func reconstruct(rank k: Int? = nil) -> FloatMatrix {
        let r = min(k ?? rank, rank), m = u.rows, n = vt.columns
        var scaled = FloatMatrix(rows: m, columns: r)
        for i in 0 ..< m { for j in 0 ..< r { scaled[i, j] = u[i, j] * singularValues[j] } }
        var out = FloatMatrix(rows: m, columns: n)
        if r == 0 { return out }
        scaled.values.withUnsafeBufferPointer { s in
            vt.values.withUnsafeBufferPointer { v in
                out.values.withUnsafeMutableBufferPointer { o in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(r), 1,
                                s.baseAddress, Int32(r), v.baseAddress, Int32(n), 0, o.baseAddress, Int32(n))
                }
            }
        }
        return out
    }
}

/// Randomized SVD (Halko, Martinsson and Tropp, "Finding structure with randomness", 2011):
/// a Gaussian sketch Y = A·Ω of `rank + oversampling` columns, `powerIterations` rounds of
/// re-orthonormalised A·Aᵀ products (LAPACK QR) to sharpen a slowly decaying spectrum, then the
/// exact SVD of the small projection Qᵀ·A. Every product is one sgemm; the sketch is seeded, so the
/// same input gives the same result. `full` (LAPACK sgesdd on the whole matrix) is the reference
/// the tests compare against; it is O(mn·min(m,n)) and not used on the analysis path.
public enum RandomizedSVD {
    /// The top `rank` singular triplets of `a`.
    public static func decompose(_ a: FloatMatrix, rank: Int, oversampling: Int = 10, powerIterations: Int = 2,
                                 seed: UInt64 = 0x5EED_1234_ABCD_0001) -> SVDResult {
        let m = a.rows, n = a.columns, p = min(m, n)
        let l = min(max(rank, 1) + max(oversampling, 0), p)
        let k = min(max(rank, 0), l)
        guard l > 0 else {
            return SVDResult(u: FloatMatrix(rows: m, columns: 0), singularValues: [], vt: FloatMatrix(rows: 0, columns: n))
        }
        var generator = GaussianGenerator(seed: seed)
        let omega = (0 ..< n * l).map { _ in generator.next() }
        var y = [Float](repeating: 0, count: m * l)
        var z = [Float](repeating: 0, count: n * l)
        a.values.withUnsafeBufferPointer { pa in
            let A = pa.baseAddress
            omega.withUnsafeBufferPointer { po in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(l), Int32(n), 1,
                                A, Int32(n), po.baseAddress, Int32(l), 0, py.baseAddress, Int32(l))
                }
            }
            orthonormalize(&y, rows: m, columns: l)
            for _ in 0 ..< powerIterations {
                y.withUnsafeBufferPointer { py in
                    z.withUnsafeMutableBufferPointer { pz in
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(l), Int32(m), 1,
                                    A, Int32(n), py.baseAddress, Int32(l), 0, pz.baseAddress, Int32(l))
                    }
                }
                orthonormalize(&z, rows: n, columns: l)
                z.withUnsafeBufferPointer { pz in
                    y.withUnsafeMutableBufferPointer { py in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(l), Int32(n), 1,
                                    A, Int32(n), pz.baseAddress, Int32(l), 0, py.baseAddress, Int32(l))
                    }
                }
                orthonormalize(&y, rows: m, columns: l)
            }
        }
        // B = Qᵀ·A (l × n), then its exact SVD.
        var b = FloatMatrix(rows: l, columns: n)
        y.withUnsafeBufferPointer { py in
            a.values.withUnsafeBufferPointer { pa in
                b.values.withUnsafeMutableBufferPointer { pb in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(l), Int32(n), Int32(m), 1,
                                py.baseAddress, Int32(l), pa.baseAddress, Int32(n), 0, pb.baseAddress, Int32(n))
                }
            }
        }
        let small = full(b)
        // U = Q·Ũ, keeping the first k columns.
        var u = FloatMatrix(rows: m, columns: l)
        y.withUnsafeBufferPointer { py in
            small.u.values.withUnsafeBufferPointer { pu in
                u.values.withUnsafeMutableBufferPointer { po in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(l), Int32(l), 1,
                                py.baseAddress, Int32(l), pu.baseAddress, Int32(l), 0, po.baseAddress, Int32(l))
                }
            }
        }
        var uk = FloatMatrix(rows: m, columns: k)
        for i in 0 ..< m { for j in 0 ..< k { uk[i, j] = u[i, j] } }
        let vt = FloatMatrix(rows: k, columns: n, values: Array(small.vt.values.prefix(k * n)))
        return SVDResult(u: uk, singularValues: Array(small.singularValues.prefix(k)), vt: vt)
    }

    /// The `count` largest singular values of `a`, by the cheaper of two ways: the eigenvalues of
    /// the p × p Gram matrix in double (about p²·q/2 multiply-adds for p × q, p = min(m, n), plus
    /// LAPACK's dsyevd) when the matrix is thin enough (`gramLimit`), else `decompose` (about
    /// 12·l·m·n flops with l = count + 10 and two power iterations). The Gram way is exact, and in double it keeps the
    /// tail of a float32 spectrum (σ down to about 1e-7 of the largest).
    public static func singularValues(of a: FloatMatrix, count: Int) -> [Float] {
        let p = min(a.rows, a.columns)
        guard p > 0, count > 0 else { return [] }
        if p <= gramLimit(count), let (values, _) = gramEigen(a, vectors: false) { return Array(values.prefix(count)) }
        return decompose(a, rank: count).singularValues
    }

    /// The `count` leading left singular vectors of `a` (m × count, orthonormal columns, signs
    /// arbitrary): eigenvectors of a·aᵀ when a is wide and thin enough, else `decompose` with four
    /// power iterations.
    public static func leftSingularVectors(of a: FloatMatrix, count: Int) -> FloatMatrix {
        let k = min(count, min(a.rows, a.columns))
        if a.rows <= a.columns, a.rows <= gramLimit(count), let (_, vectors) = gramEigen(a, vectors: true), let vectors {
            var u = FloatMatrix(rows: a.rows, columns: k)
            for i in 0 ..< a.rows { for c in 0 ..< k { u[i, c] = Float(vectors[i * a.rows + (a.rows - 1 - c)]) } }
            return u
        }
        return decompose(a, rank: k, powerIterations: 4).u
    }

    /// The Gram way pays while p stays a few times the sketch's width l = count + 10: its product
    /// (p²·q/2 multiply-adds) is below the sketch's 12·l·p·q flops up to p = 12·l, but the
    /// eigen-decomposition (≈ 4/3·p³, half of it matrix-vector work) overtakes it from about 4·l.
    static func gramLimit(_ count: Int) -> Int { 4 * (count + 10) }

    /// Singular values (descending) from the eigenvalues of the Gram matrix of a's shorter side,
    /// and with `vectors` the eigenvectors (row-major p × p, ascending eigenvalue order).
    static func gramEigen(_ a: FloatMatrix, vectors: Bool) -> ([Float], [Double]?)? {
        let wide = a.rows <= a.columns
        let p = wide ? a.rows : a.columns, q = wide ? a.columns : a.rows
        let rows = wide ? a.values : FloatMatrix.transposed(a.values, rows: a.rows, columns: a.columns)
        var g = [Double](repeating: 0, count: p * p)
        rows.withUnsafeBufferPointer { x in g.withUnsafeMutableBufferPointer { pdg_gram_self_f64(x.baseAddress!, p, q, $0.baseAddress!) } }
        var w = [Double](repeating: 0, count: p)
        let info = g.withUnsafeMutableBufferPointer { pg in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: vectors ? "V" : "N")), CChar(UInt8(ascii: "U")),
                               Int32(p), pg.baseAddress, Int32(p), pw.baseAddress)
            }
        }
        guard info == 0 else { return nil }
        return (w.reversed().map { Float(Swift.max($0, 0).squareRoot()) }, vectors ? g : nil)
    }

    /// The thin SVD of `a` by LAPACK's divide-and-conquer `sgesdd` (the test reference; also used
    /// on the small projected matrix). A failed factorisation returns zero singular values.
    public static func full(_ a: FloatMatrix) -> SVDResult {
        let m = a.rows, n = a.columns, p = min(m, n)
        var work = a.values
        var s = [Float](repeating: 0, count: p)
        var u = FloatMatrix(rows: m, columns: p)
        var vt = FloatMatrix(rows: p, columns: n)
        guard p > 0 else { return SVDResult(u: u, singularValues: s, vt: vt) }
        let info = work.withUnsafeMutableBufferPointer { pw in
            s.withUnsafeMutableBufferPointer { ps in
                u.values.withUnsafeMutableBufferPointer { pu in
                    vt.values.withUnsafeMutableBufferPointer { pv in
                        LAPACKE_sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), pw.baseAddress, Int32(n),
                                       ps.baseAddress, pu.baseAddress, Int32(p), pv.baseAddress, Int32(n))
                    }
                }
            }
        }
        if info != 0 { s = [Float](repeating: 0, count: p) }
        return SVDResult(u: u, singularValues: s, vt: vt)
    }

    /// Replaces the `columns` columns of the row-major `rows × columns` matrix by an orthonormal
    /// basis of their span (Householder QR: sgeqrf, then sorgqr). Requires rows >= columns.
    static func orthonormalize(_ x: inout [Float], rows: Int, columns: Int) {
        var tau = [Float](repeating: 0, count: columns)
        x.withUnsafeMutableBufferPointer { px in
            tau.withUnsafeMutableBufferPointer { pt in
                _ = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), px.baseAddress, Int32(columns), pt.baseAddress)
                _ = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), Int32(columns), px.baseAddress, Int32(columns), pt.baseAddress)
            }
        }
    }
}

/// Standard normal Float32 values from a seeded SplitMix64 stream (Box-Muller), the same on
/// every platform.
struct GaussianGenerator {
    var state: UInt64
    var spare: Float?

    init(seed: UInt64) { state = seed }

    mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(nextUInt64() >> 11) + 0.5) / 9_007_199_254_740_992.0 }

    mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = uniform(), u2 = uniform()
        let r = (-2 * log(u1)).squareRoot(), t = 2 * Double.pi * u2
        spare = Float(r * sin(t))
        return Float(r * cos(t))
    }
}
