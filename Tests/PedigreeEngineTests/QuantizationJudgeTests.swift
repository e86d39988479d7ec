import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The faithful-quantization check and the GGUF quantization signature on the fixtures
/// (relations from MANIFEST.json: llama.cpp's own Q4_K_M files, gguf-py's Q4_0/Q8_0 files).
@Suite(.serialized) struct QuantizationJudgeTests {
    static func compare(_ a: String, _ b: String) throws -> Comparison {
        Comparator.compare(try Model.open(QuantFixtures.path(a)), try Model.open(QuantFixtures.path(b)))
    }

    @Test func llamaBaseQ4KMIsAFaithfulQuantization() throws {
        let c = try Self.compare("llama/base", "llama/gguf/base-Q4_K_M.gguf")
        #expect(c.verdict.relation == .quantized)
        #expect(c.verdict.parent == "a")
        let q = try #require(c.quantization)
        #expect(q.faithful && q.quantizedSide == "b")
        #expect(q.blocks > 5000 && q.matchingBlocks == q.blocks)
        // mixed types per tensor: Q4_K and Q6_K, each checked with its own quantizer
        #expect(Set(q.tensors.map(\.type)) == ["Q4_K", "Q6_K"])
        #expect(q.tensors.allSatisfy { $0.blocks != nil && $0.matchingBlocks == $0.blocks })
        // the error of every tensor is the size its type leaves (manifest: relL2 0.07 for Q4_K, 0.018 for Q6_K)
        for t in q.tensors { #expect((0.5 ... 2.0).contains(t.nmseRatio ?? 0), "\(t.name) \(t.type) NMSE ratio \(t.nmseRatio ?? -1)") }
        #expect(q.signature?.declaredFileTypeName == "MOSTLY_Q4_K_M")
        #expect(q.signature?.consistent == true)
    }

    @Test func llamaFinetuneQ4KMIsNotAQuantizationOfBase() throws {
        let c = try Self.compare("llama/base", "llama/gguf/finetune-Q4_K_M.gguf")
        #expect(c.verdict.relation != .quantized)
        let q = try #require(c.quantization)
        #expect(!q.faithful)
        // the block check is what makes it certain: few blocks (rows the fine-tune left alone) re-quantize from base
        #expect((q.matchingShare ?? 1) < 0.2, "share \(q.matchingShare ?? -1)")
        #expect(c.findings.contains { $0.code == "requantization-mismatch" })
    }

    @Test func llamaFinetuneQ4KMIsAFaithfulQuantizationOfFinetune() throws {
        let c = try Self.compare("llama/finetune", "llama/gguf/finetune-Q4_K_M.gguf")
        #expect(c.verdict.relation == .quantized)
        #expect(c.verdict.parent == "a")
        #expect(c.quantization?.matchingShare == 1)
    }

    @Test func ggufPyQ4_0OfFinetuneIsNotBase() throws {
        let c = try Self.compare("base", "gguf/finetune-Q4_0.gguf")
        #expect(c.verdict.relation == .derived)
        #expect(c.quantization?.faithful == false)
        let faithful = try Self.compare("base", "gguf/base-Q4_0.gguf")
        #expect(faithful.verdict.relation == .quantized)
        #expect(faithful.quantization?.matchingShare == 1)
    }

    @Test func gemmaSignatureKnowsTheFallbacks() throws {
        let model = try Model.open(QuantFixtures.path("real_gguf/gemma-3-270m-Q4_K_M-excerpt.gguf"))
        let s = try #require(GGUFQuantizationSignature(model))
        #expect(s.declaredFileType == 15 && s.declaredFileTypeName == "MOSTLY_Q4_K_M")
        #expect(s.matrixTypes["Q5_0", default: 0] > s.matrixTypes["Q4_K", default: 0])   // mostly fallbacks
        #expect(s.fallbackMatrices >= 4)
        #expect(s.consistent == true, "\(s.mismatches)")
        #expect(s.inferredFileType == "Q4_K_M")
        #expect(Inspection(model).quantizationSignature == s)
        #expect(!Inspection(model).findings.contains { $0.code == "file-type-mismatch" })
    }

    @Test func llamaSignatures() throws {
        let q4 = try #require(GGUFQuantizationSignature(try Model.open(QuantFixtures.path("llama/gguf/base-Q4_K_M.gguf"))))
        #expect(q4.inferredFileType == "Q4_K_M" && q4.consistent == true && q4.fallbackMatrices == 0)
        #expect(q4.matrixTypes == ["Q4_K": 13, "Q6_K": 3])
        let f16 = try #require(GGUFQuantizationSignature(try Model.open(QuantFixtures.path("llama/gguf/base-F16.gguf"))))
        #expect(f16.declaredFileTypeName == "MOSTLY_F16" && f16.consistent == true)
        #expect(GGUFQuantizationSignature(try Model.open(QuantFixtures.path("llama/base"))) == nil)
    }

    /// A declared file type the tensors contradict is a mismatch: the Q4_K_M tensors declared as
    /// MOSTLY_Q8_0 or MOSTLY_F16, or Q5_0 fallbacks on rows that would fit Q4_K blocks.
    @Test func declaredTypeThatLiesIsFlagged() throws {
        let model = try Model.open(QuantFixtures.path("llama/gguf/base-Q4_K_M.gguf"))
        for lie in [7, 1, 2] {   // MOSTLY_Q8_0, MOSTLY_F16, MOSTLY_Q4_0
            let s = GGUFQuantizationSignature(declaredFileType: lie, tensors: model.tensors)
            #expect(s.consistent == false, "file type \(lie) accepted")
            #expect(s.findings.first?.code == "file-type-mismatch")
        }
        #expect(GGUFQuantizationSignature(declaredFileType: 15, tensors: model.tensors).consistent == true)
        #expect(GGUFQuantizationSignature(declaredFileType: 999, tensors: model.tensors).consistent == nil)
        // Gemma's Q5_0 matrices are fallbacks because their rows (640) do not fit 256-blocks;
        // the same types on rows of 1024 would not be.
        let gemma = try Model.open(QuantFixtures.path("real_gguf/gemma-3-270m-Q4_K_M-excerpt.gguf"))
        let q5 = try #require(gemma.tensors.first { $0.type.name == "Q5_0" })
        #expect(q5.rowLength % 256 != 0)
        #expect(GGUFQuantizationSignature.fallback["Q4_K"] == "Q5_0" && GGUFQuantizationSignature.fallback["Q6_K"] == "Q8_0")
    }
}
