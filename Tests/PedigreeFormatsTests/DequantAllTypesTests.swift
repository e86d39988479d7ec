import CPedigreeKernels
import Foundation
import Testing
@testable import PedigreeFormats

/// Every ggml type of the type table decodes, bit-exact with the golden vectors (gguf-py, cross-
/// checked against ggml's C), with fast kernels equal to their scalar twins, and real llama.cpp
/// files decode to gguf-py's values.
@Suite struct DequantAllTypesTests {
    static let vectors = "quant-vectors/"

    /// The golden-vector cases of quant-vectors/index.json (those with files).
    static let goldenCases: [String] = {
        guard let data = try? Fixtures.data(vectors + "index.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let types = json["types"] as? [String: [String: Any]] else { return [] }
        return types.keys.filter { FileManager.default.fileExists(atPath: Fixtures.path(vectors + "\($0).blocks.bin")) }.sorted()
    }()

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in (0 ..< raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
    }

    static func decode(_ type: GGMLType, _ bytes: [UInt8], elements: Int) -> [Float]? {
        var out = [Float](repeating: Float(bitPattern: 0x7FC0_BEEF), count: elements)
        let ok = bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { TensorDecoder.decode(.ggml(type), from: src, elementCount: elements, into: $0.baseAddress!) }
        }
        return ok ? out : nil
    }

    @Test func goldenCasesAreListed() {
        #expect(Self.goldenCases.count >= 25, "quant-vectors/index.json lists \(Self.goldenCases.count) cases")
    }

    @Test(arguments: goldenCases)
    func goldenVector(_ name: String) throws {
        let typeName = String(name.split(separator: ".")[0])
        let type = try #require(GGMLType.named(typeName))
        let blocks = [UInt8](try Fixtures.data(Self.vectors + "\(name).blocks.bin"))
        let expected = Self.floats(try Fixtures.data(Self.vectors + "\(name).f32"))
        #expect(blocks.count == expected.count / type.blockElements * type.bytesPerBlock)
        let got = try #require(Self.decode(type, blocks, elements: expected.count), "\(typeName) has no decoder")
        var bad = 0
        for i in expected.indices where !sameFloat(got[i], expected[i]) {
            bad += 1
            if bad <= 3 { Issue.record("\(name) element \(i): \(got[i]) != \(expected[i])") }
        }
        #expect(bad == 0)
    }

    /// Every defined row of the type table (block size > 0) has a decoder that fills exactly the
    /// whole blocks of a row and leaves a partial trailing block alone.
    @Test func everyTableTypeDecodes() {
        var rng = SplitMix(state: 7)
        for type in GGMLType.table where type.isDefined {
            #expect(TensorDecoder.canDecode(.ggml(type)), "\(type.name) has no decoder")
            guard TensorDecoder.canDecode(.ggml(type)) else { continue }
            let blocks = 3
            var bytes = (0 ..< blocks * type.bytesPerBlock).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            if type.isQuantized { bytes[0] = 0 }      // keep some scales finite; values are checked for definedness only
            let out = Self.decode(type, bytes, elements: blocks * type.blockElements)
            #expect(out?.count == blocks * type.blockElements)
            #expect(out?.allSatisfy { $0.bitPattern != 0x7FC0_BEEF } == true, "\(type.name) left values unwritten")
        }
    }

