import Foundation
import Testing
@testable import PedigreeFormats

/// Quantized safetensors layouts (formats.md section 6) on the library-made fixtures: the scheme
/// and parameters recognised, and the dequantized values against the libraries' own.
@Suite struct QuantizedLayoutTests {
    static let folders = ["gptq-4bit-g64", "awq-4bit-g64", "bnb-nf4", "bnb-nf4-nodq", "bnb-fp4", "bnb-int8",
                          "fp8-per-tensor", "fp8-block", "compressed-tensors-pack-quantized"]

    static func facts(_ folder: String) throws -> [String: Any] {
        let data = try Fixtures.data("MANIFEST.json")
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let fixtures = manifest["fixtures"] as! [String: Any]
        return (fixtures["quantized-safetensors/" + folder] as! [String: Any])["facts"] as! [String: Any]
    }

    /// scheme, bits, group size (nil: per tensor or per row), symmetric, codes, per folder.
    static let expected: [String: (scheme: PackedLayout.Scheme, bits: Int, group: Int?, symmetric: Bool, codes: String)] = [
        "gptq-4bit-g64": (.gptq, 4, 64, true, "int"),
        "awq-4bit-g64": (.awq, 4, 64, false, "int"),
        "bnb-nf4": (.bitsandbytes4bit, 4, 64, true, "nf4"),
        "bnb-nf4-nodq": (.bitsandbytes4bit, 4, 64, true, "nf4"),
        "bnb-fp4": (.bitsandbytes4bit, 4, 64, true, "fp4"),
        "bnb-int8": (.bitsandbytesInt8, 8, nil, true, "int"),
        "fp8-per-tensor": (.scaled, 8, nil, true, "e4m3"),
        "fp8-block": (.fp8Block, 8, 128, true, "e4m3"),
        "compressed-tensors-pack-quantized": (.packQuantized, 4, 64, false, "int"),
    ]

