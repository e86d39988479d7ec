import CPedigreeKernels
import Foundation
import PedigreeFormats

/// Streams a tensor pair through the measures in blocks of rows, without loading whole tensors.
///
/// Rows are decoded to Float32 into two scratch buffers of about `blockElements` values each,
/// folded into running sums (`pdg_pair_accumulate`), checked for rounding and re-quantization,
/// and sampled for the hidden-permutation test; the pages behind the cursor are released.
public enum PairMeasurer {
    public struct Options: Sendable {
        /// Residual-stream units sampled for the permutation test (the test's d).
        public var maxUnits = 512
        /// Multiply-adds the permutation test may spend per tensor (sets the positions sampled).
        public var sampleBudget = 1 << 28
        /// Multiply-adds it may spend over a whole comparison: each evidence-carrying tensor gets an
        /// equal share of it, at most `sampleBudget` and at least `minimumSampleBudget`. The null is
        /// exact at any sample size, so a smaller share costs power per tensor, never calibration.
        public var totalSampleBudget = 1 << 32
        public var minimumSampleBudget = 1 << 24
        /// Values decoded per block and side.
        public var blockElements = 1 << 18
        public init() {}
    }

    public static func measure(_ pair: TensorPair, a modelA: Model, b modelB: Model,
                               options: Options = Options()) throws(ReadError) -> PairMeasures {
        let ta = pair.a, tb = pair.b
        let rowLength = ta.rowLength, rows = pair.rows
        var measures = PairMeasures()

        // Bit identity: same type, same row order, same bytes over the rows compared.
        if ta.type == tb.type, pair.rowMapA == pair.rowMapB, let rowBytes = TensorDecoder.byteCount(of: ta.type, elements: rowLength) {
            let da = modelA.data(of: ta), db = modelB.data(of: tb)
            let length = rows * rowBytes
            measures.bitIdentical = length == 0 || (length <= da.count && length <= db.count
                && memcmp(da.baseAddress!, db.baseAddress!, length) == 0)
        }
        for (model, tensor) in [(modelA, ta), (modelB, tb)] where !TensorDecoder.canDecode(tensor.type) {
            throw ReadError(path: model.path, code: .unsupportedType,
                            message: "tensor \(tensor.name) has type \(tensor.type.name), which this build cannot decode yet")
        }

        // Conversion check set-up.
        var rounding: RoundingCheck?
        var roundingFormats: (wideIsA: Bool, format: Int32)?
        var reverseFormat: Int32?
        var reverseMismatches: Int64 = 0
        if let fa = ta.type.floatFormat, let fb = tb.type.floatFormat, fa != fb {
            if fa.contains(fb) {
                rounding = RoundingCheck(widerSide: "a", narrowFormat: fb.rawValue)
                roundingFormats = (true, kernelFormat(fb))
            } else if fb.contains(fa) {
                rounding = RoundingCheck(widerSide: "b", narrowFormat: fa.rawValue)
                roundingFormats = (false, kernelFormat(fa))
            } else {
                rounding = RoundingCheck(widerSide: nil, narrowFormat: fb.rawValue)
                roundingFormats = (true, kernelFormat(fb))
                reverseFormat = kernelFormat(fa)
            }
        }

        // Re-quantization set-up.
        var requant: RequantizationCheck?
        var quantizer: Quantizer?
        if ta.type.isBlockQuantized != tb.type.isBlockQuantized {
            let quantizedIsA = ta.type.isBlockQuantized
            let quantizedTensor = quantizedIsA ? ta : tb
            if case .ggml(let g) = quantizedTensor.type, (quantizedIsA ? tb : ta).type.floatFormat != nil {
                quantizer = Quantizer(type: g, quantizedIsA: quantizedIsA)
                requant = RequantizationCheck(quantizedSide: quantizedIsA ? "a" : "b", type: g.name, available: quantizer != nil)
            }
        }

        // Hidden-permutation sample set-up.
        var sampler: Sampler?
        if pair.kind.carriesEvidence, pair.a.shape.count >= 2 {
            sampler = Sampler(axis: pair.hiddenAxis ?? 1, joint: pair.hiddenAxis != nil, rows: rows, rowLength: rowLength, options: options)
        }

        let rowsPerBlock = max(1, min(rows, options.blockElements / max(rowLength, 1)))
        let bufferA = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * rowLength)
        let bufferB = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * rowLength)
        defer { bufferA.deallocate(); bufferB.deallocate() }

        // Plain float pairs with nothing to check per value are folded straight from the mapped
        // bytes (the same sums as decoding first); only sampled rows are decoded.
        var direct: (a: Int32, b: Int32, rowBytesA: Int, rowBytesB: Int)?
        if roundingFormats == nil, quantizer == nil, pair.rowMapA == .identity, pair.rowMapB == .identity,
           let fa = ta.type.floatFormat, let fb = tb.type.floatFormat, fa != .f64, fb != .f64,
           let bytesA = TensorDecoder.byteCount(of: ta.type, elements: rowLength),
           let bytesB = TensorDecoder.byteCount(of: tb.type, elements: rowLength) {
            direct = (kernelFormat(fa), kernelFormat(fb), bytesA, bytesB)
        }

        var releaser = PageReleaser(modelA: modelA, ta, release: pair.rowMapA == .identity,
                                    modelB: modelB, tb, release: pair.rowMapB == .identity)
        var start = 0
        while start < rows {
            let count = min(rowsPerBlock, rows - start)
            let n = count * rowLength
            let block = start ..< start + count
            let sampled = direct == nil ? [] : sampler?.sampledRows(in: block) ?? []
            if let direct, sampled.count * 4 <= count {
                let da = modelA.data(of: ta).baseAddress! + start * direct.rowBytesA
                let db = modelB.data(of: tb).baseAddress! + start * direct.rowBytesB
                pdg_pair_accumulate_encoded(da, direct.a, db, direct.b, n, &measures.sums)
                for row in sampled {
                    try decode(modelA, ta, map: .identity, rows: row ..< row + 1, into: bufferA)
                    try decode(modelB, tb, map: .identity, rows: row ..< row + 1, into: bufferB)
                    sampler!.gather(bufferA, bufferB, rows: row ..< row + 1)
                }
                start += count
                releaser.advance(to: start, last: start == rows)
                continue
            }
            try decode(modelA, ta, map: pair.rowMapA, rows: block, into: bufferA)
            try decode(modelB, tb, map: pair.rowMapB, rows: block, into: bufferB)
            pdg_pair_accumulate(bufferA, bufferB, n, &measures.sums)
            if let (wideIsA, format) = roundingFormats {
                var mismatches: Int64 = 0, inexact: Int64 = 0
                pdg_rounding_check(wideIsA ? bufferA : bufferB, wideIsA ? bufferB : bufferA, n, format, &mismatches, &inexact)
                rounding!.mismatches += mismatches
                rounding!.inexact += inexact
                rounding!.checked += Int64(n)
                if let reverseFormat {
                    var unused: Int64 = 0
                    pdg_rounding_check(bufferB, bufferA, n, reverseFormat, &reverseMismatches, &unused)
                }
            }
            if let quantizer {
                let quantizedModel = quantizer.quantizedIsA ? modelA : modelB
                let quantizedTensor = quantizer.quantizedIsA ? ta : tb
                let map = quantizer.quantizedIsA ? pair.rowMapA : pair.rowMapB
                let floats = quantizer.quantizedIsA ? bufferB : bufferA
                let (blocks, matching) = quantizer.check(floats, rows: start ..< start + count, rowLength: rowLength,
                                                         stored: quantizedModel.data(of: quantizedTensor), map: map,
                                                         storedRows: quantizedTensor.rowCount)
                requant!.blocks += blocks
                requant!.matchingBlocks += matching
            }
            sampler?.gather(bufferA, bufferB, rows: start ..< start + count)
            start += count
            releaser.advance(to: start, last: start == rows)
        }
        if reverseFormat != nil, let current = rounding, reverseMismatches < current.mismatches {
            rounding!.mismatches = reverseMismatches
            rounding!.narrowFormat = ta.type.floatFormat!.rawValue
        }
        measures.rounding = rounding
        measures.requantization = requant
        measures.sample = sampler?.sample
        return measures
    }

    static func kernelFormat(_ format: FloatFormat) -> Int32 {
        switch format {
        case .f16: Int32(PDG_FORMAT_F16)
        case .bf16: Int32(PDG_FORMAT_BF16)
        case .f32, .f64: Int32(PDG_FORMAT_F32)
        }
    }

    static func decode(_ model: Model, _ tensor: TensorInfo, map: RowMap, rows: Range<Int>,
                       into buffer: UnsafeMutablePointer<Float>) throws(ReadError) {
        if map == .identity {
            try model.decodeRows(of: tensor, rows, into: buffer)
            return
        }
        let rowLength = tensor.rowLength
        for (i, row) in rows.enumerated() {
            let stored = map.storedRow(row, rows: tensor.rowCount)
            try model.decodeRows(of: tensor, stored ..< stored + 1, into: buffer + i * rowLength)
        }
    }
}

