import Foundation
import PedigreeFormats

/// `quantized` for quantized safetensors layouts and for float weights that were once quantized.
///
/// Float vs packed (GPTQ, AWQ, bitsandbytes, FP8, compressed-tensors): the stored codes of
/// GPTQ and AWQ come from calibration, so no re-quantization reproduces them; what is certain is
///  - round-to-nearest schemes (bitsandbytes, FP8, compressed-tensors): rounding the float side
///    with the stored scales reproduces the stored codes (`rtnCodeShare` of them);
///  - every scheme: the dequantized values differ from the float side by about the rounding error
///    the stored steps give (step/√12 RMS), at most `maxErrorRatio` times it; for AWQ after the
///    per-channel rescaling it folds into the norms is fitted out (the norms then differ, which
///    is consistent with AWQ).
/// Once quantized (both sides float): one side's matrices sit on a small grid (`GridDetector`)
/// and the other's do not; re-quantizing the grid-free side with ggml's reference quantizer of
/// the detected type reproduces the grid side's values block for block (`onceBlockShare`).
enum PackedQuantizationJudge {
    static let rtnCodeShare = 0.99
    static let maxErrorRatio = 2.0
    static let onceBlockShare = 0.99
    /// Values sampled per tensor for the grid detection (whole rows; 512 blocks of 32 and more).
    static let sample = 1 << 14

    static func judge(_ c: inout JudgeContext) -> Judgement? {
        guard c.complete, !c.measured.isEmpty else { return nil }
        let packedPairs = c.measured.filter { isPacked($0.pair.a) != isPacked($0.pair.b) }
        if packedPairs.isEmpty { return onceQuantized(&c) }
        let sides = Set(packedPairs.map { isPacked($0.pair.a) ? "a" : "b" })
        guard sides.count == 1, let side = sides.first,
              packedPairs.allSatisfy({ (side == "a" ? $0.pair.b : $0.pair.a).type.floatFormat != nil }) else { return nil }
        let floatSide = side == "a" ? "b" : "a"
        let packedModel = side == "a" ? c.a : c.b, floatModel = side == "a" ? c.b : c.a
        var checks = [PackedPairCheck]()
        var layouts = [PackedLayout]()
        for outcome in packedPairs {
            let packed = side == "a" ? outcome.pair.a : outcome.pair.b, float = side == "a" ? outcome.pair.b : outcome.pair.a
            guard case .packed(let layout) = packed.type, outcome.pair.rowMapA == .identity, outcome.pair.rowMapB == .identity,
                  packed.shape == float.shape else { return nil }
            do throws(ReadError) {
                checks.append(try PackedAnalysis.check(float: float, in: floatModel, packed: packed, in: packedModel, layout: layout))
                layouts.append(layout)
            } catch {
                c.findings.append(Finding(.warning, "not-decoded", tensor: packed.name, error.message))
                return nil
            }
        }
        let awq = layouts.contains { $0.scheme == .awq }
        let others = c.measured.filter { isPacked($0.pair.a) == isPacked($0.pair.b) }
        let rescaledNorms = others.filter { !c.valuesAgree($0) && awq && $0.pair.kind == .norm }
        let disagreeing = others.filter { !c.valuesAgree($0) && !(awq && $0.pair.kind == .norm) }
        var failing = [String]()
        var rtnElements = 0, rtnMatching = 0, worstRatio = 0.0
        for (check, layout) in zip(checks, layouts) {
            let ratio = check.rescaledErrorRatio ?? check.errorRatio
            worstRatio = max(worstRatio, ratio)
            if layout.isRoundToNearest {
                rtnElements += check.elements
                rtnMatching += check.matchingCodes
                if check.codeShare < rtnCodeShare {
                    failing.append(String(format: "%@: %.1f%% of codes re-round from %@", check.tensor, 100 * check.codeShare, floatSide))
                }
            }
            if !(ratio <= maxErrorRatio) {
                failing.append(String(format: "%@: error %.2f× the scheme's rounding error", check.tensor, ratio))
            }
        }
        let schemes = Set(layouts.map(schemeText)).sorted().joined(separator: ", ")
        guard failing.isEmpty, disagreeing.isEmpty else {
            var reasons = failing
            if !disagreeing.isEmpty { reasons.append("\(disagreeing.count) unquantized tensors differ beyond dtype rounding") }
            c.findings.append(Finding(.info, "packed-quantization-mismatch",
                "\(side) stores \(schemes), but is not a faithful quantization of \(floatSide): " + reasons.prefix(3).joined(separator: "; ")))
            return nil
        }
        if !rescaledNorms.isEmpty {
            c.findings.append(Finding(.info, "awq-rescaled-norms",
                "\(rescaledNorms.count) norm weights differ: AWQ divides the norm feeding each quantized layer by its input-channel scales"))
        }
        var summary = "\(side) is a faithful quantization of \(floatSide) (\(schemes)): "
        var parts = [String]()
        if rtnElements > 0 {
            parts.append(String(format: "%.2f%% of %d codes re-round from %@'s values with the stored scales", 100 * Double(rtnMatching) / Double(rtnElements), rtnElements, floatSide))
        }
        parts.append(String(format: "the dequantized values of %d tensors are within %.2f× the rounding error of the stored steps%@", checks.count, worstRatio,
                            awq ? " (after fitting out AWQ's channel scales)" : ""))
        if layouts.contains(where: { !$0.isRoundToNearest }) {
            parts.append("GPTQ/AWQ codes come from calibration, so this rests on the error, not on reproduced codes")
        }
        summary += parts.joined(separator: "; ")
        summary += "; the other \(others.count) tensors are equal up to dtype rounding" + (rescaledNorms.isEmpty ? "" : " (AWQ-rescaled norms aside)")
        let lines = checks.map { ch in
            String(format: "%@ %@: codes %.2f%%, error ratio %.3f%@", ch.tensor, ch.scheme, 100 * ch.codeShare, ch.errorRatio,
                   ch.rescaledErrorRatio.map { String(format: ", rescaled %.3f", $0) } ?? "")
        }
        return c.judgement(.quantized, parent: floatSide, summary, evidence: lines)
    }

