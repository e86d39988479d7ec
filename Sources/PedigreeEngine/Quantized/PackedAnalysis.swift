import CPedigreeKernels
import PedigreeFormats

/// What a float tensor and a quantized-safetensors tensor (`.packed`) show when set side by side.
public struct PackedPairCheck: Codable, Sendable, Equatable {
    public var tensor: String
    public var scheme: String
    public var elements: Int
    /// Elements whose stored code is what rounding the float value with the stored scales gives.
    public var matchingCodes: Int
    /// RMS of (dequantized − float) over the RMS a uniform rounding error of the stored steps has
    /// (step/√12): about 1 for round-to-nearest, somewhat more for GPTQ's error feedback.
    public var errorRatio: Double
    /// AWQ: the same ratio after the per-input-channel (and per-row) rescaling AWQ applies is
    /// fitted out by least squares.
    public var rescaledErrorRatio: Double?

    public var codeShare: Double { elements > 0 ? Double(matchingCodes) / Double(elements) : 0 }
}

/// Streams a float / packed pair and measures `PackedPairCheck`.
enum PackedAnalysis {
    static func check(float floatTensor: TensorInfo, in floatModel: Model, packed packedTensor: TensorInfo, in packedModel: Model,
                      layout: PackedLayout) throws(ReadError) -> PackedPairCheck {
        let n = packedTensor.rowLength, rows = packedTensor.rowCount
        let rowsPerBlock = max(1, min(rows, (1 << 16) / max(n, 1)))
        let f = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * n)
        let q = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * n)
        let s = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * n)
        defer { f.deallocate(); q.deallocate(); s.deallocate() }
        var error2 = 0.0, expected2 = 0.0, matching = 0
        // AWQ: per-column sums for the least-squares column scale c_i = Σ f·q / Σ f².
        let awq = layout.scheme == .awq
        var columnFQ = [Double](repeating: 0, count: awq ? n : 0), columnFF = columnFQ
        func pass(_ body: (Range<Int>, Int) -> Void) throws(ReadError) {
            var start = 0
            while start < rows {
                let count = min(rowsPerBlock, rows - start)
                try floatModel.decodeRows(of: floatTensor, start ..< start + count, into: f)
                layout.decode(rows: start ..< start + count, of: packedModel, into: q, steps: s)
                body(start ..< start + count, count * n)
                start += count
            }
        }
        try pass { range, total in
            for j in 0 ..< total {
                let d = Double(q[j]) - Double(f[j])
                error2 += d * d
                expected2 += Double(s[j]) * Double(s[j]) / 12
            }
            matching += layout.matchingCodes(rows: range, of: packedModel, reference: f, referenceFormat: floatTensor.type.floatFormat)
            if awq {
                for j in 0 ..< total {
                    columnFQ[j % n] += Double(f[j]) * Double(q[j])
                    columnFF[j % n] += Double(f[j]) * Double(f[j])
                }
            }
        }
        var check = PackedPairCheck(tensor: packedTensor.name, scheme: layout.typeName, elements: rows * n, matchingCodes: matching,
                                    errorRatio: expected2 > 0 ? (error2 / expected2).squareRoot() : (error2 == 0 ? 0 : .infinity))
        if awq {
            let column = (0 ..< n).map { columnFF[$0] > 0 ? columnFQ[$0] / columnFF[$0] : 1 }
            // Rows: r_o = Σ_i (c_i f) q / Σ_i (c_i f)², then the residual of q − r_o c_i f.
            var rowScale = [Double](repeating: 1, count: rows)
            try pass { range, total in
                for (r, o) in range.enumerated() {
                    var fq = 0.0, ff = 0.0
                    for i in 0 ..< n {
                        let x = column[i] * Double(f[r * n + i])
                        fq += x * Double(q[r * n + i]); ff += x * x
                    }
                    rowScale[o] = ff > 0 ? fq / ff : 1
                }
                _ = total
            }
            var residual2 = 0.0
            try pass { range, _ in
                for (r, o) in range.enumerated() {
                    for i in 0 ..< n {
                        let d = Double(q[r * n + i]) - rowScale[o] * column[i] * Double(f[r * n + i])
                        residual2 += d * d
                    }
                }
            }
            check.rescaledErrorRatio = expected2 > 0 ? (residual2 / expected2).squareRoot() : nil
        }
        return check
    }

    /// Re-quantizes the float rows with ggml's reference quantizer of `like` and counts the
    /// blocks whose dequantized values, rounded to the once-quantized side's dtype, equal it.
    /// Nil when this build has no reference quantizer for the type.
    static func onceQuantizedBlocks(float floatTensor: TensorInfo, in floatModel: Model, quantized quantizedTensor: TensorInfo,
                                    in quantizedModel: Model, like: String) throws(ReadError) -> (blocks: Int, matching: Int)? {
        let quantize: (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void
        let dequantize: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        let blockBytes: Int
        switch like {
        case "Q4_0": quantize = { pdg_quantize_q4_0_ref($0, $1, $2) }; dequantize = { pdg_dequant_q4_0_ref($0, $1, $2) }; blockBytes = 18
        case "Q8_0": quantize = { pdg_quantize_q8_0_ref($0, $1, $2) }; dequantize = { pdg_dequant_q8_0_ref($0, $1, $2) }; blockBytes = 34
        default: return nil
        }
        guard let format = quantizedTensor.type.floatFormat, quantizedTensor.shape == floatTensor.shape,
              floatTensor.rowLength % 32 == 0 else { return nil }
        let kernelFormat: Int32 = switch format {
        case .f16: Int32(PDG_FORMAT_F16)
        case .bf16: Int32(PDG_FORMAT_BF16)
        case .f32, .f64: Int32(PDG_FORMAT_F32)
        }
        let n = floatTensor.rowLength, rows = floatTensor.rowCount
        let f = UnsafeMutablePointer<Float>.allocate(capacity: n), stored = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let redone = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let codes = UnsafeMutableRawPointer.allocate(byteCount: n / 32 * blockBytes, alignment: 16)
        defer { f.deallocate(); stored.deallocate(); redone.deallocate(); codes.deallocate() }
        var matching = 0
        for row in 0 ..< rows {
            try floatModel.decodeRows(of: floatTensor, row ..< row + 1, into: f)
            try quantizedModel.decodeRows(of: quantizedTensor, row ..< row + 1, into: stored)
            quantize(f, codes, n)
            dequantize(codes, redone, n)
            for block in 0 ..< n / 32 {
                var mismatches: Int64 = 0, inexact: Int64 = 0
                pdg_rounding_check(redone + block * 32, stored + block * 32, 32, kernelFormat, &mismatches, &inexact)
                if mismatches == 0 { matching += 1 }
            }
        }
        return (rows * n / 32, matching)
    }
}