/// Gives the pages of rows already read back to the kernel, a few MB at a time: each release
/// unmaps pages on every core that runs the process, so fewer, larger releases cost less, while
/// the resident window stays a few MB per side.
struct PageReleaser {
    static let windowBytes = 8 << 20
    let modelA: Model, ta: TensorInfo, releaseA: Bool
    let modelB: Model, tb: TensorInfo, releaseB: Bool
    let rowsPerRelease: Int
    var released = 0

    init(modelA: Model, _ ta: TensorInfo, release releaseA: Bool, modelB: Model, _ tb: TensorInfo, release releaseB: Bool) {
        self.modelA = modelA; self.ta = ta; self.releaseA = releaseA
        self.modelB = modelB; self.tb = tb; self.releaseB = releaseB
        let rowBytes = max(TensorDecoder.byteCount(of: ta.type, elements: ta.rowLength) ?? 1,
                           TensorDecoder.byteCount(of: tb.type, elements: tb.rowLength) ?? 1, 1)
        rowsPerRelease = max(1, Self.windowBytes / rowBytes)
    }

    /// Rows before `row` have been read; releases them once a window is full, or when `last`.
    mutating func advance(to row: Int, last: Bool) {
        guard row - released >= rowsPerRelease || (last && row > released) else { return }
        if releaseA { modelA.releasePages(of: ta, released ..< row) }
        if releaseB { modelB.releasePages(of: tb, released ..< row) }
        released = row
    }
}

