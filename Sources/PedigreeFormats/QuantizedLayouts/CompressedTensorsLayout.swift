/// compressed-tensors pack-quantized (formats.md 6.5): signed codes q ∈ [−2^(b−1), 2^(b−1)) stored
/// as q + 2^(b−1), packed 32/b to an I32 word along in (weight_packed [out, ceil(in/pf)]); the
/// zero point, when present, packed the same way along out ([ceil(out/pf), groups]).
/// W = (q − zp) · scale, group = col / group_size or weight_g_idx[col].
extension PackedLayout {
    @inline(__always) private func packedElement(_ o: Int, _ i: Int, _ p: Parts) -> (q: Int, z: Int, scale: Float) {
        let perWord = 32 / bits, half = 1 << (bits - 1)
        let words = (rowLength + perWord - 1) / perWord
        let scales = p["weight_scale"], groups = max(scales.count / shape[0], 1)
        let g = groups == 1 ? 0 : (p.optional("weight_g_idx").map { $0.int(i) } ?? i / (groupSize ?? rowLength))
        let q = p["weight_packed"].field(o * words + i / perWord, i % perWord, bits: bits) - half
        let z = p.optional("weight_zero_point").map { $0.field((o / perWord) * groups + g, o % perWord, bits: bits) - half } ?? 0
        return (q, z, scales.float(o * groups + g))
    }

    func decodePackQuantized(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = packedElement(o, i, p)
                values[r * n + i] = Float(e.q - e.z) * e.scale
                steps?[r * n + i] = abs(e.scale)
            }
        }
    }

    func matchPackQuantized(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, half = Float(1 << (bits - 1)), precision = storagePrecision(p["weight_scale"].dtype)
        var matching = 0
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = packedElement(o, i, p)
                let t = reference[r * n + i] / e.scale + Float(e.z)
                if uniformCodeMatches(t, stored: e.q, low: -half, high: half - 1, precision: precision) { matching += 1 }
            }
        }
        return matching
    }
}
