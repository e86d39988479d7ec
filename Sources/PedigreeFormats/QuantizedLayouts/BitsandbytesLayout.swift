/// bitsandbytes (formats.md 6.3).
///
/// 4-bit: flat element k is nibble k of `weight` (even k the high nibble), v = quant_map[nibble] ·
/// absmax[k / blocksize]; nested absmax is nested_quant_map[code] · nested_absmax[b / 256] + offset.
/// The library's FP4 decoder gives code 8 (sign bit, magnitude 0) the value −0 whatever the stored
/// map says, so the decoder does too.
///
/// LLM.int8: W = (weight · SCB[row]) · (1/127), in that order of Float32 operations.
extension PackedLayout {
    /// The 16 code values, with FP4's negative zero.
    private func codeTable(_ p: Parts) -> [Float] {
        var table = (0 ..< 16).map { p["quant_map"].float($0) }
        if codes == "fp4" && table[8] == 0 { table[8] = -0.0 }
        return table
    }

    /// The width of each code's rounding cell: half the distance between its neighbours.
    private static func cells(_ table: [Float]) -> [Float] {
        let levels = Array(Set(table.map { $0 == 0 ? 0 : $0 })).sorted()
        return table.map { value in
            let j = levels.firstIndex(of: value == 0 ? 0 : value) ?? 0
            let below = j > 0 ? value - levels[j - 1] : nil, above = j + 1 < levels.count ? levels[j + 1] - value : nil
            return ((below ?? above ?? 0) + (above ?? below ?? 0)) / 2
        }
    }

    @inline(__always) private func absmax(_ block: Int, _ p: Parts) -> Float {
        let stored = p["absmax"]
        guard stored.dtype == .u8, let nestedMap = p.optional("nested_quant_map"), let nested = p.optional("nested_absmax") else {
            return stored.float(block)
        }
        return nestedMap.float(stored.int(block)) * nested.float(block / nestedBlockSize) + nestedOffset
    }

    @inline(__always) private func nibble(_ k: Int, _ p: Parts) -> Int {
        let byte = Int(p["weight"].raw[k / 2])
        return k & 1 == 0 ? byte >> 4 : byte & 0xF
    }

    func decodeBnb4(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength, block = groupSize!, table = codeTable(p)
        let cells = steps == nil ? [] : PackedLayout.cells(table)
        var currentBlock = -1, scale: Float = 0
        for k in rows.lowerBound * n ..< rows.upperBound * n {
            if k / block != currentBlock { currentBlock = k / block; scale = absmax(currentBlock, p) }
            let code = nibble(k, p), j = k - rows.lowerBound * n
            values[j] = table[code] * scale
            if let steps { steps[j] = cells[code] * abs(scale) }
        }
    }

    /// The quantizer normalises each block by its own absmax, which the reference gives exactly
    /// (the stored one is that value, or its nested 8-bit code): codes are re-rounded with the
    /// reference's absmax, and a block whose stored absmax is not that value (within the spacing of
    /// the nested code when nested, else exactly up to F32 rounding) counts as mismatched whole.
    func matchBnb4(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, block = groupSize!, table = codeTable(p)
        let first = rows.lowerBound * n, end = rows.upperBound * n
        let nested = p["absmax"].dtype == .u8
        var matching = 0, k = first
        while k < end {
            let blockIndex = k / block, blockEnd = min((blockIndex + 1) * block, end)
            let stored = absmax(blockIndex, p)
            var scale = stored
            if k == blockIndex * block && (blockEnd == (blockIndex + 1) * block || blockEnd == shape[0] * shape[1]) {
                var exact: Float = 0
                for j in k ..< blockEnd { exact = max(exact, abs(reference[j - first])) }
                var tolerance = exact * 0x1p-23
                if nested, let map = p.optional("nested_quant_map"), let top = p.optional("nested_absmax") {
                    // Half the distance between the neighbouring codes of the nested 8-bit map.
                    let code = p["absmax"].int(blockIndex)
                    tolerance += abs(map.float(min(code + 1, 255)) - map.float(max(code - 1, 0))) / 2 * abs(top.float(blockIndex / nestedBlockSize))
                }
                if abs(stored - exact) > tolerance { k = blockEnd; continue }
                scale = exact
            }
            for j in k ..< blockEnd {
                let x = reference[j - first], normalized = scale != 0 ? x / scale : 0
                var best = 0, bestDistance = Float.infinity
                for (code, value) in table.enumerated() {
                    let distance = abs(value - normalized)
                    if distance < bestDistance || (distance == bestDistance && value.sign == x.sign) { best = code; bestDistance = distance }
                }
                if best == nibble(j, p) { matching += 1 }
            }
            k = blockEnd
        }
        return matching
    }

    func decodeBnbInt8(_ rows: Range<Int>, _ p: Parts, _ values: UnsafeMutablePointer<Float>, _ steps: UnsafeMutablePointer<Float>?) {
        let n = rowLength, weight = p["weight"], scb = p["SCB"], inverse = Float(1) / Float(127)
        for (r, o) in rows.enumerated() {
            let rowScale = scb.float(o)
            for i in 0 ..< n {
                values[r * n + i] = (Float(weight.int(o * n + i)) * rowScale) * inverse
                steps?[r * n + i] = abs(rowScale) / 127
            }
        }
    }

    func matchBnbInt8(_ rows: Range<Int>, _ p: Parts, _ reference: UnsafePointer<Float>) -> Int {
        let n = rowLength, weight = p["weight"], scb = p["SCB"]
        var matching = 0
        for (r, o) in rows.enumerated() {
            let factor = Float(127) / scb.float(o)
            for i in 0 ..< n {
                let q = min(max(roundEven(reference[r * n + i] * factor), -127), 127)
                if Int(q) == weight.int(o * n + i) { matching += 1 }
            }
        }
        return matching
    }
}
