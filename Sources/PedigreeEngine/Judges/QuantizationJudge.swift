import Foundation
import PedigreeFormats

/// `quantized`: one side's block-quantized tensors are what the reference quantizer makes of
/// the other side's floats, block for block, and every other tensor agrees up to dtype rounding.
///
/// Null model: a block of a model that is not the float side's quantization (a fine-tune, a
/// different model) re-quantizes to the same bytes only by accident; the judge asks for
/// `faithfulBlockShare` of all blocks. It does not prove the file was made by llama.cpp: any
/// faithful implementation of the same quantizer gives the same bytes.
enum QuantizationJudge {
    /// Share of re-quantized blocks that must reproduce the stored codes.
    static let faithfulBlockShare = 0.99

    static func judge(_ c: inout JudgeContext) -> Judgement? {
        let quantizedPairs = c.measured.filter { $0.measures!.requantization != nil }
        guard c.complete, !quantizedPairs.isEmpty else { return nil }
        let checks = quantizedPairs.map { $0.measures!.requantization! }
        let sides = Set(checks.map(\.quantizedSide))
        let available = checks.allSatisfy(\.available)
        let blocks = checks.reduce(Int64(0)) { $0 + $1.blocks }
        let matching = checks.reduce(Int64(0)) { $0 + $1.matchingBlocks }
        let others = c.measured.filter { $0.measures!.requantization == nil }
        let share = blocks > 0 ? Double(matching) / Double(blocks) : 0
        if sides.count == 1, available, blocks > 0, share >= faithfulBlockShare, others.allSatisfy(c.valuesAgree) {
            let side = sides.first!, floatSide = side == "a" ? "b" : "a"
            let types = Set(checks.map(\.type)).sorted().joined(separator: "/")
            let summary = String(format: "%@ is a faithful %@ quantization of %@: %.2f%% of %lld blocks re-quantize bit for bit with ggml's reference quantizer; the other %d tensors are equal up to dtype rounding",
                                 side, types, floatSide, 100 * share, blocks, others.count)
            return c.judgement(.quantized, parent: floatSide, summary)
        }
        if available, blocks > 0 {
            c.findings.append(Finding(.info, "requantization-mismatch",
                String(format: "only %.1f%% of %lld quantized blocks re-quantize from the float side: not a faithful quantization of it", 100 * share, blocks)))
        } else if !available {
            c.findings.append(Finding(.info, "requantization-unavailable",
                "no reference quantizer for \(Set(checks.map(\.type)).sorted().joined(separator: ", ")) in this build: faithfulness not checked"))
        }
        return nil
    }
}