/// Collects the regular sample of `HiddenSample` while rows stream past.
///
/// Rows arrive in increasing order, so the next sampled row is found by a cursor. Rows that are
/// positions (hidden axis 1) are gathered position-major, with sequential writes, and transposed
/// to the unit-major layout of `HiddenSample` once at the end.
struct Sampler {
    let axis: Int
    let unitIndex: [Int]       // units sampled (columns when axis == 1, rows when axis == 0)
    let positionIndex: [Int]   // positions sampled along the other axis
    let rowLength: Int
    let units: Int
    let positions: Int
    let joint: Bool
    private let sampledRows: [Int]   // increasing; slot k holds sampledRows[k]
    private var nextSlot = 0
    private var a: [Float]
    private var b: [Float]

    init?(axis: Int, joint: Bool, rows: Int, rowLength: Int, options: PairMeasurer.Options) {
        let unitsTotal = axis == 1 ? rowLength : rows
        let positionsTotal = axis == 1 ? rows : rowLength
        let units = min(unitsTotal, options.maxUnits)
        guard units >= 8, positionsTotal >= 2 else { return nil }
        let positions = min(positionsTotal, max(16, options.sampleBudget / (units * units)))
        self.axis = axis
        self.joint = joint
        self.rowLength = rowLength
        self.units = units
        self.positions = positions
        unitIndex = (0 ..< units).map { $0 * unitsTotal / units }
        positionIndex = (0 ..< positions).map { $0 * positionsTotal / positions }
        sampledRows = axis == 1 ? positionIndex : unitIndex
        a = [Float](repeating: 0, count: units * positions)
        b = [Float](repeating: 0, count: units * positions)
    }