    @Test(arguments: folders)
    func recognisesScheme(_ folder: String) throws {
        let model = try Model.open(Fixtures.path("quantized-safetensors/" + folder))
        let facts = try Self.facts(folder)
        let want = Self.expected[folder]!
        #expect(model.quantizedLayouts.count == 1)
        let summary = try #require(model.quantizedLayouts.first)
        #expect(summary.scheme == want.scheme.rawValue)
        #expect(summary.bits == want.bits && summary.bits == facts["bits"] as? Int)
        #expect(summary.groupSize == want.group)
        #expect(summary.symmetric == want.symmetric && summary.symmetric == facts["symmetric"] as? Bool)
        #expect(summary.codes == want.codes)
        #expect(summary.quantMethod == facts["quant_method"] as? String)
        #expect(summary.tensors == facts["quantized_weights"] as? Int)
        if let group = facts["group_size"] as? Int { #expect(summary.groupSize == group) }
        if let block = facts["blocksize"] as? Int { #expect(summary.groupSize == block) }
        if let block = facts["block_size"] as? [Int] { #expect(summary.blockShape == block) }
        // The stored tensors are all there; the logical ones replace them in `tensors`.
        #expect(model.storedTensors.count == facts["tensor_count"] as? Int)
        #expect(model.tensors.count == 20)   // as many as the float parent
        let packed = model.tensors.filter { if case .packed = $0.type { return true }; return false }
        #expect(packed.count == summary.tensors)
        #expect(packed.allSatisfy { $0.name.hasSuffix(".weight") && $0.shape.count == 2 })
        #expect(!model.findings.contains { $0.code == "quantized-layout-invalid" })
    }

    @Test(arguments: folders)
    func dequantizesLikeTheLibrary(_ folder: String) throws {
        let model = try Model.open(Fixtures.path("quantized-safetensors/" + folder))
        let reference = try Model.open(Fixtures.path("quantized-safetensors/" + folder + "/dequantized.safetensors"))
        #expect(!reference.tensors.isEmpty)
        for expected in reference.tensors {
            let logical = try #require(model.tensor(named: expected.name))
            #expect(logical.shape == expected.shape)
            let n = expected.elementCount
            var mine = [Float](repeating: .nan, count: n), theirs = [Float](repeating: 0, count: n)
            try mine.withUnsafeMutableBufferPointer { buffer throws(ReadError) in
                try model.decodeRows(of: logical, 0 ..< logical.rowCount, into: buffer.baseAddress!)
            }
            try theirs.withUnsafeMutableBufferPointer { buffer throws(ReadError) in
                try reference.decodeRows(of: expected, 0 ..< expected.rowCount, into: buffer.baseAddress!)
            }
            // Bit for bit (signs of zero included): every scheme's arithmetic is reproduced.
            let differing = zip(mine, theirs).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(folder) \(expected.name): \(differing) of \(n) values differ")
        }
    }

    @Test func componentsStayReachable() throws {
        let model = try Model.open(Fixtures.path("quantized-safetensors/gptq-4bit-g64"))
        #expect(model.tensor(named: "model.layers.0.self_attn.k_proj.qweight") == nil)
        let qweight = try #require(model.storedTensor(named: "model.layers.0.self_attn.k_proj.qweight"))
        #expect(qweight.shape == [16, 32])
        let logical = try #require(model.tensor(named: "model.layers.0.self_attn.k_proj.weight"))
        #expect(logical.shape == [32, 128] && logical.type.name == "GPTQ-INT4")
        guard case .packed(let layout) = logical.type else { Issue.record("not packed"); return }
        #expect(Set(layout.components.keys) == ["qweight", "qzeros", "scales", "g_idx"])
        #expect(layout.zeroOffset == 1)   // v1 checkpoint: stored zeros are z - 1
    }

    @Test func floatFolderHasNoLayout() throws {
        let model = try Model.open(Fixtures.path("quantized-safetensors/float"))
        #expect(model.quantizedLayouts.isEmpty)
        #expect(model.tensors == model.storedTensors)
    }

    @Test func fp8Tables() {
        // Independently: E4M3 (bias 7) 0x38 = 1.0, 0x7E = 448 (largest), 0x01 = 2^-9, 0x08 = 2^-6, 0x7F NaN.
        #expect(FP8.e4m3Table[0x38] == 1 && FP8.e4m3Table[0x7E] == 448 && FP8.e4m3Table[0xFE] == -448)
        #expect(FP8.e4m3Table[0x01] == 0x1p-9 && FP8.e4m3Table[0x08] == 0x1p-6 && FP8.e4m3Table[0x7F].isNaN)
        // E5M2 (bias 15): 0x3C = 1.0, 0x7B = 57344, 0x7C = +inf, 0x01 = 2^-16.
        #expect(FP8.e5m2Table[0x3C] == 1 && FP8.e5m2Table[0x7B] == 57344 && FP8.e5m2Table[0x7C] == .infinity && FP8.e5m2Table[0x01] == 0x1p-16)
        // Rounding to the nearest code inverts the table, ties go to the even code, and it saturates.
        for code in 0 ..< 256 where code & 0x7F != 0x7F {
            #expect(FP8.e4m3(nearest: FP8.e4m3Table[code]) == UInt8(code) || FP8.e4m3Table[code] == 0)
        }
        #expect(FP8.e4m3(nearest: 1.0625) == 0x38)   // halfway between 1 and 1.125: even code 0x38
        #expect(FP8.e4m3(nearest: 1.1875) == 0x3A)   // halfway between 1.125 and 1.25: even code 0x3A
        #expect(FP8.e4m3(nearest: 1000) == 0x7E && FP8.e4m3(nearest: -1000) == 0xFE)
        #expect(TensorDecoder.canDecode(.dtype(.f8E4M3)) && TensorDecoder.canDecode(.dtype(.f8E5M2)))
    }

    @Test func invalidLayoutStaysStored() throws {
        // A GPTQ group whose g_idx points past the scale groups is refused with a finding.
        let model = try Model.open(Fixtures.path("quantized-safetensors/gptq-4bit-g64"))
        let prefix = "model.layers.0.self_attn.k_proj"
        var tensors: [SafetensorsWriter.Tensor] = []
        for name in ["qweight", "qzeros", "scales", "g_idx"] {
            let t = model.storedTensor(named: "\(prefix).\(name)")!
            var bytes = [UInt8](model.data(of: t))
            if name == "g_idx" { bytes[0] = 9 }   // g_idx[0] = 9 with 2 groups
            guard case .dtype(let d) = t.type else { continue }
            tensors.append(SafetensorsWriter.Tensor(name: t.name, dtype: d, shape: t.shape, data: bytes))
        }
        let path = try temporaryFile([], name: "model.safetensors")
        try SafetensorsWriter.write(tensors, to: path)
        let edited = try Model.open(path)
        #expect(edited.quantizedLayouts.isEmpty)
        #expect(edited.findings.contains { $0.code == "quantized-layout-invalid" && $0.message.contains("g_idx[0] is 9") })
        #expect(edited.tensor(named: "\(prefix).qweight") != nil)
    }
}
