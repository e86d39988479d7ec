#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a little-endian GGUF v3 file: metadata of any `GGUFValue`, then tensors in the order
/// they were added, each padded with zeros to the alignment (gguf.cpp's strict layout, so
/// `GGUFReader` reads the result back without findings).
///
/// The writer refuses what the reader would refuse: duplicate or empty keys and names, shapes with
/// more than 4 dimensions or a partial block per row, and data whose byte count does not match
/// the shape and type. Files are written to a temporary file beside the target and renamed into
/// place, so a reader never sees half a file.
public struct GGUFWriter: Sendable {
    /// Why a file could not be built or written.
    public struct WriteError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// One tensor to be written.
    public struct Tensor: Sendable {
        public let name: String
        /// PyTorch order (outermost first); written as GGUF `ne` reversed.
        public let shape: [Int]
        public let type: GGMLType
        public let data: [UInt8]
    }

    /// The alignment of the data section and of each tensor (a nonzero power of two).
    public let alignment: Int
    public private(set) var entries: [GGUFEntry] = []
    public private(set) var tensors: [Tensor] = []

    /// A writer with the given alignment; an alignment other than 32 is recorded as
    /// `general.alignment` (UINT32) when the file is encoded.
    public init(alignment: Int = GGUFReader.defaultAlignment) throws(WriteError) {
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw WriteError("the alignment \(alignment) is not a nonzero power of two")
        }
        self.alignment = alignment
    }

    /// Adds a metadata entry. `general.alignment` is managed by `init(alignment:)` and refused here.
    public mutating func add(_ key: String, _ value: GGUFValue) throws(WriteError) {
        guard !key.isEmpty else { throw WriteError("a metadata key is empty") }
        guard key != "general.alignment" else { throw WriteError("set general.alignment through init(alignment:)") }
        guard !entries.contains(where: { $0.key == key }) else { throw WriteError("the metadata key \(key) is added twice") }
        try Self.checkValue(value, key: key, depth: 0)
        entries.append(GGUFEntry(key: key, value: value))
    }

    /// Adds a tensor. `data` must hold exactly the bytes of `shape` in `type`.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, data: [UInt8]) throws(WriteError) {
        guard !name.isEmpty else { throw WriteError("a tensor name is empty") }
        guard !tensors.contains(where: { $0.name == name }) else { throw WriteError("the tensor \(name) is added twice") }
        guard shape.count <= GGUFReader.maxDimensions else { throw WriteError("tensor \(name) has \(shape.count) dimensions; at most 4 are allowed") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw WriteError("tensor \(name) has a negative dimension") }
        guard type.isDefined else { throw WriteError("tensor \(name) has the removed type \(type.name)") }
        guard (shape.last ?? 1) % type.blockElements == 0 else {
            throw WriteError("tensor \(name) has rows of \(shape.last ?? 1) elements, not a multiple of the \(type.name) block size \(type.blockElements)")
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw WriteError("the element count of tensor \(name) overflows") }
            elements = p
        }
        guard let expected = type.byteCount(elements: elements) else { throw WriteError("the byte size of tensor \(name) overflows") }
        guard expected == data.count else {
            throw WriteError("tensor \(name) (\(type.name) \(shape)) needs \(expected) bytes, but \(data.count) were given")
        }
        tensors.append(Tensor(name: name, shape: shape, type: type, data: data))
    }

    /// The complete file.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerSize() + tensors.reduce(0) { $0 + $1.data.count + alignment })
        out += [0x47, 0x47, 0x55, 0x46]
        Self.put(UInt32(3), &out)
        Self.put(UInt64(tensors.count), &out)
        let allEntries = alignment == GGUFReader.defaultAlignment
            ? entries
            : [GGUFEntry(key: "general.alignment", value: .uint32(UInt32(alignment)))] + entries
        Self.put(UInt64(allEntries.count), &out)
        for entry in allEntries {
            Self.putString(entry.key, &out)
            Self.put(Self.typeID(entry.value), &out)
            Self.putValue(entry.value, &out)
        }
        var offset = 0
        for tensor in tensors {
            Self.putString(tensor.name, &out)
            Self.put(UInt32(tensor.shape.count), &out)
            for d in tensor.shape.reversed() { Self.put(Int64(d), &out) }
            Self.put(tensor.type.id, &out)
            Self.put(UInt64(offset), &out)
            offset = Self.align(offset + tensor.data.count, alignment)
        }
        if !tensors.isEmpty {
            out += [UInt8](repeating: 0, count: Self.align(out.count, alignment) - out.count)
            for tensor in tensors {
                out += tensor.data
                out += [UInt8](repeating: 0, count: Self.align(tensor.data.count, alignment) - tensor.data.count)
            }
        }
        return out
    }

    /// Writes the file to `path` through a temporary file in the same directory and a rename.
    public func write(to path: String) throws(WriteError) {
        let bytes = encoded()
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                written += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw WriteError("cannot write \(path): \(failure)")
        }
    }

    // MARK: - Encoding

    /// write(2); named apart from `write(to:)`.
    private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }

    private func headerSize() -> Int { 24 + entries.count * 32 + tensors.count * 64 }

    private static func align(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private static func putString(_ s: String, _ out: inout [UInt8]) {
        put(UInt64(s.utf8.count), &out)
        out += s.utf8
    }

    static func typeID(_ value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    private static func checkValue(_ value: GGUFValue, key: String, depth: Int) throws(WriteError) {
        guard case .array(let elementType, let items) = value else { return }
        guard depth < GGUFReader.maxNestingDepth else { throw WriteError("the value of \(key) nests arrays deeper than \(GGUFReader.maxNestingDepth) levels") }
        guard elementType <= 12 else { throw WriteError("the value of \(key) has the element type \(elementType)") }
        for item in items {
            guard typeID(item) == elementType else {
                throw WriteError("the array \(key) of element type \(elementType) holds a \(item.typeName)")
            }
            try checkValue(item, key: key, depth: depth + 1)
        }
    }

    private static func putValue(_ value: GGUFValue, _ out: inout [UInt8]) {
        switch value {
        case .uint8(let v): put(v, &out)
        case .int8(let v): put(v, &out)
        case .uint16(let v): put(v, &out)
        case .int16(let v): put(v, &out)
        case .uint32(let v): put(v, &out)
        case .int32(let v): put(v, &out)
        case .float32(let v): put(v.bitPattern, &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): putString(s, &out)
        case .uint64(let v): put(v, &out)
        case .int64(let v): put(v, &out)
        case .float64(let v): put(v.bitPattern, &out)
        case .array(let elementType, let items):
            put(elementType, &out)
            put(UInt64(items.count), &out)
            for item in items { putValue(item, &out) }
        }
    }
}