    mutating func gather(_ sourceA: UnsafePointer<Float>, _ sourceB: UnsafePointer<Float>, rows: Range<Int>) {
        let width = axis == 1 ? units : positions   // values gathered per sampled row
        let columns = axis == 1 ? unitIndex : positionIndex
        let sampledRows = self.sampledRows
        var slot = nextSlot
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in
                columns.withUnsafeBufferPointer { columns in
                    while slot < sampledRows.count, sampledRows[slot] < rows.upperBound {
                        let row = sampledRows[slot]
                        if row >= rows.lowerBound {
                            let ra = sourceA + (row - rows.lowerBound) * rowLength
                            let rb = sourceB + (row - rows.lowerBound) * rowLength
                            let da = a.baseAddress! + slot * width, db = b.baseAddress! + slot * width
                            for k in 0 ..< width {
                                da[k] = ra[columns[k]]
                                db[k] = rb[columns[k]]
                            }
                        }
                        slot += 1
                    }
                }
            }
        }
        nextSlot = slot
    }

    /// The sampled rows within `rows` not gathered yet, in order.
    func sampledRows(in rows: Range<Int>) -> [Int] {
        var found = [Int](), slot = nextSlot
        while slot < sampledRows.count, sampledRows[slot] < rows.upperBound {
            if sampledRows[slot] >= rows.lowerBound { found.append(sampledRows[slot]) }
            slot += 1
        }
        return found
    }

    /// The sample, unit-major.
    var sample: HiddenSample {
        guard axis == 1 else { return HiddenSample(units: units, positions: positions, joint: joint, a: a, b: b) }
        return HiddenSample(units: units, positions: positions, joint: joint,
                            a: FloatMatrix.transposed(a, rows: positions, columns: units),
                            b: FloatMatrix.transposed(b, rows: positions, columns: units))
    }
}

/// ggml's reference quantizer for one type, used to check that stored codes re-quantize exactly.
struct Quantizer {
    let type: GGMLType
    let quantizedIsA: Bool
    let function: (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void

    init?(type: GGMLType, quantizedIsA: Bool) {
        self.type = type
        self.quantizedIsA = quantizedIsA
        switch type.name {
        case "Q8_0": function = { pdg_quantize_q8_0_ref($0, $1, $2) }
        case "Q4_0": function = { pdg_quantize_q4_0_ref($0, $1, $2) }
        case "Q4_1": function = { pdg_quantize_q4_1_ref($0, $1, $2) }
        case "Q5_0": function = { pdg_quantize_q5_0_ref($0, $1, $2) }
        case "Q5_1": function = { pdg_quantize_q5_1_ref($0, $1, $2) }
        case "Q2_K": function = { pdg_quantize_q2_k_ref($0, $1, $2) }
        case "Q3_K": function = { pdg_quantize_q3_k_ref($0, $1, $2) }
        case "Q4_K": function = { pdg_quantize_q4_k_ref($0, $1, $2) }
        case "Q5_K": function = { pdg_quantize_q5_k_ref($0, $1, $2) }
        case "Q6_K": function = { pdg_quantize_q6_k_ref($0, $1, $2) }
        default: return nil
        }
    }

    /// Re-quantizes each float row and counts the blocks whose bytes equal the stored ones.
    func check(_ floats: UnsafePointer<Float>, rows: Range<Int>, rowLength: Int, stored: UnsafeRawBufferPointer,
               map: RowMap, storedRows: Int) -> (blocks: Int64, matching: Int64) {
        guard rowLength % type.blockElements == 0 else { return (0, 0) }
        let blocksPerRow = rowLength / type.blockElements
        let rowBytes = blocksPerRow * type.bytesPerBlock
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 16)
        defer { scratch.deallocate() }
        var matching: Int64 = 0
        for (i, row) in rows.enumerated() {
            function(floats + i * rowLength, scratch, rowLength)
            let storedRow = stored.baseAddress! + map.storedRow(row, rows: storedRows) * rowBytes
            for block in 0 ..< blocksPerRow where memcmp(scratch + block * type.bytesPerBlock,
                                                         storedRow + block * type.bytesPerBlock, type.bytesPerBlock) == 0 {
                matching += 1
            }
        }
        return (Int64(rows.count * blocksPerRow), matching)
    }
}
