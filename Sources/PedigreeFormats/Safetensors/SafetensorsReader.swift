/// What one safetensors file declares, after every check of formats.md section 1.3 passed.
public struct SafetensorsFile: Sendable {
    /// The tensors in file order (ascending data offsets). `byteOffset` is absolute in the file
    /// (8 + N + BEGIN) and `byteCount` = END − BEGIN, both proven to lie inside the file.
    public let tensors: [TensorInfo]
    /// The string members of `__metadata__`: nil when the key is absent (or `null`), empty when
    /// it is an empty object. Non-string members are left out and reported in `findings`.
    public let metadata: [String: String]?
    /// Deviations that do not stop the file from being read (leading whitespace, bad metadata).
    public let findings: [ReadFinding]
    /// N, the header length as declared (padding included).
    public let headerLength: Int

    public init(tensors: [TensorInfo], metadata: [String: String]?, findings: [ReadFinding], headerLength: Int) {
        self.tensors = tensors
        self.metadata = metadata
        self.findings = findings
        self.headerLength = headerLength
    }
}

extension ReadError.Code {
    /// The file is a git-lfs pointer (a small text file) saved in place of the weights.
    public static let gitLFSPointer = Self("git-lfs-pointer")
    /// The file is an HTML page (a download that returned an error or login page).
    public static let htmlPage = Self("html-page")
    /// The file is shorter than the 8-byte header length (`HeaderTooSmall`).
    public static let headerTooSmall = Self("header-too-small")
    /// The declared header length exceeds 100 000 000 bytes (`HeaderTooLarge`).
    public static let headerTooLarge = Self("header-too-large")
    /// 8 + N overflows or exceeds the file size (`InvalidHeaderLength`).
    public static let invalidHeaderLength = Self("invalid-header-length")
    /// The header bytes are not valid UTF-8 (`InvalidHeader`).
    public static let headerNotUTF8 = Self("header-not-utf8")
    /// The header is not one well-formed JSON value, or has non-whitespace after it (NUL padding included).
    public static let invalidHeaderJSON = Self("invalid-header-json")
    /// The header is valid JSON but not an object.
    public static let headerNotObject = Self("header-not-object")
    /// A tensor entry lacks `dtype`/`shape`/`data_offsets`, or one of them has the wrong type
    /// (a negative or fractional number, `data_offsets` not exactly two numbers).
    public static let invalidTensorEntry = Self("invalid-tensor-entry")
    /// A tensor's dtype is not one of `DType`'s names.
    public static let unknownDType = Self("unknown-dtype")
    /// Sorted by offsets, a tensor does not start where the previous one ended (the first at 0),
    /// or ends before it starts (`InvalidOffset`).
    public static let invalidOffset = Self("invalid-offset")
    /// A tensor's bit count is not a whole number of bytes (`MisalignedSlice`).
    public static let misalignedSlice = Self("misaligned-slice")
    /// A tensor's byte span differs from elements × bits / 8 (`TensorInvalidInfo`).
    public static let tensorInvalidInfo = Self("tensor-invalid-info")
}

/// Reads the header of a safetensors file and proves it against the file's bytes.
///
/// The checks run in the order of formats.md section 1.3 (the reference's `read_metadata` and
/// `Metadata::validate`), each failing with its own `ReadError.Code`; offsets, overflow,
/// alignment and size are checked tensor by tensor in offset order, as the reference does.
/// Two cases are recognised before any header check: git-lfs pointers and HTML pages.
///
/// Deviations from the reference, chosen for a forensics tool:
/// - a non-string value inside `__metadata__`, or a `__metadata__` that is not an object, is a
///   warning finding (the reference rejects the file); the tensors are still listed;
/// - duplicate keys are rejected as `duplicate-tensor` (the reference keeps the last one);
/// - leading whitespace before `{` is accepted with an info finding (the README forbids it,
///   the reference reader accepts it).
public enum SafetensorsReader {
    /// The largest header the reference accepts (`MAX_HEADER_SIZE`).
    public static let maxHeaderLength = 100_000_000
    /// Files below this size that start with the git-lfs signature are reported as pointers.
    public static let lfsPointerMaxSize = 1024
    static let lfsSignature = "version https://git-lfs.github.com/spec/v1"

