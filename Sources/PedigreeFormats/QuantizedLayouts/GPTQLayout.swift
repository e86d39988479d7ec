/// GPTQ (formats.md 6.1): W[i, o] = scales[g, o] · (q[i, o] − z[g, o]) with g = g_idx[i].
/// qweight [in·bits/32, out] packs along in; qzeros [groups, out·bits/32] packs along out; v1
/// checkpoints store z − 1 (`zeroOffset` 1). The logical tensor is the transpose, [out, in].
extension PackedLayout {
    @inline(__always) private func gptqElement(_ o: Int, _ i: Int, _ p: Parts) -> (q: Int, z: Int, scale: Float) {
        let out = shape[0], perWord = 32 / bits, mask = (1 << bits) - 1
        let g = p.optional("g_idx").map { $0.int(i) } ?? i / (groupSize ?? rowLength)
        let q = p["qweight"].field((i / perWord) * out + o, i % perWord, bits: bits)
        let zeroWords = p["qzeros"].count / max(p["scales"].count / out, 1)
        let z = (p["qzeros"].field(g * zeroWords + o / perWord, o % perWord, bits: bits) + zeroOffset) & mask
        return (q, z, p["scales"].float(g * out + o))
    }

    func decodeGPTQ(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = gptqElement(o, i, p)
                values[r * n + i] = e.scale * Float(e.q - e.z)
                steps?[r * n + i] = abs(e.scale)
            }
        }
    }

    func matchGPTQ(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, maxQ = Float((1 << bits) - 1), precision = storagePrecision(p["scales"].dtype)
        var matching = 0
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = gptqElement(o, i, p)
                let t = reference[r * n + i] / e.scale + Float(e.z)
                if uniformCodeMatches(t, stored: e.q, low: 0, high: maxQ, precision: precision) { matching += 1 }
            }
        }
        return matching
    }
}
