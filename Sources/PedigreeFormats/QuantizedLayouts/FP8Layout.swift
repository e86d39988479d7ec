/// FP8 and scaled weights (formats.md 6.4, 6.5 naive/float-quantized).
///
/// Block-wise: W[i, j] = fp8(weight[i, j]) · weight_scale_inv[i / bi, j / bj] (multiplied, despite
/// the name). Scaled: W = (code − zero point) · weight_scale, the scale per tensor ([] or [1]),
/// per output row ([out] or [out, 1]) or per group ([out, in / g]).
extension PackedLayout {
    @inline(__always) private func storedCode(_ weight: StoredValues, _ index: Int) -> Float {
        switch weight.dtype {
        case .f8E4M3: FP8.e4m3Table[Int(weight.raw[index])]
        case .f8E5M2: FP8.e5m2Table[Int(weight.raw[index])]
        default: Float(weight.int(index))
        }
    }

    @inline(__always) private func spacing(_ weight: StoredValues, _ index: Int) -> Float {
        switch weight.dtype {
        case .f8E4M3: FP8.e4m3Spacing(weight.raw[index])
        case .f8E5M2: Float(sign: .plus, exponent: max(Int((weight.raw[index] >> 2) & 0x1F), 1) - 17, significand: 1)
        default: 1
        }
    }

    /// Re-rounds `x` (already divided by the scale, zero point added) to the stored code set.
    @inline(__always) private func matches(_ x: Float, _ weight: StoredValues, _ index: Int, precision: Float = 0) -> Bool {
        switch weight.dtype {
        case .f8E4M3: return FP8.e4m3(nearest: x) == weight.raw[index] || (x == 0 && weight.raw[index] & 0x7F == 0)
        case .f8E5M2: return abs(x - FP8.e5m2Table[Int(weight.raw[index])]) <= spacing(weight, index) / 2
        default:
            let half = Float(1 << (bits - 1))
            return uniformCodeMatches(x, stored: weight.int(index), low: -half, high: half - 1, precision: precision)
        }
    }

    private func blockScaleIndex(_ o: Int, _ i: Int, _ p: Parts) -> Int {
        let block = blockShape ?? [128, 128]
        let columns = (rowLength + block[1] - 1) / block[1]
        return (o / block[0]) * columns + i / block[1]
    }

    func decodeFP8Block(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength, weight = p["weight"], scales = p["weight_scale_inv"]
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let s = scales.float(blockScaleIndex(o, i, p))
                values[r * n + i] = storedCode(weight, o * n + i) * s
                steps?[r * n + i] = spacing(weight, o * n + i) * abs(s)
            }
        }
    }

    func matchFP8Block(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, weight = p["weight"], scales = p["weight_scale_inv"]
        let quotientFormat: FloatFormat? = p.referenceFormat != nil && p.referenceFormat == TensorType.dtype(scales.dtype).floatFormat ? p.referenceFormat : nil
        var matching = 0
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n where matches(roundedTo(reference[r * n + i] / scales.float(blockScaleIndex(o, i, p)), quotientFormat), weight, o * n + i) {
                matching += 1
            }
        }
        return matching
    }

    /// Index of the scale (and zero point) of element (o, i).
    @inline(__always) private func scaleIndex(_ o: Int, _ i: Int, _ scaleCount: Int) -> Int {
        if scaleCount <= 1 { return 0 }
        if scaleCount == shape[0] { return o }
        let groups = scaleCount / shape[0]
        return o * groups + i / (groupSize ?? rowLength)
    }

    func decodeScaled(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength, weight = p["weight"], scales = p["weight_scale"], zeros = p.optional("weight_zero_point")
        let count = scales.count
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let s = scales.float(scaleIndex(o, i, count)), index = o * n + i
                let code = storedCode(weight, index)
                values[r * n + i] = (zeros.map { code - Float($0.int(scaleIndex(o, i, count))) } ?? code) * s
                steps?[r * n + i] = spacing(weight, index) * abs(s)
            }
        }
    }

    func matchScaled(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, weight = p["weight"], scales = p["weight_scale"], zeros = p.optional("weight_zero_point")
        let count = scales.count, precision = storagePrecision(scales.dtype)
        // torch divides in the narrow dtype when the weight and the scale share it.
        let quotientFormat: FloatFormat? = p.referenceFormat != nil && p.referenceFormat == TensorType.dtype(scales.dtype).floatFormat ? p.referenceFormat : nil
        var matching = 0
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let k = scaleIndex(o, i, count)
                let x = roundedTo(reference[r * n + i] / scales.float(k), quotientFormat) + (zeros.map { Float($0.int(k)) } ?? 0)
                if matches(x, weight, o * n + i, precision: quotientFormat == nil ? precision : 0) { matching += 1 }
            }
        }
        return matching
    }
}
