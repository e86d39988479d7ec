import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

@Suite struct PairingTests {
    /// MANIFEST.json's name maps (llama.cpp's names for the HF names of both families).
    static func nameMap(_ family: String) throws -> [String: String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/MANIFEST.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        return ((json?["name_maps"] as? [String: Any])?[family] as? [String: String]) ?? [:]
    }

    @Test(arguments: [("bert", NameMapping.Family.bert), ("llama", NameMapping.Family.llama)])
    func ggufNamesMapToHuggingFace(_ family: String, _ mapping: NameMapping.Family) throws {
        let map = try Self.nameMap(family)
        #expect(map.count >= 20)
        for (hf, gguf) in map {
            #expect(NameMapping.huggingFaceName(ofGGUF: gguf, family: mapping) == hf)
        }
    }

    @Test func olderBertNormNameIsAccepted() {
        #expect(NameMapping.huggingFaceName(ofGGUF: "blk.3.ffn_norm.weight", family: .bert) == "encoder.layer.3.output.LayerNorm.weight")
    }

    @Test func wrapperPrefixesPairUp() {
        let plain = NameMapping.pairingKey("embeddings.word_embeddings.weight", format: .safetensors, family: nil)
        let wrapped = NameMapping.pairingKey("bert.embeddings.word_embeddings.weight", format: .safetensors, family: nil)
        #expect(plain == wrapped)
    }

    /// The rotary layout as llama.cpp's converter makes it: reshape rows to (H, 2, half), swap
    /// the two inner axes, reshape back; computed here by building the reshaped index directly.
    @Test(arguments: [(8, 256), (2, 64), (4, 32)])
    func rotaryRowMapInvertsTheConverter(_ heads: Int, _ rows: Int) {
        let headDim = rows / heads, half = headDim / 2
        var converted = [Int](repeating: -1, count: rows)   // converted[stored] = hf row
        for h in 0 ..< heads {
            for c in 0 ..< 2 {
                for i in 0 ..< half {
                    let hf = (h * 2 + c) * half + i          // index in (H, 2, half)
                    let stored = (h * half + i) * 2 + c      // index in (H, half, 2)
                    converted[stored] = hf
                }
            }
        }
        let map = RowMap.rotary(heads: heads)
        #expect(map.fits(rows: rows))
        for hf in 0 ..< rows { #expect(converted[map.storedRow(hf, rows: rows)] == hf) }
    }

    @Test func kindsOfTensors() {
        func info(_ name: String, _ shape: [Int], _ type: DType = .f32) -> TensorInfo {
            TensorInfo(name: name, shape: shape, type: .dtype(type), fileIndex: 0, byteOffset: 0, byteCount: 0)
        }
        #expect(TensorKind.of(info("embeddings.position_ids", [1, 512], .i64)) == .buffer)
        #expect(TensorKind.of(info("model.embed_tokens.weight", [512, 256])) == .embedding)
        #expect(TensorKind.of(info("blk.0.attn_norm.weight", [256])) == .norm)
        #expect(TensorKind.of(info("encoder.layer.0.attention.self.query.bias", [384])) == .bias)
        #expect(TensorKind.of(info("model.layers.0.mlp.up_proj.weight", [512, 256])) == .matrix)
        #expect(TensorKind.of(info("token_embd_norm.weight", [384])) == .norm)
    }
}