    /// Reads and validates the safetensors file `file`.
    /// - Parameters:
    ///   - file: the mapped file.
    ///   - fileIndex: stored in every `TensorInfo.fileIndex` (the file's place in its model).
    /// - Returns: the tensors in offset order, the metadata and the findings.
    /// - Throws: `ReadError` naming `file.path`, with one of the codes declared above,
    ///   `.truncated` or `.trailingBytes`.
    public static func read(_ file: MappedFile, fileIndex: Int) throws(ReadError) -> SafetensorsFile {
        try read(file.bytes, path: file.path, fileIndex: fileIndex)
    }

    /// Reads and validates safetensors bytes held in memory; errors name `path`.
    public static func read(_ bytes: UnsafeRawBufferPointer, path: String, fileIndex: Int) throws(ReadError) -> SafetensorsFile {
        func failure(_ code: ReadError.Code, _ message: String) -> ReadError {
            ReadError(path: path, code: code, message: message)
        }
        try recogniseForeignFile(bytes, path: path)

        // 1-4: the length prefix.
        let fileSize = bytes.count
        guard fileSize >= 8 else {
            throw failure(.headerTooSmall, "the file has \(fileSize) bytes, fewer than the 8-byte header length")
        }
        var cursor = ByteCursor(bytes, path: path)
        let declared = try cursor.read(UInt64.self, for: "the header length")
        guard declared <= UInt64(Int.max) else {
            throw failure(.headerTooLarge, "header length \(declared) does not fit a machine word")
        }
        let headerLength = Int(declared)
        guard headerLength <= maxHeaderLength else {
            throw failure(.headerTooLarge, "header length \(headerLength) exceeds the limit of \(maxHeaderLength) bytes")
        }
        let (dataStart, overflow) = headerLength.addingReportingOverflow(8)
        guard !overflow, dataStart <= fileSize else {
            throw failure(.invalidHeaderLength, "header length \(headerLength) exceeds the \(fileSize - 8) bytes after the length prefix")
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[8 ..< dataStart])

        // 5: UTF-8.
        if let bad = JSONParser.firstInvalidUTF8Offset(header) {
            throw failure(.headerNotUTF8, "the header is not valid UTF-8 (byte \(bad) of the header, file offset \(8 + bad))")
        }

        // 6: JSON of the expected shape.
        let root: JSONValue
        do {
            root = try JSONParser.parse(header)
        } catch {
            throw failure(.invalidHeaderJSON, "the header is not valid JSON: \(error.reason) at header byte \(error.offset) (file offset \(8 + error.offset))")
        }
        guard case .object(let object) = root else {
            throw failure(.headerNotObject, "the header is JSON \(kindName(root)), not an object")
        }
        var findings: [ReadFinding] = []
        if let first = header.first, first != UInt8(ascii: "{") {
            var count = 0
            while count < header.count, header[count] != UInt8(ascii: "{") { count += 1 }
            findings.append(ReadFinding(severity: "info", code: "header-leading-whitespace",
                                        message: "the header starts with \(count) whitespace bytes before '{' (the format README requires '{' first; the reference reader accepts it)"))
        }

        var metadata: [String: String]?
        var entries: [Entry] = []
        entries.reserveCapacity(object.members.count)
        var sawMetadata = false
        for member in object.members {
            if member.key == "__metadata__" {
                if sawMetadata {
                    throw failure(.duplicateTensor, "the key __metadata__ appears twice in the header")
                }
                sawMetadata = true
                metadata = readMetadata(member.value, findings: &findings)
                continue
            }
            entries.append(try readEntry(name: member.key, member.value, path: path))
        }
        var seen = Set<String>()
        seen.reserveCapacity(entries.count)
        for entry in entries where !seen.insert(entry.name).inserted {
            throw failure(.duplicateTensor, "tensor \(entry.name) appears twice in the header")
        }

        // 7-10: offsets cover the data exactly; sizes match shapes, tensor by tensor.
        let ordered = entries.enumerated().sorted { a, b in
            (a.element.begin, a.element.end, a.offset) < (b.element.begin, b.element.end, b.offset)
        }.map(\.element)
        var expectedBegin: UInt64 = 0
        var byteCounts: [Int] = []
        byteCounts.reserveCapacity(ordered.count)
        for entry in ordered {
            guard entry.begin == expectedBegin, entry.end >= entry.begin else {
                let why = entry.end < entry.begin
                    ? "ends before it starts"
                    : (expectedBegin == 0 ? "does not start at 0" : "does not start where the previous tensor ends (\(expectedBegin))")
                throw failure(.invalidOffset, "tensor \(entry.name) has data_offsets [\(entry.begin), \(entry.end)], which \(why)")
            }
            expectedBegin = entry.end
            guard let elements = entry.elementCount else {
                throw failure(.validationOverflow, "tensor \(entry.name): the element count of shape \(entry.shapeText) overflows 64 bits")
            }
            let (bits, bitsOverflow) = elements.multipliedReportingOverflow(by: entry.dtype.bits)
            guard !bitsOverflow else {
                throw failure(.validationOverflow, "tensor \(entry.name): \(elements) elements × \(entry.dtype.bits) bits overflows 64 bits")
            }
            guard bits % 8 == 0 else {
                throw failure(.misalignedSlice, "tensor \(entry.name): \(elements) \(entry.dtype.rawValue) elements make \(bits) bits, not a whole number of bytes")
            }
            let size = bits / 8
            guard entry.end - entry.begin == UInt64(size) else {
                throw failure(.tensorInvalidInfo, "tensor \(entry.name): shape \(entry.shapeText) of \(entry.dtype.rawValue) needs \(size) bytes, data_offsets span \(entry.end - entry.begin)")
            }
            byteCounts.append(size)
        }

        // 11: the file is covered exactly.
        let (expected, expectedOverflow) = UInt64(dataStart).addingReportingOverflow(expectedBegin)
        if expectedOverflow || expected > UInt64(fileSize) {
            let expectedText = expectedOverflow ? "more than 2^64" : "\(expected)"
            throw failure(.truncated, "the file is truncated: expected \(expectedText) bytes, file has \(fileSize)")
        }
        if expected < UInt64(fileSize) {
            throw failure(.trailingBytes, "\(UInt64(fileSize) - expected) bytes follow the last tensor: file has \(fileSize) bytes, expected \(expected)")
        }

        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(ordered.count)
        for (entry, size) in zip(ordered, byteCounts) {
            tensors.append(TensorInfo(name: entry.name, shape: entry.shape, type: .dtype(entry.dtype), fileIndex: fileIndex,
                                      byteOffset: dataStart + Int(entry.begin), byteCount: size))
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata, findings: findings, headerLength: headerLength)
    }

