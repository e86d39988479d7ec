#if canImport(Glibc)
import Glibc
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
#elseif canImport(Darwin)
import Darwin
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
#endif

/// Why `SafetensorsWriter` refused to write, with a stable code.
public struct SafetensorsWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The destination path.
    public let path: String
    public let code: Code
    /// One sentence, without the path or the code.
    public let message: String

    public init(path: String, code: Code, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    public var description: String { "\(path): \(message) [\(code.rawValue)]" }

    /// The stable kebab-case identifiers of writer refusals.
    public enum Code: String, Sendable, Equatable {
        /// A tensor is named `__metadata__`, the key reserved for the metadata map.
        case reservedName = "reserved-name"
        /// Two tensors share a name.
        case duplicateName = "duplicate-name"
        /// A dimension is negative, or elements × bits overflows or is not whole bytes.
        case invalidShape = "invalid-shape"
        /// The data does not hold exactly elements × bits / 8 bytes.
        case sizeMismatch = "size-mismatch"
        /// The serialized header exceeds `SafetensorsReader.maxHeaderLength`.
        case headerTooLarge = "header-too-large"
        /// Creating, writing or renaming the file failed.
        case writeFailed = "write-failed"
    }
}

/// Writes safetensors files that the reference reader and `SafetensorsReader` accept.
///
/// Layout guarantees (those of the reference writer, formats.md section 1.1):
/// - the header is `{"__metadata__":{…},"<name>":{"dtype":…,"shape":[…],"data_offsets":[b,e]},…}`
///   in compact JSON, metadata keys sorted by their UTF-8 bytes, padded with spaces so that N is
///   a multiple of 8;
/// - tensors are laid out back to back from offset 0, sorted by dtype descending in `DType`
///   order, then by name (UTF-8 byte order), and listed in the header in that same order.
///
/// `write` goes through a temporary file in the destination's directory and renames it into
/// place only when every byte was written, so a failure never leaves a partial file behind.
public enum SafetensorsWriter {
    /// One tensor to write.
    public struct Tensor: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let source: Source

        /// Where the bytes come from.
        public enum Source: Sendable {
            /// The raw little-endian, row-major bytes.
            case bytes([UInt8])
            /// A producer for large tensors: it is called once, during the write, and must hand
            /// `emit` exactly `byteCount` bytes in order, in as many chunks as it likes. Any other
            /// total fails the write with `.sizeMismatch` and leaves no file.
            case stream(byteCount: Int, produce: @Sendable (_ emit: (UnsafeRawBufferPointer) -> Void) -> Void)
        }

        /// A tensor whose bytes are held in memory.
        public init(name: String, dtype: DType, shape: [Int], data: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.source = .bytes(data)
        }

