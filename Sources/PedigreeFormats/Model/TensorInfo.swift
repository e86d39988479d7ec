/// What a file says about one tensor, checked against the file's bytes before it is created.
///
/// `shape` is in PyTorch order (outermost first; GGUF's `ne` reversed). The data is
/// `byteCount` bytes at `byteOffset` of file `fileIndex` of its `Model`, row-major, with rows of
/// `shape.last` elements.
public struct TensorInfo: Hashable, Sendable {
    public let name: String
    public let shape: [Int]
    public let type: TensorType
    /// Which of the model's files holds the data.
    public let fileIndex: Int
    /// Absolute byte offset in that file.
    public let byteOffset: Int
    public let byteCount: Int

    public init(name: String, shape: [Int], type: TensorType, fileIndex: Int, byteOffset: Int, byteCount: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.fileIndex = fileIndex
        self.byteOffset = byteOffset
        self.byteCount = byteCount
    }

    /// Number of elements (1 for a 0-rank tensor). Shapes were checked for overflow when read.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Elements per row: the innermost dimension (1 for a 0-rank tensor).
    public var rowLength: Int { shape.last ?? 1 }

    /// Number of rows: every dimension but the innermost.
    public var rowCount: Int { shape.isEmpty ? 1 : shape.dropLast().reduce(1, *) }
}