    /// One tensor entry whose JSON shape was checked; its numbers are not yet checked against each other.
    struct Entry {
        let name: String
        let dtype: DType
        /// Dimensions that fit Int; `elementCount` is nil when one did not, or their product overflows.
        let shape: [Int]
        let elementCount: Int?
        let shapeText: String
        let begin: UInt64
        let end: UInt64
    }

    static func readEntry(name: String, _ value: JSONValue, path: String) throws(ReadError) -> Entry {
        func invalid(_ why: String) -> ReadError {
            ReadError(path: path, code: .invalidTensorEntry, message: "tensor \(name): \(why)")
        }
        guard case .object(let entry) = value else { throw invalid("the entry is JSON \(kindName(value)), not an object") }
        guard let dtypeValue = entry["dtype"] else { throw invalid("the entry has no dtype") }
        guard case .string(let dtypeName) = dtypeValue else { throw invalid("dtype is JSON \(kindName(dtypeValue)), not a string") }
        guard let shapeValue = entry["shape"] else { throw invalid("the entry has no shape") }
        guard case .array(let shapeItems) = shapeValue else { throw invalid("shape is JSON \(kindName(shapeValue)), not an array") }
        guard let offsetsValue = entry["data_offsets"] else { throw invalid("the entry has no data_offsets") }
        guard case .array(let offsetItems) = offsetsValue else { throw invalid("data_offsets is JSON \(kindName(offsetsValue)), not an array") }
        guard offsetItems.count == 2 else { throw invalid("data_offsets has \(offsetItems.count) numbers, not exactly 2") }

        var dims: [UInt64] = []
        dims.reserveCapacity(shapeItems.count)
        for item in shapeItems {
            guard let d = unsignedInteger(item) else {
                throw invalid("shape holds \(item.displayText), not a non-negative integer")
            }
            dims.append(d)
        }
        guard let begin = unsignedInteger(offsetItems[0]), let end = unsignedInteger(offsetItems[1]) else {
            throw invalid("data_offsets hold \(offsetItems.map(\.displayText).joined(separator: ", ")), not non-negative integers")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw ReadError(path: path, code: .unknownDType, message: "tensor \(name) has unknown dtype \(JSONWriter.quoted(dtypeName))")
        }

        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var elements: Int? = 1
        for d in dims {
            guard d <= UInt64(Int.max) else { elements = nil; shape.append(Int.max); continue }
            shape.append(Int(d))
            if let e = elements {
                let (product, overflow) = e.multipliedReportingOverflow(by: Int(d))
                elements = overflow ? nil : product
            }
        }
        let shapeText = "[" + dims.map(String.init).joined(separator: ", ") + "]"
        return Entry(name: name, dtype: dtype, shape: shape, elementCount: elements, shapeText: shapeText, begin: begin, end: end)
    }