        /// A tensor whose `byteCount` bytes are produced while the file is written.
        public init(name: String, dtype: DType, shape: [Int], byteCount: Int,
                    produce: @escaping @Sendable (_ emit: (UnsafeRawBufferPointer) -> Void) -> Void) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.source = .stream(byteCount: byteCount, produce: produce)
        }

        var declaredByteCount: Int {
            switch source {
            case .bytes(let b): b.count
            case .stream(let n, _): n
            }
        }
    }

    /// The header JSON (padded) and the tensors in data order, after every refusal check.
    struct Plan {
        let header: [UInt8]
        let ordered: [Tensor]
    }

    /// The whole file as bytes (for tensors held in memory; streamed tensors are produced here too).
    /// - Throws: `SafetensorsWriteError` (path `"<memory>"`) for the refusals listed on its `Code`.
    public static func serialize(_ tensors: [Tensor], metadata: [String: String]? = nil) throws(SafetensorsWriteError) -> [UInt8] {
        let plan = try makePlan(tensors, metadata: metadata, path: "<memory>")
        var out: [UInt8] = []
        var length = UInt64(plan.header.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: plan.header)
        for tensor in plan.ordered {
            switch tensor.source {
            case .bytes(let b): out.append(contentsOf: b)
            case .stream(let n, let produce):
                let before = out.count
                produce { chunk in out.append(contentsOf: chunk) }
                if out.count - before != n {
                    throw SafetensorsWriteError(path: "<memory>", code: .sizeMismatch,
                                                message: "tensor \(tensor.name) produced \(out.count - before) bytes, not the declared \(n)")
                }
            }
        }
        return out
    }

    /// Writes `tensors` (and `metadata`, when given) to `path`, replacing any file there.
    /// - Throws: `SafetensorsWriteError` for the refusals listed on its `Code`; nothing is left at
    ///   `path` (an earlier file there stays untouched) and the temporary file is removed.
    public static func write(_ tensors: [Tensor], metadata: [String: String]? = nil, to path: String) throws(SafetensorsWriteError) {
        let plan = try makePlan(tensors, metadata: metadata, path: path)
        func failed(_ what: String) -> SafetensorsWriteError {
            SafetensorsWriteError(path: path, code: .writeFailed, message: "\(what): \(String(cString: strerror(errno)))")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((directory + "." + base + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failed("cannot create a temporary file beside it") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var committed = false
        defer {
            if !committed { unlink(temporary) }
        }
        var closed = false
        defer { if !closed { close(fd) } }

        var pending: SafetensorsWriteError?
        func put(_ chunk: UnsafeRawBufferPointer) {
            guard pending == nil, var p = chunk.baseAddress else { return }
            var left = chunk.count
            while left > 0 {
                let n = systemWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    pending = failed("cannot write")
                    return
                }
                left -= n
                p += n
            }
        }
        var length = UInt64(plan.header.count).littleEndian
        withUnsafeBytes(of: &length) { put($0) }
        plan.header.withUnsafeBytes { put($0) }
        for tensor in plan.ordered {
            switch tensor.source {
            case .bytes(let b): b.withUnsafeBytes { put($0) }
            case .stream(let n, let produce):
                var produced = 0
                produce { chunk in
                    produced += chunk.count
                    if produced <= n { put(chunk) }
                }
                if produced != n, pending == nil {
                    pending = SafetensorsWriteError(path: path, code: .sizeMismatch,
                                                    message: "tensor \(tensor.name) produced \(produced) bytes, not the declared \(n)")
                }
            }
            if let pending { throw pending }
        }
        if let pending { throw pending }
        guard fsync(fd) == 0 else { throw failed("cannot flush") }
        closed = true
        guard close(fd) == 0 else { throw failed("cannot close") }
        guard rename(temporary, path) == 0 else { throw failed("cannot rename the temporary file into place") }
        committed = true
    }

    /// Checks names, shapes and sizes, orders the tensors and builds the padded header.
    static func makePlan(_ tensors: [Tensor], metadata: [String: String]?, path: String) throws(SafetensorsWriteError) -> Plan {
        func refuse(_ code: SafetensorsWriteError.Code, _ message: String) -> SafetensorsWriteError {
            SafetensorsWriteError(path: path, code: code, message: message)
        }
        var names = Set<String>()
        for tensor in tensors {
            if tensor.name == "__metadata__" {
                throw refuse(.reservedName, "a tensor may not be named __metadata__ (the key is reserved for the metadata map)")
            }
            if !names.insert(tensor.name).inserted {
                throw refuse(.duplicateName, "tensor \(tensor.name) is given twice")
            }
            var elements = 1
            for d in tensor.shape {
                guard d >= 0 else { throw refuse(.invalidShape, "tensor \(tensor.name) has a negative dimension in shape \(tensor.shape)") }
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw refuse(.invalidShape, "tensor \(tensor.name): the element count of shape \(tensor.shape) overflows") }
                elements = p
            }
            let (bits, o) = elements.multipliedReportingOverflow(by: tensor.dtype.bits)
            guard !o, bits % 8 == 0 else {
                throw refuse(.invalidShape, "tensor \(tensor.name): \(elements) \(tensor.dtype.rawValue) elements are not a whole number of bytes")
            }
            guard tensor.declaredByteCount == bits / 8 else {
                throw refuse(.sizeMismatch, "tensor \(tensor.name): shape \(tensor.shape) of \(tensor.dtype.rawValue) needs \(bits / 8) bytes, the data has \(tensor.declaredByteCount)")
            }
        }
        let ordered = tensors.sorted { a, b in
            if a.dtype != b.dtype { return a.dtype > b.dtype }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var json = "{"
        var first = true
        if let metadata {
            json += "\"__metadata__\":{"
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            json += keys.map { JSONWriter.quoted($0) + ":" + JSONWriter.quoted(metadata[$0]!) }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for tensor in ordered {
            if !first { json += "," }
            first = false
            let end = offset + tensor.declaredByteCount
            json += JSONWriter.quoted(tensor.name)
            json += ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        guard header.count <= SafetensorsReader.maxHeaderLength else {
            throw refuse(.headerTooLarge, "the header would take \(header.count) bytes, above the limit of \(SafetensorsReader.maxHeaderLength)")
        }
        return Plan(header: header, ordered: ordered)
    }
}