    /// The C kernels only write whole blocks: one and a half blocks give one block of output.
    @Test(arguments: ["Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ3_S", "IQ1_M", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4", "NVFP4"])
    func partialTrailingBlockIsUntouched(_ name: String) throws {
        let type = try #require(GGMLType.named(name))
        let kernel = try #require(TensorDecoder.kernels[.ggml(type)]?.kernel)
        let bytes = [UInt8](repeating: 0x11, count: 2 * type.bytesPerBlock)
        let n = type.blockElements + type.blockElements / 2
        let sentinel = Float(bitPattern: 0x7FC0_BEEF)
        var out = [Float](repeating: sentinel, count: n)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, n) } }
        #expect(out[..<type.blockElements].allSatisfy { $0.bitPattern != sentinel.bitPattern })
        #expect(out[type.blockElements...].allSatisfy { $0.bitPattern == sentinel.bitPattern })
    }

    /// The AVX2 K-quant kernels equal their scalar twins on random blocks (any scales, NaN included).
    @Test(arguments: ["Q4_K", "Q5_K", "Q6_K"])
    func simdEqualsScalar(_ name: String) throws {
        let type = try #require(GGMLType.named(name))
        let (fast, ref): (RowKernel, RowKernel) = switch name {
        case "Q4_K": (pdg_dequant_q4_k, pdg_dequant_q4_k_ref)
        case "Q5_K": (pdg_dequant_q5_k, pdg_dequant_q5_k_ref)
        default: (pdg_dequant_q6_k, pdg_dequant_q6_k_ref)
        }
        var rng = SplitMix(state: 0xC0FFEE)
        for blocks in [1, 2, 7] {
            let bytes = (0 ..< blocks * type.bytesPerBlock).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let a = run(fast, bytes, elements: blocks * type.blockElements), b = run(ref, bytes, elements: blocks * type.blockElements)
            #expect(zip(a, b).allSatisfy(sameFloat), "\(name): fast and scalar kernels differ on \(blocks) blocks")
        }
    }

    /// The same on rows longer than the kernels' prefetch distances, read from odd byte offsets
    /// (the blocks of a GGUF tensor need not be aligned), with nothing written past the row.
    @Test(arguments: ["Q4_K", "Q5_K", "Q6_K"], [0, 1, 3])
    func simdEqualsScalarOnLongUnalignedRows(_ name: String, offset: Int) throws {
        let type = try #require(GGMLType.named(name))
        let (fast, ref): (RowKernel, RowKernel) = switch name {
        case "Q4_K": (pdg_dequant_q4_k, pdg_dequant_q4_k_ref)
        case "Q5_K": (pdg_dequant_q5_k, pdg_dequant_q5_k_ref)
        default: (pdg_dequant_q6_k, pdg_dequant_q6_k_ref)
        }
        let blocks = 41, n = blocks * type.blockElements
        let bytes = [UInt8](repeating: 0xA5, count: offset) + DequantTests.blocks(type, count: blocks, seed: UInt64(type.id) * 7 + UInt64(offset))
        func decode(_ kernel: RowKernel) -> [Float] {
            var out = [Float](repeating: 7, count: n + 16)
            bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress! + offset, $0.baseAddress, n) } }
            return out
        }
        let a = decode(fast), b = decode(ref)
        #expect(zip(a, b).allSatisfy(sameFloat), "\(name) at offset \(offset): fast and scalar kernels differ")
        #expect(a[n...].allSatisfy { $0 == 7 }, "\(name) wrote past the row")
    }

    /// Types without golden vectors (Q8_1, Q8_K, Q1_0, Q2_0), against values derived by hand
    /// from ggml's block definitions.
    @Test func typesWithoutVectors() throws {
        // Q8_1: d = 0.5 (0x3800), s ignored, quants 0..31 - 16
        var q81: [UInt8] = [0x00, 0x38, 0xFF, 0x7B]
        q81 += (0 ..< 32).map { UInt8(bitPattern: Int8($0 - 16)) }
        #expect(Self.decode(.withID(9)!, q81, elements: 32) == (0 ..< 32).map { Float($0 - 16) * 0.5 })
        // Q8_K: f32 d = -0.25, quants -128..127, bsums ignored
        var q8k = withUnsafeBytes(of: Float(-0.25).bitPattern.littleEndian, Array.init)
        q8k += (0 ..< 256).map { UInt8($0) }
        q8k += [UInt8](repeating: 0xEE, count: 32)
        #expect(Self.decode(.withID(15)!, q8k, elements: 256) == (0 ..< 256).map { Float(Int8(bitPattern: UInt8($0))) * -0.25 })
        // Q1_0: d = 2 (0x4000); bit j of the bytes 0xA5 repeated: 1 -> +d, 0 -> -d
        let q10: [UInt8] = [0x00, 0x40] + [UInt8](repeating: 0xA5, count: 16)
        #expect(Self.decode(.withID(41)!, q10, elements: 128) == (0 ..< 128).map { (0xA5 >> ($0 % 8)) & 1 == 1 ? 2 : -2 })
        // Q2_0: d = 1; element j is (bits 2(j mod 4) of byte j/4) - 1; 0xE4 = codes 0,1,2,3
        let q20: [UInt8] = [0x00, 0x3C] + [UInt8](repeating: 0xE4, count: 16)
        #expect(Self.decode(.withID(42)!, q20, elements: 64) == (0 ..< 64).map { Float($0 % 4 - 1) })
    }

    /// Scale conversions of the FP4 types at their edges (formats.md 3.6).
    @Test func fp4Scales() {
        #expect(pdg_e8m0_half_to_f32(0) == Float(sign: .plus, exponent: -128, significand: 1))
        #expect(pdg_e8m0_half_to_f32(1) == Float(sign: .plus, exponent: -127, significand: 1))
        #expect(pdg_e8m0_half_to_f32(128) == 1)
        #expect(pdg_ue4m3_half_to_f32(0) == 0 && pdg_ue4m3_half_to_f32(0x7F) == 0)
        #expect(pdg_ue4m3_half_to_f32(0x38) == 0.5)          // exp 7, man 0: 1.0, halved
        #expect(pdg_ue4m3_half_to_f32(0x01) == 0.5 * 0x1p-9)  // subnormal
        #expect(pdg_ue4m3_half_to_f32(0xB8) == 0.5)          // bit 7 ignored
    }

    /// Slices and sums of real llama.cpp tensors, as gguf-py 0.19.0 dequantizes them.
    struct RealSlice: Sendable, CustomStringConvertible {
        let tensor: String, type: String, elements: Int
        let head: [Float], middle: [Float], sum: Double, sumSquares: Double
        var description: String { tensor }
    }

    static let llamaQ4KM: [RealSlice] = [
        RealSlice(tensor: "output.weight", type: "Q6_K", elements: 131072,
                  head: [-0.05583608150482178, 0.006204009056091309, -0.05583608150482178, -0.0744481086730957],
                  middle: [-0.054161787033081055, -0.04945206642150879, -0.01648402214050293, 0.0],
                  sum: -65.92248147726059, sumSquares: 301.35105690538745),
        RealSlice(tensor: "token_embd.weight", type: "Q4_K", elements: 131072,
                  head: [0.009182929992675781, 0.018973350524902344, 0.02550029754638672, -0.023451805114746094],
                  middle: [0.004085898399353027, -0.025029420852661133, 0.02072322368621826, -0.008392095565795898],
                  sum: 49.13870483636856, sumSquares: 77.2476251623814),
        RealSlice(tensor: "blk.0.ffn_down.weight", type: "Q4_K", elements: 131072,
                  head: [-0.026584625244140625, -0.020447731018066406, -0.00203704833984375, -0.00203704833984375],
                  middle: [0.03427934646606445, -0.02952718734741211, -0.013575553894042969, -0.03750300407409668],
                  sum: -21.201944947242737, sumSquares: 98.28584531986378),
        RealSlice(tensor: "blk.1.attn_v.weight", type: "Q6_K", elements: 16384,
                  head: [-0.06535530090332031, -0.010211765766143799, -0.014296472072601318, 0.0040847063064575195],
                  middle: [-0.03603219985961914, -0.030884742736816406, -0.009008049964904785, 0.0],
                  sum: -3.1830307245254517, sumSquares: 8.432016584129741),
    ]

    static func decodeTensor(_ model: Model, _ name: String) throws -> [Float] {
        let t = try #require(model.tensor(named: name))
        var out = [Float](repeating: 0, count: t.elementCount)
        try out.withUnsafeMutableBufferPointer { try model.decodeRows(of: t, 0 ..< t.rowCount, into: $0.baseAddress!) }
        return out
    }

    @Test(arguments: llamaQ4KM)
    func llamaCppTensorMatchesGGUFPy(_ s: RealSlice) throws {
        let model = try Model.open(Fixtures.path("llama/gguf/base-Q4_K_M.gguf"))
        #expect(model.tensor(named: s.tensor)?.type.name == s.type)
        let v = try Self.decodeTensor(model, s.tensor)
        #expect(v.count == s.elements)
        let mid = v.count / 2 + 3
        #expect(zip(v[0 ..< 4], s.head).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(zip(v[mid ..< mid + 4], s.middle).allSatisfy { $0.bitPattern == $1.bitPattern })
        let sum = v.reduce(0.0) { $0 + Double($1) }, squares = v.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(sum - s.sum) <= 1e-9 * max(1, abs(s.sum)))
        #expect(abs(squares - s.sumSquares) <= 1e-9 * s.sumSquares)
    }

    /// The Gemma 3 excerpt (Q8_0, Q5_0, Q4_K, Q6_K, F32): the manifest's gguf-py facts per tensor.
    @Test func gemmaExcerptMatchesManifest() throws {
        let manifest = try JSONSerialization.jsonObject(with: Fixtures.data("MANIFEST.json")) as? [String: Any]
        let fixtures = try #require(manifest?["fixtures"] as? [String: Any])
        let entry = try #require(fixtures["real_gguf/gemma-3-270m-Q4_K_M-excerpt"] as? [String: Any])
        let facts = try #require((entry["facts"] as? [String: Any])?["tensors"] as? [String: [String: Any]])
        let model = try Model.open(Fixtures.path("real_gguf/gemma-3-270m-Q4_K_M-excerpt.gguf"))
        var types = Set<String>()
        for (name, fact) in facts {
            let v = try Self.decodeTensor(model, name)
            types.insert(fact["ggml_type"] as? String ?? "?")
            #expect(model.tensor(named: name)?.type.name == fact["ggml_type"] as? String)
            let first8 = try #require(fact["dequant_first8"] as? [Double])
            #expect(zip(v.prefix(8), first8).allSatisfy { $0 == Float($1) }, "\(name) first values")   // the JSON holds float32 values
            let sum = v.reduce(0.0) { $0 + Double($1) }, squares = v.reduce(0.0) { $0 + Double($1) * Double($1) }
            let wantSum = try #require(fact["dequant_sum"] as? Double), wantSquares = try #require(fact["dequant_sum_sq"] as? Double)
            #expect(abs(sum - wantSum) <= 1e-6 * max(1, abs(wantSum)), "\(name) sum \(sum) != \(wantSum)")
            #expect(abs(squares - wantSquares) <= 1e-6 * wantSquares, "\(name) sum of squares")
        }
        #expect(types.isSuperset(of: ["Q8_0", "Q5_0", "Q4_K", "Q6_K"]))
    }
}
