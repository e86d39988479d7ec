import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

@Suite struct AlignmentRescaleTests {
    /// base with layer 0's FFN units permuted, intermediate rows and bias × c, output columns × 1/c.
    @Test func permutedAndRescaledCopyIsStillRelatedWithTheScaleRecovered() throws {
        let base = try Model.open(AlignmentFixtures.path("base"))
        let c: Float = 2.5
        var random = AlignmentRandom(seed: 20250101)
        let perm = random.permutation(1536)
        var tensors = [SafetensorsWriter.Tensor]()
        for t in base.tensors {
            var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
            try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try base.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!) }
            var out = v
            switch t.name {
            case "encoder.layer.0.intermediate.dense.weight":
                let w = t.rowLength
                for j in 0 ..< 1536 { for k in 0 ..< w { out[j * w + k] = c * v[perm[j] * w + k] } }
            case "encoder.layer.0.intermediate.dense.bias":
                for j in 0 ..< 1536 { out[j] = c * v[perm[j]] }
            case "encoder.layer.0.output.dense.weight":
                let w = t.rowLength   // [384, 1536]
                for r in 0 ..< t.rowCount { for j in 0 ..< w { out[r * w + j] = v[r * w + perm[j]] / c } }
            default: break
            }
            let bytes = out.withUnsafeBytes { Array($0) }
            tensors.append(SafetensorsWriter.Tensor(name: t.name, dtype: .f32, shape: t.shape, data: bytes))
        }
        let dir = try AlignmentFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        let attacked = try Model.open(dir)
        let comparison = Comparator.compare(base, attacked)
        #expect(comparison.verdict.related)
        #expect(comparison.verdict.relation == .permuted)
        let layer = try #require(comparison.alignment?.layers.first)
        #expect(layer.permutation == perm)
        #expect(abs(layer.scaleIn - Double(c)) < 1e-4)
        #expect(abs(layer.scaleOut - 1 / Double(c)) < 1e-4)
        #expect(layer.tensors.allSatisfy { $0.equal })
    }
}
