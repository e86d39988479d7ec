import Foundation
import PedigreeEngine
import PedigreeFormats

/// `PedigreeBenchmarks residual [width ...]`: the cost of the residual-stream agreement test that
/// `compare` runs on every pair the plain test calls unrelated, on two independent synthetic models
/// (token embedding and output head, 4096 rows, F32) and on a residual-permuted copy (-1: the
/// assignments were not run, the screen found nothing).
enum ResidualBenchmark {
    static func run(_ arguments: [String]) {
        var widths = arguments.compactMap { Int($0) }
        if widths.isEmpty { widths = [1024, 4096] }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-residual-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for d in widths {
            var random = SeededRandom(seed: UInt64(d))
            let vocab = 4096
            func model(_ name: String, _ values: [String: [Float]]) -> Model? {
                let dir = root + "/\(name)-\(d)"
                try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let tensors = values.keys.sorted().map { key in
                    SafetensorsWriter.Tensor(name: key, dtype: .f32, shape: [vocab, d], data: values[key]!.withUnsafeBytes { Array($0) })
                }
                guard (try? SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")) != nil else { return nil }
                return try? Model.open(dir)
            }
            func fresh() -> [String: [Float]] {
                ["model.embed_tokens.weight": (0 ..< vocab * d).map { _ in random.roughGaussian() },
                 "lm_head.weight": (0 ..< vocab * d).map { _ in random.roughGaussian() }]
            }
            let first = fresh(), second = fresh()
            let p = random.permutation(d)
            var permuted = first
            for (key, v) in first {
                var out = v
                for r in 0 ..< vocab { for j in 0 ..< d { out[r * d + j] = v[r * d + p[j]] } }
                permuted[key] = out
            }
            guard let a = model("a", first), let b = model("b", second), let c = model("c", permuted) else {
                print("residual \(d): could not write the synthetic models"); continue
            }
            for (label, other) in [("independent", b), ("residual-permuted copy", c)] {
                let pairing = TensorPairing.pair(a, other)
                let start = Date()
                let found = try? ResidualStreamAlignment.estimate(a, other, pairing: pairing)
                let seconds = Date().timeIntervalSince(start)
                let recovered = label == "independent" ? "" : (found?.permutation == p ? ", permutation recovered" : ", permutation NOT recovered")
                print(String(format: "residual %5d units, %@: %.3f s (%d sampled rows per source, best matches agree on %d units, assignments agree on %d, log10 p %.1f%@)",
                             d, label, seconds, found?.sampledRows ?? 0, found?.bestMatchAgreement ?? -1, found?.matchedUnits ?? -1, found?.log10PValue ?? 0, recovered))
            }
        }
    }
}