    static func isPacked(_ t: TensorInfo) -> Bool { if case .packed = t.type { return true }; return false }

    static func schemeText(_ l: PackedLayout) -> String {
        var text = "\(l.quantMethod) \(l.typeName)"
        if let block = l.blockShape { text += ", block \(block.map(String.init).joined(separator: "×"))" }
        else if l.granularity == "group", let g = l.groupSize { text += ", group \(g)" }
        else { text += ", per \(l.granularity)" }
        return text
    }

    /// Both sides float: one side once quantized, checked by re-quantizing the other.
    static func onceQuantized(_ c: inout JudgeContext) -> Judgement? {
        guard c.measured.allSatisfy({ $0.pair.a.type.floatFormat != nil && $0.pair.b.type.floatFormat != nil }) else { return nil }
        let grids = c.measured.filter { $0.pair.kind.carriesEvidence && $0.pair.a.shape.count == 2 && $0.pair.rowMapA == .identity && $0.pair.rowMapB == .identity }
        guard !grids.isEmpty else { return nil }
        var signatures: [(a: GridSignature?, b: GridSignature?)] = []
        do throws(ReadError) {
            // One matrix first: when neither side's sits on a grid, no side was once quantized
            // (the judge needs every matrix of one side on the grid), so the others are not read.
            let first = grids[0]
            let firstA = try GridDetector.signature(of: first.pair.a, in: c.a, maxElements: sample)
            let firstB = try GridDetector.signature(of: first.pair.b, in: c.b, maxElements: sample)
            guard firstA?.onceQuantized == true || firstB?.onceQuantized == true else { return nil }
            signatures.append((firstA, firstB))
            for o in grids.dropFirst() {
                signatures.append((try GridDetector.signature(of: o.pair.a, in: c.a, maxElements: sample),
                                    try GridDetector.signature(of: o.pair.b, in: c.b, maxElements: sample)))
            }
        } catch { return nil }
        let onGridA = signatures.filter { $0.a?.onceQuantized == true }.count
        let onGridB = signatures.filter { $0.b?.onceQuantized == true }.count
        guard (onGridA == 0) != (onGridB == 0) else { return nil }
        let side = onGridA > 0 ? "a" : "b", floatSide = side == "a" ? "b" : "a"
        let found = signatures.compactMap { side == "a" ? $0.a : $0.b }.filter(\.onceQuantized)
        let kinds = Set(found.map(\.description)).sorted()
        guard found.count == grids.count, let like = found.first?.like, found.allSatisfy({ $0.like == like }) else {
            c.findings.append(Finding(.info, "once-quantized",
                "\(found.count) of \(grids.count) matrices of \(side) sit on a quantization grid (\(kinds.joined(separator: "; "))); not checked against \(floatSide)"))
            return nil
        }
        var blocks = 0, matching = 0
        for o in grids {
            let q = side == "a" ? o.pair.a : o.pair.b, f = side == "a" ? o.pair.b : o.pair.a
            let qModel = side == "a" ? c.a : c.b, fModel = side == "a" ? c.b : c.a
            do throws(ReadError) {
                guard let r = try PackedAnalysis.onceQuantizedBlocks(float: f, in: fModel, quantized: q, in: qModel, like: like) else {
                    c.findings.append(Finding(.info, "once-quantized", "\(side) is \(kinds.joined(separator: "; ")); no reference \(like) quantizer in this build to check it against \(floatSide)"))
                    return nil
                }
                blocks += r.blocks; matching += r.matching
            } catch { return nil }
        }
        let share = blocks > 0 ? Double(matching) / Double(blocks) : 0
        let others = c.measured.filter { o in !grids.contains { $0.pair.a.name == o.pair.a.name } }
        guard share >= onceBlockShare, others.allSatisfy(c.valuesAgree) else {
            c.findings.append(Finding(.info, "once-quantized-mismatch", String(format:
                "%@ is %@, but only %.1f%% of %d blocks re-quantize (%@) from %@: not a round trip of it", side, kinds.joined(separator: "; "), 100 * share, blocks, like, floatSide)))
            return nil
        }
        let summary = String(format: "%@ holds float weights that were once quantized (%@) from %@ and dequantized: %.2f%% of %d blocks of %d matrices re-quantize with ggml's reference %@ quantizer to exactly %@'s values; the other %d tensors are equal up to dtype rounding",
                             side, kinds.joined(separator: "; "), floatSide, 100 * share, blocks, grids.count, like, side, others.count)
        return c.judgement(.quantized, parent: floatSide, summary)
    }
}
