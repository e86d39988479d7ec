/// AutoAWQ GEMM (formats.md 6.2): W[i, o] = (q[i, o] − z[i/g, o]) · s[i/g, o]. qweight [in, out/8]
/// and qzeros [in/g, out/8] pack along out; nibble i of a word holds column 8c + order[i] with
/// order 0,2,4,6,1,3,5,7. Zeros are stored as they are. The logical tensor is [out, in].
extension PackedLayout {
    /// The nibble holding column 8c + k (the inverse of the packing order).
    static let awqNibble = [0, 4, 1, 5, 2, 6, 3, 7]

    @inline(__always) private func awqElement(_ o: Int, _ i: Int, _ p: Parts) -> (q: Int, z: Int, scale: Float) {
        let out = shape[0], words = out / 8, g = i / (groupSize ?? rowLength)
        let nibble = PackedLayout.awqNibble[o % 8]
        let q = p["qweight"].field(i * words + o / 8, nibble, bits: 4)
        let z = p["qzeros"].field(g * words + o / 8, nibble, bits: 4)
        return (q, z, p["scales"].float(g * out + o))
    }

    func decodeAWQ(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = awqElement(o, i, p)
                values[r * n + i] = Float(e.q - e.z) * e.scale
                steps?[r * n + i] = abs(e.scale)
            }
        }
    }

    func matchAWQ(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, precision = storagePrecision(p["scales"].dtype)
        var matching = 0
        for (r, o) in rows.enumerated() {
            for i in 0 ..< n {
                let e = awqElement(o, i, p)
                let t = reference[r * n + i] / e.scale + Float(e.z)
                if uniformCodeMatches(t, stored: e.q, low: 0, high: 15, precision: precision) { matching += 1 }
            }
        }
        return matching
    }
}
