import CPedigreeKernels
import Foundation
import Testing
@testable import PedigreeFormats

/// A C row kernel, as imported.
typealias RowKernel = (UnsafeRawPointer?, UnsafeMutablePointer<Float>?, Int) -> Void
typealias ConvKernel = (UnsafePointer<Float>?, UnsafeMutablePointer<UInt16>?, Int) -> Void

/// True when two floats are the same bits, or both NaN (payloads are not significant).
func sameFloat(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

func run(_ kernel: RowKernel, _ bytes: [UInt8], elements: Int) -> [Float] {
    var out = [Float](repeating: .init(bitPattern: 0xDEADBEEF), count: elements)
    bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, elements) } }
    return out
}

func run(_ kernel: ConvKernel, _ values: [Float]) -> [UInt16] {
    var out = [UInt16](repeating: 0xBEEF, count: values.count)
    values.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, values.count) } }
    return out
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

@Suite struct DequantTests {
    struct Golden: Sendable, CustomStringConvertible {
        let file: String
        let type: GGMLType
        var description: String { file }
    }

    static let golden: [Golden] = [
        Golden(file: "F16", type: .f16), Golden(file: "F16.special", type: .f16),
        Golden(file: "BF16", type: .bf16), Golden(file: "BF16.special", type: .bf16),
        Golden(file: "Q8_0", type: .q8_0), Golden(file: "Q8_0.special", type: .q8_0),
        Golden(file: "Q4_0", type: .q4_0),
    ]

    /// Each fast kernel with its scalar twin.
    static func kernels(_ name: String) -> (fast: RowKernel, ref: RowKernel)? {
        switch name {
        case "F16": (pdg_dequant_f16, pdg_dequant_f16_ref)
        case "BF16": (pdg_dequant_bf16, pdg_dequant_bf16_ref)
        case "Q8_0": (pdg_dequant_q8_0, pdg_dequant_q8_0_ref)
        case "Q4_0": (pdg_dequant_q4_0, pdg_dequant_q4_0_ref)
        default: nil
        }
    }

    @Test(arguments: golden)
    func goldenVectors(_ g: Golden) throws {
        let blocks = [UInt8](try Fixtures.data("quant-vectors/\(g.file).blocks.bin"))
        let expectedBytes = try Fixtures.data("quant-vectors/\(g.file).f32")
        let expected = expectedBytes.withUnsafeBytes { raw in (0 ..< raw.count / 4).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
        #expect(blocks.count == expected.count / g.type.blockElements * g.type.bytesPerBlock)
        let pair = try #require(Self.kernels(g.type.name))
        for (label, kernel) in [("fast", pair.fast), ("ref", pair.ref)] {
            let got = run(kernel, blocks, elements: expected.count)
            for i in expected.indices where !sameFloat(got[i], expected[i]) {
                Issue.record("\(g.file) \(label) element \(i): \(got[i]) (0x\(String(got[i].bitPattern, radix: 16))) != \(expected[i])")
            }
        }
        // And through the public decoder.
        var out = [Float](repeating: 0, count: expected.count)
        let ok = blocks.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { TensorDecoder.decode(.ggml(g.type), from: src, elementCount: expected.count, into: $0.baseAddress!) }
        }
        #expect(ok)
        #expect(zip(out, expected).allSatisfy(sameFloat))
    }

    /// Blocks meant to hit every lane and edge: random bytes, then zero, NaN, Inf and subnormal
    /// scales with all-0, all-15 (0xFF) and alternating quants.
    static func blocks(_ type: GGMLType, count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(state: seed)
        var out = [UInt8]()
        let scales: [UInt16] = [0x0000, 0x8000, 0x7E00, 0x7C01, 0x7C00, 0xFC00, 0x0001, 0x3C00, 0x7BFF]
        let fills: [UInt8] = [0x00, 0xFF, 0x88, 0x0F, 0xF0, 0x80, 0x7F]
        for b in 0 ..< count {
            var block = (0 ..< type.bytesPerBlock).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            if b % 3 == 1 {
                let s = scales[(b / 3) % scales.count]
                block[0] = UInt8(s & 0xFF); block[1] = UInt8(s >> 8)
            }
            if b % 5 == 2 {
                for i in 2 ..< block.count { block[i] = fills[(b / 5) % fills.count] }
            }
            out += block
        }
        return out
    }

