/// A bounds-checked little-endian reader over a byte buffer.
///
/// Every read checks the bytes that remain first and throws `.truncated` instead of trapping;
/// no read allocates from a count it has not checked against the remaining bytes.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int
    /// The path named in the errors this cursor throws.
    public let path: String
    /// Swap every multi-byte scalar (a big-endian file on a little-endian host).
    public var byteSwapped = false

    public init(_ bytes: UnsafeRawBufferPointer, path: String, offset: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
    }

    /// Bytes left after the cursor.
    public var remaining: Int { bytes.count - offset }

    /// Throws `.truncated` unless `count` more bytes are available; `what` names the structure.
    public func require(_ count: Int, for what: @autoclosure () -> String) throws(ReadError) {
        if count < 0 || count > remaining {
            throw ReadError(path: path, code: .truncated,
                            message: "the file ends inside \(what()): \(count) bytes needed at offset \(offset), \(max(0, remaining)) left")
        }
    }

    public mutating func skip(_ count: Int, for what: @autoclosure () -> String) throws(ReadError) {
        try require(count, for: what())
        offset += count
    }

    public mutating func seek(to newOffset: Int) { offset = newOffset }

    public mutating func read<T: FixedWidthInteger>(_: T.Type, for what: @autoclosure () -> String) throws(ReadError) -> T {
        let size = MemoryLayout<T>.size
        try require(size, for: what())
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + size]))
        }
        offset += size
        return byteSwapped ? value.byteSwapped : T(littleEndian: value)
    }

    public mutating func readFloat(for what: @autoclosure () -> String) throws(ReadError) -> Float {
        Float(bitPattern: try read(UInt32.self, for: what()))
    }

    public mutating func readDouble(for what: @autoclosure () -> String) throws(ReadError) -> Double {
        Double(bitPattern: try read(UInt64.self, for: what()))
    }

    /// A view of the next `count` bytes (no copy).
    public mutating func readBytes(_ count: Int, for what: @autoclosure () -> String) throws(ReadError) -> UnsafeRawBufferPointer {
        try require(count, for: what())
        let view = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        offset += count
        return view
    }
}
