import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The streamed measures against a Double oracle, with blocks that split the rows at and around
/// every boundary; rounding and re-quantization checks on files written for the test.
@Suite struct PairMeasurerTests {
    /// The fast path sums up to 4096 values per float lane before folding into doubles.
    static let laneSumTolerance = 1e-6

    static func floats(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0 ..< count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 20001 - 10000) / 100_000
        }
    }

    static func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    static func halfBytes(_ values: [Float]) -> [UInt8] { values.map { Float16($0) }.withUnsafeBytes { Array($0) } }

    static func write(_ tensors: [SafetensorsWriter.Tensor]) throws -> Model {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-measure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("model.safetensors").path
        try SafetensorsWriter.write(tensors, to: path)
        return try Model.open(path)
    }

    @Test(arguments: [1, 6, 7, 8, 64, 1 << 18])
    func sumsMatchOracleAtEveryBlockSize(_ blockElements: Int) throws {
        let rows = 21, columns = 7
        let a = Self.floats(rows * columns, seed: 1), b = Self.floats(rows * columns, seed: 2)
        let modelA = try Self.write([.init(name: "m.weight", dtype: .f32, shape: [rows, columns], data: Self.bytes(a))])
        let modelB = try Self.write([.init(name: "m.weight", dtype: .f32, shape: [rows, columns], data: Self.bytes(b))])
        let pair = try #require(TensorPairing.pair(modelA, modelB).pairs.first)
        var options = PairMeasurer.Options()
        options.blockElements = blockElements
        let m = try PairMeasurer.measure(pair, a: modelA, b: modelB, options: options)
        var dot = 0.0, na = 0.0, nb = 0.0, diff = 0.0, maxDiff = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y)
            diff += (Double(x) - Double(y)) * (Double(x) - Double(y)); maxDiff = max(maxDiff, abs(Double(x) - Double(y)))
        }
        #expect(m.sums.count == Int64(rows * columns))
        #expect(abs(m.cosine! - dot / (na * nb).squareRoot()) < Self.laneSumTolerance)
        #expect(abs(m.relativeL2! / (diff / na).squareRoot() - 1) < Self.laneSumTolerance)
        #expect(m.sums.maxAbsDiff == maxDiff)
        #expect(!m.bitIdentical)
    }

    /// The permutation-test sample holds the decoded values at the sampled units and positions,
    /// unit-major, whether the pair is folded from its bytes (F16 on both sides) or decoded first.
    @Test(arguments: [DType.f16, .f32])
    func sampleHoldsTheValuesAtTheSampledCells(_ dtype: DType) throws {
        let rows = 300, columns = 64
        let a = Self.floats(rows * columns, seed: 5), b = Self.floats(rows * columns, seed: 6)
        let encode = dtype == .f16 ? Self.halfBytes : Self.bytes
        let decode: (Float) -> Float = dtype == .f16 ? { Float(Float16($0)) } : { $0 }
        let modelA = try Self.write([.init(name: "m.weight", dtype: dtype, shape: [rows, columns], data: encode(a))])
        let modelB = try Self.write([.init(name: "m.weight", dtype: dtype, shape: [rows, columns], data: encode(b))])
        let pair = try #require(TensorPairing.pair(modelA, modelB).pairs.first)
        var options = PairMeasurer.Options()
        options.maxUnits = 16
        options.sampleBudget = 16 * 16 * 40   // 40 of the 300 rows
        options.blockElements = 7 * columns   // blocks that split the sampled rows unevenly
        let m = try PairMeasurer.measure(pair, a: modelA, b: modelB, options: options)
        let sample = try #require(m.sample)
        #expect(sample.units == 16 && sample.positions == 40)
        for u in 0 ..< 16 {
            for p in 0 ..< 40 {
                let index = (p * rows / 40) * columns + u * columns / 16
                #expect(sample.a[u * 40 + p] == decode(a[index]))
                #expect(sample.b[u * 40 + p] == decode(b[index]))
            }
        }
        // The sums are those of the decoded values.
        let dot = zip(a, b).reduce(0.0) { $0 + Double(decode($1.0)) * Double(decode($1.1)) }
        let scale = zip(a, b).reduce(0.0) { $0 + abs(Double(decode($1.0)) * Double(decode($1.1))) }
        #expect(abs(m.sums.dot - dot) <= 1e-6 * scale)
    }

    @Test func halfCastIsAConversionWithTheWiderSideRounded() throws {
        let values = Self.floats(64 * 16, seed: 3)
        let wide = try Self.write([.init(name: "w.weight", dtype: .f32, shape: [64, 16], data: Self.bytes(values))])
        let narrow = try Self.write([.init(name: "w.weight", dtype: .f16, shape: [64, 16], data: Self.halfBytes(values))])
        let pair = try #require(TensorPairing.pair(wide, narrow).pairs.first)
        let m = try PairMeasurer.measure(pair, a: wide, b: narrow)
        let rounding = try #require(m.rounding)
        #expect(rounding.widerSide == "a")
        #expect(rounding.mismatches == 0)
        #expect(rounding.inexact > 0)
        // A value moved by one half-precision step is a mismatch.
        var moved = values.map { Float16($0) }
        moved[5] = moved[5].nextUp
        let changed = try Self.write([.init(name: "w.weight", dtype: .f16, shape: [64, 16], data: moved.withUnsafeBytes { Array($0) })])
        let m2 = try PairMeasurer.measure(try #require(TensorPairing.pair(wide, changed).pairs.first), a: wide, b: changed)
        #expect(m2.rounding?.mismatches == 1)
    }

    @Test func compareJudgesAConversionAndAnUnrelatedPair() throws {
        let a = Self.floats(128 * 64, seed: 4), other = Self.floats(128 * 64, seed: 5)
        let base = try Self.write([.init(name: "model.embed_tokens.weight", dtype: .f32, shape: [128, 64], data: Self.bytes(a)),
                                   .init(name: "model.layers.0.mlp.up_proj.weight", dtype: .f32, shape: [128, 64], data: Self.bytes(other))])
        let cast = try Self.write([.init(name: "model.embed_tokens.weight", dtype: .f16, shape: [128, 64], data: Self.halfBytes(a)),
                                   .init(name: "model.layers.0.mlp.up_proj.weight", dtype: .f16, shape: [128, 64], data: Self.halfBytes(other))])
        let conversion = Comparator.compare(base, cast)
        #expect(conversion.verdict.relation == .conversion)
        #expect(conversion.verdict.parent == "a")
        let fresh = try Self.write([.init(name: "model.embed_tokens.weight", dtype: .f32, shape: [128, 64], data: Self.bytes(Self.floats(128 * 64, seed: 6))),
                                    .init(name: "model.layers.0.mlp.up_proj.weight", dtype: .f32, shape: [128, 64], data: Self.bytes(Self.floats(128 * 64, seed: 7)))])
        let unrelated = Comparator.compare(base, fresh)
        #expect(unrelated.verdict.relation == .unrelated)
        #expect(unrelated.verdict.pValue > 0.01)
    }
}