    @Test(arguments: ["Q8_0", "Q4_0"], [1, 3, 17, 33, 1023])
    func blockKernelsMatchTheirTwins(_ name: String, blockCount: Int) throws {
        let type = try #require(GGMLType.named(name))
        let pair = try #require(Self.kernels(name))
        let bytes = Self.blocks(type, count: blockCount, seed: UInt64(blockCount) * 31 + UInt64(type.id))
        let n = blockCount * type.blockElements
        let fast = run(pair.fast, bytes, elements: n)
        let ref = run(pair.ref, bytes, elements: n)
        #expect(fast.map(\.bitPattern) == ref.map(\.bitPattern))
    }

    @Test(arguments: ["F16", "BF16"], [1, 3, 17, 33, 1023])
    func plainKernelsMatchTheirTwins(_ name: String, count: Int) throws {
        let pair = try #require(Self.kernels(name))
        var rng = SplitMix(state: UInt64(count))
        var bytes = (0 ..< 2 * count).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        let specials: [UInt16] = [0x7C01, 0xFC00, 0x7E00, 0x0001, 0x8000, 0x7F81, 0xFF80, 0x7FC0]
        for (i, s) in specials.enumerated() where 2 * i + 1 < bytes.count {
            bytes[2 * i] = UInt8(s & 0xFF); bytes[2 * i + 1] = UInt8(s >> 8)
        }
        let fast = run(pair.fast, bytes, elements: count)
        let ref = run(pair.ref, bytes, elements: count)
        #expect(fast.map(\.bitPattern) == ref.map(\.bitPattern))
        // The output must not run past n (the tail is handled by the scalar path).
        var guarded = [Float](repeating: 7, count: count + 9)
        bytes.withUnsafeBytes { src in guarded.withUnsafeMutableBufferPointer { pair.fast(src.baseAddress, $0.baseAddress, count) } }
        #expect(guarded[count...].allSatisfy { $0 == 7 })
    }

