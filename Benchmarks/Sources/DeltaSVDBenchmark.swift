import CPedigreeKernels
import Foundation
import Pedigree

/// `PedigreeBenchmarks delta-svd [N] [RANK]`: the randomized SVD of an N × N delta (default 4096,
/// a planted rank-16 update plus noise) at the sketch rank the delta analysis uses (64, two power
/// iterations), median of 5 runs; prints OpenBLAS's kernel choice (`OPENBLAS_CORETYPE`).
enum DeltaSVDBenchmark {
    static func run(_ arguments: [String]) {
        let n = arguments.first.flatMap(Int.init) ?? 4096
        let rank = arguments.dropFirst().first.flatMap(Int.init) ?? DeltaAnalysis.sketchRank
        var state: UInt64 = 42
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        // ΔW = U·Vᵀ of rank 16 (entries ~ 1/sqrt(n)) plus 1e-4 noise.
        let r = 16
        let u = (0 ..< n * r).map { _ in uniform() }, v = (0 ..< r * n).map { _ in uniform() }
        var values = (0 ..< n * n).map { _ in uniform() * 2e-4 }
        values.withUnsafeMutableBufferPointer { d in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(r), 1 / Float(n).squareRoot(),
                        u, Int32(r), v, Int32(n), 1, d.baseAddress, Int32(n))
        }
        let delta = FloatMatrix(rows: n, columns: n, values: values)
        _ = RandomizedSVD.decompose(delta, rank: rank)   // warm-up (thread pool, page faults)
        var times = [Double]()
        var result: SVDResult?
        for _ in 0 ..< 5 {
            let start = DispatchTime.now().uptimeNanoseconds
            result = RandomizedSVD.decompose(delta, rank: rank)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        let core = String(cString: openblas_get_corename())
        let s = result!.singularValues
        print(String(format: "delta-svd %dx%d rank %d (+10 oversampling, 2 power iterations): median %.3f s, min %.3f s, max %.3f s; OpenBLAS core %@ (OPENBLAS_CORETYPE=%@); s16/s17 = %.1f",
                     n, n, rank, times[2], times[0], times[4], core, ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset",
                     Double(s[15] / s[16])))
    }
}