    /// A JSON integer literal without sign, fraction or exponent that fits UInt64.
    static func unsignedInteger(_ value: JSONValue) -> UInt64? {
        guard case .number(let n) = value, n.isIntegerLiteral, !n.text.hasPrefix("-") else { return nil }
        return n.uint64
    }

    /// The string members of `__metadata__`, with a warning for each member (or whole value) that is not one.
    static func readMetadata(_ value: JSONValue, findings: inout [ReadFinding]) -> [String: String]? {
        switch value {
        case .null:
            return nil
        case .object(let object):
            var map: [String: String] = [:]
            for member in object.members {
                if case .string(let s) = member.value {
                    if map.updateValue(s, forKey: member.key) != nil {
                        findings.append(ReadFinding(code: "metadata-duplicate-key",
                                                    message: "__metadata__ key \(member.key) appears twice; the last value is kept"))
                    }
                } else {
                    findings.append(ReadFinding(code: "metadata-not-string",
                                                message: "__metadata__ key \(member.key) holds JSON \(kindName(member.value)) (\(member.value.displayText)), not a string; it is left out"))
                }
            }
            return map
        default:
            findings.append(ReadFinding(code: "metadata-not-object",
                                        message: "__metadata__ is JSON \(kindName(value)), not an object of strings; it is ignored"))
            return nil
        }
    }

    /// Throws `.gitLFSPointer` or `.htmlPage` when `bytes` is one of those instead of weights.
    static func recogniseForeignFile(_ bytes: UnsafeRawBufferPointer, path: String) throws(ReadError) {
        let signature = Array(lfsSignature.utf8)
        if bytes.count < lfsPointerMaxSize, bytes.count >= signature.count, bytes.starts(with: signature) {
            let text = String(decoding: bytes, as: UTF8.self)
            var oid = "unknown"
            var size = "unknown"
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
                if line.hasPrefix("oid ") { oid = String(line.dropFirst(4)) }
                if line.hasPrefix("size ") { size = String(line.dropFirst(5)) }
            }
            throw ReadError(path: path, code: .gitLFSPointer,
                            message: "this is a git-lfs pointer, not the weights (oid \(oid), size \(size) bytes); fetch the real file with git lfs pull")
        }
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        while start < bytes.count, start < 64, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        let lead = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< min(bytes.count, start + 9)]), as: UTF8.self).lowercased()
        if lead.hasPrefix("<!doctype") || lead.hasPrefix("<html") {
            throw ReadError(path: path, code: .htmlPage, message: "this is an HTML page, not a safetensors file (a failed or redirected download)")
        }
    }

    static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