    @Test func everyHalfConvertsExactly() {
        for h in 0 ... UInt16.max {
            let mine = pdg_fp16_to_f32(h)
            let swift = Float(Float16(bitPattern: h))
            #expect(sameFloat(mine, swift), "0x\(String(h, radix: 16))")
            if h & 0x7FFF <= 0x7C00 { #expect(mine.bitPattern == swift.bitPattern) }
            #expect(pdg_bf16_to_f32(h).bitPattern == UInt32(h) << 16)
        }
        // Every half survives the round trip (NaNs stay NaN).
        for h in 0 ... UInt16.max {
            let back = pdg_f32_to_fp16(pdg_fp16_to_f32(h))
            if h & 0x7FFF > 0x7C00 { #expect(back & 0x7FFF > 0x7C00) } else { #expect(back == h) }
        }
    }

    /// Floats near every interesting place: halfway points (ties), both sides of them, subnormal
    /// ranges of f16 and f32, overflow thresholds, plus random bit patterns.
    static func sample() -> [Float] {
        var values: [Float] = [0, -0, .infinity, -.infinity, .nan, -.nan, .signalingNaN, 65504, 65519.996, 65520, 65536,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                               Float(bitPattern: 0x33000000), Float(bitPattern: 0x33000001), Float(bitPattern: 0x32FFFFFF),
                               Float(bitPattern: 0x387FC000), Float(bitPattern: 0x387FE000), Float(bitPattern: 0x38800000)]
        for h in stride(from: 0, through: 0x7BFF, by: 7) {
            let a = Float(Float16(bitPattern: UInt16(h))), b = Float(Float16(bitPattern: UInt16(h + 1)))
            let mid = Float(bitPattern: (a.bitPattern + b.bitPattern) / 2)   // not exact for subnormal a: fine, still near
            let tie = (Double(a) + Double(b)) / 2
            for v in [mid, Float(tie), Float(tie).nextUp, Float(tie).nextDown, a, b] { values += [v, -v] }
        }
        var rng = SplitMix(state: 42)
        for _ in 0 ..< 200_000 { values.append(Float(bitPattern: UInt32.random(in: 0 ... .max, using: &rng))) }
        for _ in 0 ..< 200_000 {
            let bits = UInt32.random(in: 0x2E000000 ... 0x48000000, using: &rng)   // around the f16 range
            values.append(Float(bitPattern: bits | (UInt32.random(in: 0 ... 1, using: &rng) << 31)))
        }
        for i in 0 ..< 4096 { values.append(Float(bitPattern: UInt32(i) << 13 | 0x38000000 | 0x1000)) }   // exact f16 ties
        return values
    }

    @Test func floatToHalfRoundsToNearestEven() {
        let values = Self.sample()
        let fast = run(pdg_f32_to_f16_row, values)
        let ref = run(pdg_f32_to_f16_row_ref, values)
        #expect(fast == ref)
        for (v, h) in zip(values, ref) {
            if v.isNaN {
                #expect(h & 0x7C00 == 0x7C00 && h & 0x3FF != 0)
            } else {
                let oracle = Float16(v).bitPattern               // Swift's own RNE conversion
                if h != oracle { Issue.record("f16(\(v) 0x\(String(v.bitPattern, radix: 16))) = 0x\(String(h, radix: 16)), expected 0x\(String(oracle, radix: 16))"); break }
            }
        }
    }

    /// An independent bf16 rounding: pick the nearer of the two bf16 neighbours in Double, ties to even.
    static func bf16Oracle(_ v: Float) -> UInt16 {
        let down = UInt16(v.bitPattern >> 16)
        if v.bitPattern & 0xFFFF == 0 { return down }
        let up = down &+ 1
        let lo = Double(Float(bitPattern: UInt32(down) << 16)), hi = Double(Float(bitPattern: UInt32(up) << 16))
        if hi.isInfinite {
            // Rounding away from the largest finite bf16 magnitude: the boundary is halfway to 2^128.
            let boundary = (lo.magnitude + 0x1p128) / 2
            if Double(v).magnitude > boundary || (Double(v).magnitude == boundary && down & 1 == 1) { return up }
            return down
        }
        let dLo = abs(Double(v) - lo), dHi = abs(Double(v) - hi)
        if dLo < dHi { return down }
        if dHi < dLo { return up }
        return down & 1 == 0 ? down : up
    }

    @Test func floatToBFloatRoundsToNearestEven() {
        let values = Self.sample()
        let fast = run(pdg_f32_to_bf16_row, values)
        let ref = run(pdg_f32_to_bf16_row_ref, values)
        #expect(fast == ref)
        for (v, b) in zip(values, ref) {
            if v.isNaN {
                #expect(b & 0x7F80 == 0x7F80 && b & 0x7F != 0)
            } else if b != Self.bf16Oracle(v) {
                Issue.record("bf16(0x\(String(v.bitPattern, radix: 16))) = 0x\(String(b, radix: 16)), expected 0x\(String(Self.bf16Oracle(v), radix: 16))")
                break
            }
        }
    }

    @Test(arguments: ["Q8_0", "Q4_0"])
    func referenceQuantizersMatchGGML(_ name: String) throws {
        let input = try Fixtures.data("quant-vectors/quantizers/\(name).in.f32")
        let expected = [UInt8](try Fixtures.data("quant-vectors/quantizers/\(name).out.bin"))
        let values = input.withUnsafeBytes { raw in (0 ..< raw.count / 4).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
        let type = try #require(GGMLType.named(name))
        #expect(values.count == 16 * 256)
        var out = [UInt8](repeating: 0xAA, count: try #require(type.byteCount(elements: values.count)))
        let quantize = name == "Q8_0" ? pdg_quantize_q8_0_ref : pdg_quantize_q4_0_ref
        values.withUnsafeBufferPointer { src in out.withUnsafeMutableBytes { quantize(src.baseAddress, $0.baseAddress, values.count) } }
        #expect(out.count == expected.count)
        for b in 0 ..< out.count / type.bytesPerBlock {
            let range = b * type.bytesPerBlock ..< (b + 1) * type.bytesPerBlock
            if out[range] != expected[range] { Issue.record("\(name) block \(b) (row \(b * type.blockElements / 256)) differs"); break }
        }
    }

    @Test func quantizeDequantizeRoundTrip() {
        var rng = SplitMix(state: 7)
        let values = (0 ..< 1024).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        // Bounds for |x| <= 1: Q8_0 is off by at most half a step d/2 plus the fp16 rounding of d
        // (127 steps of d * 2^-11); Q4_0 by at most one step d = amax/8 (the clamp at 15).
        for (type, quantize, tolerance) in [(GGMLType.q8_0, pdg_quantize_q8_0_ref, Float(0.6) / 127), (.q4_0, pdg_quantize_q4_0_ref, Float(1.01) / 8)] {
            var blocks = [UInt8](repeating: 0, count: type.byteCount(elements: values.count)!)
            values.withUnsafeBufferPointer { src in blocks.withUnsafeMutableBytes { quantize(src.baseAddress, $0.baseAddress, values.count) } }
            var back = [Float](repeating: 0, count: values.count)
            let ok = blocks.withUnsafeBytes { src in back.withUnsafeMutableBufferPointer { TensorDecoder.decode(.ggml(type), from: src, elementCount: values.count, into: $0.baseAddress!) } }
            #expect(ok)
            #expect(zip(values, back).allSatisfy { abs($0 - $1) <= tolerance }, "\(type.name)")
        }
    }

    @Test func decoderTable() {
        for d in [DType.f32, .f16, .bf16, .f64] { #expect(TensorDecoder.canDecode(.dtype(d))) }
        for name in ["F32", "F16", "BF16", "F64", "Q8_0", "Q4_0"] { #expect(TensorDecoder.canDecode(.ggml(GGMLType.named(name)!))) }
        #expect(!TensorDecoder.canDecode(.ggml(GGMLType.withID(4)!)))   // Q4_2, a removed id
        #expect(!TensorDecoder.canDecode(.unknownGGML(id: 200)))
        #expect(!TensorDecoder.canDecode(.dtype(.i32)))
        // F64 and F32 copies.
        let doubles: [Double] = [1.5, -0.1, 1e300, .nan, 3.0000001192092896]
        let bytes = doubles.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        var out = [Float](repeating: 0, count: doubles.count)
        _ = bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { TensorDecoder.decode(.dtype(.f64), from: src, elementCount: doubles.count, into: $0.baseAddress!) } }
        #expect(zip(out, doubles.map { Float($0) }).allSatisfy(sameFloat))
        let f32: [Float] = [1, -2, .infinity, 0x1p-149]
        let f32Bytes = f32.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        _ = f32Bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { TensorDecoder.decode(.ggml(.f32), from: src, elementCount: 4, into: $0.baseAddress!) } }
        #expect(Array(out.prefix(4)) == f32)
        #expect(TensorDecoder.decode(.ggml(.f32), from: UnsafeRawBufferPointer(start: nil, count: 0), elementCount: 0, into: &out))
    }

    @Test func simdPathIsUsedWhenAvailable() throws {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(info.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        let expected = flags.contains("avx2") && flags.contains("f16c") && flags.contains("fma")
        #expect((pdg_dequant_uses_simd() == 1) == expected)
    }
}
