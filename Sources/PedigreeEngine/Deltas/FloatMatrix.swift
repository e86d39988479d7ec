import PedigreeFormats

/// A dense row-major Float32 matrix, the working form of one tensor for the delta, adapter and
/// merge analyses (which need whole tensors; the streamed measures never do).
public struct FloatMatrix: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "a \(rows)x\(columns) matrix needs \(rows * columns) values")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: 0, count: rows * columns))
    }

    public var count: Int { values.count }

    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The transpose.
    public var transposed: FloatMatrix {
        var out = FloatMatrix(rows: columns, columns: rows)
        values.withUnsafeBufferPointer { s in
            out.values.withUnsafeMutableBufferPointer { d in
                for r in 0 ..< rows { for c in 0 ..< columns { d[c * rows + r] = s[r * columns + c] } }
            }
        }
        return out
    }

    /// Rows `0 ..< rows` of `tensor` in canonical (Hugging Face) row order, decoded to Float32.
    /// - Throws: `ReadError` `.unsupportedType` when the tensor's type has no decoder.
    /// The transpose of the row-major rows × columns `x` (columns × rows), in tiles that stay in cache.
    static func transposed(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        let tile = 32
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                for r0 in stride(from: 0, to: rows, by: tile) {
                    for c0 in stride(from: 0, to: columns, by: tile) {
                        for r in r0 ..< min(r0 + tile, rows) {
                            for c in c0 ..< min(c0 + tile, columns) { y[c * rows + r] = x[r * columns + c] }
                        }
                    }
                }
            }
        }
        return y
    }

    public static func load(_ model: Model, _ tensor: TensorInfo, map: RowMap = .identity, rows: Int? = nil) throws(ReadError) -> FloatMatrix {
        let n = rows ?? tensor.rowCount
        var m = FloatMatrix(rows: n, columns: tensor.rowLength)
        if n == 0 || tensor.rowLength == 0 { return m }
        var failure: ReadError?
        m.values.withUnsafeMutableBufferPointer { buffer in
            do throws(ReadError) {
                try PairMeasurer.decode(model, tensor, map: map, rows: 0 ..< n, into: buffer.baseAddress!)
            } catch { failure = error }
        }
        if let failure { throw failure }
        model.releasePages(of: tensor, 0 ..< tensor.rowCount)   // the copy is what is used from here on
        return m
    }

    /// The rows `rowIndices` (canonical order, ascending) of `tensor`, decoded to Float32: a regular
    /// sample of a large tensor for the analyses that need whole rows but not every row.
    public static func load(_ model: Model, _ tensor: TensorInfo, map: RowMap = .identity, rowIndices: [Int]) throws(ReadError) -> FloatMatrix {
        var m = FloatMatrix(rows: rowIndices.count, columns: tensor.rowLength)
        if rowIndices.isEmpty || tensor.rowLength == 0 { return m }
        var failure: ReadError?
        m.values.withUnsafeMutableBufferPointer { buffer in
            for (slot, row) in rowIndices.enumerated() {
                do throws(ReadError) {
                    try PairMeasurer.decode(model, tensor, map: map, rows: row ..< row + 1, into: buffer.baseAddress! + slot * tensor.rowLength)
                } catch { failure = error; return }
            }
        }
        if let failure { throw failure }
        // Each sampled row faults in the pages around it too: give them back.
        model.releasePages(of: tensor, 0 ..< tensor.rowCount)
        return m
    }
}
