import PedigreeFormats

/// Whether a plain float tensor was once quantized: within blocks of consecutive elements of a
/// row, its values sit on a small evenly spaced grid (issue 3, item 3).
///
/// For each candidate block size (256, 128, 64, 32, 16 elements) every sampled block is fitted
/// with a grid: the step is the smallest gap between its distinct values, refined over the
/// span; a block fits when every value lies within a tenth of a step (plus the rounding of the
/// storage dtype) of a grid point and the grid spans at most 256 levels. The largest block size
/// at which at least `onGridShare` of the non-constant blocks fit is the block; the widest span
/// gives the bits; zero on the grid of (nearly) every block means symmetric.
public struct GridSignature: Codable, Sendable, Equatable {
    public var tensor: String
    public var blocksChecked: Int
    /// Share of the non-constant sampled blocks that fit a grid at `blockSize` (at 32 when none fits).
    public var onGridShare: Double
    public var onceQuantized: Bool
    public var bits: Int?
    public var blockSize: Int?
    public var symmetric: Bool?
    /// The ggml type with these parameters, when there is one (`Q4_0`, `Q4_1`, `Q5_0`, `Q5_1`, `Q8_0`).
    public var like: String?

    /// One line for reports: `once quantized, Q4_0-like, block 32`.
    public var description: String {
        guard onceQuantized, let bits, let blockSize else { return "not once quantized" }
        let kind = like.map { "\($0)-like" } ?? "\(bits)-bit \(symmetric == true ? "symmetric" : "affine")"
        return "once quantized, \(kind), block \(blockSize)"
    }
}

public enum GridDetector {
    static let blockSizes = [256, 128, 64, 32, 16]
    static let requiredShare = 0.9

    /// The signature of `tensor` from up to `maxElements` sampled values (whole rows, evenly
    /// spaced); nil for tensors that are not plain float matrices or embeddings.
    public static func signature(of tensor: TensorInfo, in model: Model, maxElements: Int = 1 << 17) throws(ReadError) -> GridSignature? {
        guard let format = tensor.type.floatFormat, tensor.shape.count >= 2, tensor.rowLength >= 16 else { return nil }
        let n = tensor.rowLength
        let rows = tensor.rowCount, sampled = max(1, min(rows, maxElements / n))
        var values = [Float](repeating: 0, count: sampled * n)
        try values.withUnsafeMutableBufferPointer { buffer throws(ReadError) in
            for s in 0 ..< sampled {
                let row = s * rows / sampled
                try model.decodeRows(of: tensor, row ..< row + 1, into: buffer.baseAddress! + s * n)
            }
        }
        model.releasePages(of: tensor, 0 ..< rows)   // sampled rows fault in their neighbours too
        let precision: Float = switch format { case .bf16: 0x1p-8; case .f16: 0x1p-11; case .f32, .f64: 0x1p-24 }
        return signature(name: tensor.name, values: values, rowLength: n, precision: precision)
    }

    /// The signature of rows of `rowLength` values stored with relative `precision`.
    public static func signature(name: String, values: [Float], rowLength n: Int, precision: Float) -> GridSignature {
        var fallback: (blocks: Int, share: Double)?
        for size in blockSizes where n % size == 0 {
            var fitted = 0, blocks = 0, widest = 0, zeroOnGrid = 0
            var start = 0
            while start + size <= values.count {
                defer { start += size }
                guard let fit = fitGrid(values[start ..< start + size], precision: precision) else {
                    if Set(values[start ..< start + size]).count > 1 { blocks += 1 }
                    continue
                }
                blocks += 1
                if fit.levels <= 256 {
                    fitted += 1
                    widest = max(widest, fit.levels)
                    if fit.zeroOnGrid { zeroOnGrid += 1 }
                }
            }
            let share = blocks > 0 ? Double(fitted) / Double(blocks) : 0
            if size == 32 || fallback == nil { fallback = (blocks, share) }
            if blocks > 0, share >= requiredShare {
                var bits = 1
                while (1 << bits) < widest { bits += 1 }
                let symmetric = Double(zeroOnGrid) >= requiredShare * Double(fitted)
                return GridSignature(tensor: name, blocksChecked: blocks, onGridShare: share, onceQuantized: true, bits: bits,
                                     blockSize: size, symmetric: symmetric, like: ggmlLike(bits: bits, block: size, symmetric: symmetric))
            }
        }
        return GridSignature(tensor: name, blocksChecked: fallback?.blocks ?? 0, onGridShare: fallback?.share ?? 0, onceQuantized: false)
    }

    static func ggmlLike(bits: Int, block: Int, symmetric: Bool) -> String? {
        guard block == 32 else { return nil }
        switch (bits, symmetric) {
        case (4, true): return "Q4_0"
        case (4, false): return "Q4_1"
        case (5, true): return "Q5_0"
        case (5, false): return "Q5_1"
        case (8, true): return "Q8_0"
        default: return nil
        }
    }

    /// The grid a block sits on: levels spanned (zero included when it is on the grid) and
    /// whether zero is a grid point; nil for a constant block or one that fits no grid.
    static func fitGrid(_ block: ArraySlice<Float>, precision: Float) -> (levels: Int, zeroOnGrid: Bool)? {
        let distinct = Array(Set(block.map { $0 == 0 ? 0 : $0 })).sorted()
        guard distinct.count > 1, distinct.allSatisfy(\.isFinite) else { return nil }
        var gap = Float.infinity
        for j in 1 ..< distinct.count { gap = min(gap, distinct[j] - distinct[j - 1]) }
        let low = distinct.first!, high = distinct.last!
        guard gap > 0, (high - low) / gap <= 4096 else { return nil }
        let span = ((high - low) / gap).rounded()
        let step = span > 0 ? (high - low) / span : gap
        func onGrid(_ v: Float, from origin: Float) -> Bool {
            let k = (v - origin) / step
            return abs(k - k.rounded()) * step <= 0.1 * step + 2 * precision * (abs(v) + abs(origin))
        }
        guard distinct.allSatisfy({ onGrid($0, from: low) }) else { return nil }
        let zeroOnGrid = onGrid(0, from: low)
        let levels = zeroOnGrid ? Int((max(high, 0) / step).rounded() - (min(low, 0) / step).rounded()) + 1 : Int(span) + 1
        return (levels, zeroOnGrid)
    }
}

extension Inspection {
    /// Adds the grid signature of every plain float matrix and embedding (`inspect --deep`) and
    /// a note when they say the model was once quantized.
    public mutating func addGridSignatures(_ model: Model) throws(ReadError) {
        var signatures = [GridSignature]()
        for t in model.tensors where TensorKind.of(t).carriesEvidence {
            if let s = try GridDetector.signature(of: t, in: model) { signatures.append(s) }
        }
        onceQuantized = signatures
        let found = signatures.filter(\.onceQuantized)
        if !found.isEmpty {
            let kinds = Set(found.map(\.description)).sorted().joined(separator: "; ")
            findings.append(Finding(.info, "once-quantized", "\(found.count) of \(signatures.count) float matrices sit on a quantization grid: \(kinds)"))
        }
    }
}
