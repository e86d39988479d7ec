import Foundation
import PedigreeFormats

/// `quantized`: one side's ggml block-quantized tensors are what the reference quantizer makes of
/// the other side's floats, block for block, and every other tensor agrees up to dtype rounding.
///
/// Null model: a block of a model that is not the float side's quantization (a fine-tune, a
/// different model) re-quantizes to the same bytes only by accident; the judge asks for
/// `faithfulBlockShare` of all blocks re-quantized. Files mix types per tensor (Q4_K with Q6_K,
/// Q5_0/Q8_0 fallbacks): each tensor is checked with its own type's quantizer. Tensors of types
/// without a deterministic quantizer (the IQ types, FP4) are held to their expected error
/// instead (`maxNMSERatio`), and at least half of the quantized values must be block-checked.
/// It does not prove the file was made by llama.cpp: any faithful implementation of the same
/// quantizer gives the same bytes.
enum QuantizationJudge {
    /// Share of re-quantized blocks that must reproduce the stored codes.
    static let faithfulBlockShare = 0.99
    /// A tensor whose error exceeds its type's expectation this many times is not a plain quantization.
    static let maxNMSERatio = 3.0

    static func judge(_ c: inout JudgeContext) -> Judgement? {
        let quantizedPairs = c.measured.filter { $0.measures!.requantization != nil }
        guard !quantizedPairs.isEmpty else { return nil }
        let checks = quantizedPairs.map { $0.measures!.requantization! }
        let sides = Set(checks.map(\.quantizedSide))
        let side = sides.count == 1 ? sides.first! : nil
        let entries = quantizedPairs.map(entry)
        let checked = zip(quantizedPairs, checks).filter { $0.1.available && $0.1.blocks > 0 }
        let blocks = checked.reduce(Int64(0)) { $0 + $1.1.blocks }
        let matching = checked.reduce(Int64(0)) { $0 + $1.1.matchingBlocks }
        let share = blocks > 0 ? Double(matching) / Double(blocks) : 0
        let checkedValues = checked.reduce(0) { $0 + $1.0.pair.rows * $1.0.pair.a.rowLength }
        let allValues = quantizedPairs.reduce(0) { $0 + $1.pair.rows * $1.pair.a.rowLength }
        let unchecked = entries.filter { $0.blocks == nil }
        let uncheckedWithinError = unchecked.allSatisfy { ($0.nmseRatio ?? .infinity) <= maxNMSERatio }
        let others = c.measured.filter { $0.measures!.requantization == nil }
        let quantizedModel = side == "a" ? c.a : c.b
        let signature = side.flatMap { _ in GGUFQuantizationSignature(quantizedModel) }

        let faithful = c.complete && side != nil && blocks > 0 && share >= faithfulBlockShare
            && 2 * checkedValues >= allValues && uncheckedWithinError && others.allSatisfy(c.valuesAgree)
        let report = QuantizationReport(quantizedSide: side, blocks: blocks, matchingBlocks: matching, faithful: faithful,
                                        signature: signature, tensors: entries)
        c.quantization = report
        c.findings += signature?.findings ?? []
        for e in entries where (e.nmseRatio ?? 0) > maxNMSERatio {
            c.findings.append(Finding(.info, "quantization-error-high", tensor: e.name,
                String(format: "%@ differs from the float side by NMSE %.3g, %.1f times what %@ quantization leaves (%.3g)",
                       e.name, e.nmse ?? 0, e.nmseRatio ?? 0, e.type, e.expectedNMSE ?? 0)))
        }

        if faithful, let side {
            let floatSide = side == "a" ? "b" : "a"
            let types = Set(checks.map(\.type)).sorted().joined(separator: "/")
            var summary = String(format: "%@ is a faithful %@ quantization of %@: %.2f%% of %lld blocks re-quantize bit for bit with ggml's reference quantizer",
                                 side, types, floatSide, 100 * share, blocks)
            if !unchecked.isEmpty {
                summary += "; \(unchecked.count) tensors of types without a deterministic quantizer are within their expected error"
            }
            summary += "; the other \(others.count) tensors are equal up to dtype rounding"
            var judgement = c.judgement(.quantized, parent: floatSide, summary, evidence: evidenceLines(report, signature))
            judgement.quantization = report
            return judgement
        }
        if blocks > 0 {
            c.findings.append(Finding(.info, "requantization-mismatch",
                String(format: "only %.1f%% of %lld quantized blocks re-quantize from the float side: not a faithful quantization of it", 100 * share, blocks)))
        } else {
            let types = Set(checks.filter { !$0.available }.map(\.type)).sorted().joined(separator: ", ")
            c.findings.append(Finding(.info, "requantization-unavailable",
                "no deterministic reference quantizer for \(types.isEmpty ? "these tensors" : types): faithfulness checked by error size only"))
        }
        return nil
    }

    /// The report line of one quantized pair: its block check and its error against the type's expectation.
    static func entry(_ outcome: PairOutcome) -> QuantizationReport.Tensor {
        let m = outcome.measures!, check = m.requantization!
        let quantizedIsA = check.quantizedSide == "a"
        let tensor = quantizedIsA ? outcome.pair.a : outcome.pair.b
        let floatNorm = quantizedIsA ? m.sums.sumB2 : m.sums.sumA2
        let nmse = floatNorm > 0 ? m.sums.sumDiff2 / floatNorm : nil
        let expected = QuantizationError.expectedNMSE[check.type]
        let ratio = nmse.flatMap { n in expected.map { n / $0 } }
        let available = check.available && check.blocks > 0
        return QuantizationReport.Tensor(name: tensor.name, type: check.type, blocks: available ? check.blocks : nil,
                                         matchingBlocks: available ? check.matchingBlocks : nil,
                                         nmse: nmse, expectedNMSE: expected, nmseRatio: ratio)
    }

    static func evidenceLines(_ report: QuantizationReport, _ signature: GGUFQuantizationSignature?) -> [String] {
        var lines: [String] = []
        if let s = signature {
            let declared = s.declaredFileTypeName ?? "no general.file_type"
            lines.append("file type: \(declared); the tensors add up to \(s.inferredFileType ?? "?")"
                         + (s.consistent == true ? " (consistent\(s.fallbackMatrices > 0 ? ", \(s.fallbackMatrices) fallback matrices" : ""))" : ""))
        }
        let ratios = report.tensors.compactMap(\.nmseRatio)
        if let worst = ratios.max() {
            lines.append(String(format: "quantization error per tensor: at most %.2f times the type's expected NMSE", worst))
        }
        return lines
    }
}
