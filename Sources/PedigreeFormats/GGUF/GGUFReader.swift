/// The header of one GGUF file, checked against the file's bytes (formats.md section 3).
///
/// Every tensor in `tensors` either has a known type whose data lies inside the file, aligned to
/// `alignment`, or is `.unknownGGML` (listed, never sized or decoded; a finding says so).
public struct GGUFFile: Sendable {
    /// The format version: 1, 2 or 3.
    public let version: Int
    /// Metadata key/value pairs in file order; keys are non-empty and unique.
    public let entries: [GGUFEntry]
    /// Tensor infos in file order, with absolute byte offsets and shapes in PyTorch order.
    public let tensors: [TensorInfo]
    /// `general.alignment`, or 32 when absent; a nonzero power of two.
    public let alignment: Int
    /// Absolute offset of the data section (the end of the header when there are no tensors).
    public let dataOffset: Int
    /// Warnings and notes: unknown tensor types, non-contiguous data, trailing bytes...
    public let findings: [ReadFinding]

    /// The value of `key`, if present.
    public func value(_ key: String) -> GGUFValue? { entries.first { $0.key == key }?.value }
}

extension ReadError.Code {
    /// The file does not start with the magic `GGUF`.
    public static let badMagic = Self("bad-magic")
    /// The GGUF version is 0 or newer than 3.
    public static let unsupportedVersion = Self("unsupported-version")
    /// The version reads byte-swapped: a big-endian GGUF, which this reader does not decode.
    public static let byteSwapped = Self("byte-swapped")
    /// A declared count (tensors, keys, array elements) cannot fit in the bytes that remain.
    public static let countTooLarge = Self("count-too-large")
    /// Metadata arrays nest deeper than `GGUFReader.maxNestingDepth`.
    public static let nestingTooDeep = Self("nesting-too-deep")
    /// A metadata value (or array element) has a type id outside GGUF's 0...12.
    public static let unknownValueType = Self("unknown-value-type")
    /// Two metadata entries have the same key.
    public static let duplicateKey = Self("duplicate-key")
    /// A metadata key is the empty string.
    public static let emptyKey = Self("empty-key")
    /// `general.alignment` is not a UINT32 holding a nonzero power of two.
    public static let invalidAlignment = Self("invalid-alignment")
    /// A tensor declares more than 4 dimensions (GGML_MAX_DIMS).
    public static let tooManyDimensions = Self("too-many-dimensions")
    /// A tensor dimension is negative.
    public static let invalidDimension = Self("invalid-dimension")
    /// A tensor's innermost dimension is not a whole number of its type's blocks.
    public static let blockSizeMismatch = Self("block-size-mismatch")
    /// A tensor's data offset is not a multiple of the alignment.
    public static let misalignedTensor = Self("misaligned-tensor")
    /// A file of a `-NNNNN-of-MMMMM.gguf` split set is missing.
    public static let splitMissing = Self("split-missing")
    /// The split files disagree with their names (`split.count`, `split.no`, `split.tensors.count`).
    public static let splitMismatch = Self("split-mismatch")
}

/// Reads GGUF files (versions 1 to 3, little-endian) and GGUF split sets.
///
/// Checks run in header order before anything is allocated from a count: every count is checked
/// against the bytes that remain (each element needs at least its minimum encoded size), every
/// read is bounds-checked, array nesting is bounded, and every tensor of a known type is checked
/// to lie inside the file. Deviations that do not stop a reader (gguf.cpp's strict contiguous
/// layout, unknown type ids, trailing bytes) become findings.
public enum GGUFReader {
    /// The deepest array nesting accepted (an array of arrays has depth 2).
    public static let maxNestingDepth = 16
    /// The alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// GGML_MAX_DIMS.
    public static let maxDimensions = 4
    /// Tensor names must be shorter than this (GGML_MAX_NAME); longer names are a warning.
    public static let maxNameLength = 64

    /// Opens a single GGUF file, or the whole split set when its name is `<prefix>-NNNNN-of-MMMMM.gguf`.
    ///
    /// Splits are opened in order 1...M, each its own file index; tensors are concatenated in split
    /// order, metadata comes from the first split. `Model.path` is `path` as given.
    /// - Throws: `ReadError`, any code of `read(_:fileIndex:)`, plus `.splitMissing`, `.splitMismatch`,
    ///   `.duplicateTensor` (a name in two splits), `.notFound`, `.unreadable`.
    public static func openModel(path: String) throws(ReadError) -> Model {
        guard let split = SplitName(path: path) else {
            let file = try MappedFile(path: path)
            let gguf = try read(file, fileIndex: 0)
            var findings = gguf.findings
            if let count = gguf.value("split.count")?.intValue, count > 1 {
                findings.append(ReadFinding(code: "split-set-incomplete",
                                            message: "the file declares split.count = \(count), but its name is not of the form <prefix>-NNNNN-of-MMMMM.gguf, so only this file was read"))
            }
            return Model(path: path, format: .gguf, version: gguf.version, files: [file], tensors: gguf.tensors,
                         ggufMetadata: gguf.entries, findings: findings)
        }
        var files = [MappedFile]()
        var parts = [GGUFFile]()
        for number in 1 ... split.count {
            let partPath = split.path(of: number)
            let file: MappedFile
            do {
                file = try MappedFile(path: partPath)
            } catch where error.code == .notFound {
                throw ReadError(path: partPath, code: .splitMissing,
                                message: "split \(number) of \(split.count) is missing")
            }
            let part = try read(file, fileIndex: number - 1)
            if let declared = part.value("split.count")?.intValue, declared != split.count {
                throw ReadError(path: partPath, code: .splitMismatch,
                                message: "split.count is \(declared), but the file name says \(split.count) splits")
            }
            if let no = part.value("split.no")?.intValue, no != number - 1 {
                throw ReadError(path: partPath, code: .splitMismatch,
                                message: "split.no is \(no), but the file name says split \(number) (split.no \(number - 1))")
            }
            files.append(file)
            parts.append(part)
        }
        var tensors = [TensorInfo]()
        var seen = Set<String>()
        var findings = [ReadFinding]()
        for (i, part) in parts.enumerated() {
            for tensor in part.tensors {
                guard seen.insert(tensor.name).inserted else {
                    throw ReadError(path: files[i].path, code: .duplicateTensor,
                                    message: "tensor \(tensor.name) appears in more than one split")
                }
                tensors.append(tensor)
            }
            findings += part.findings
        }
        if let total = parts[0].value("split.tensors.count")?.intValue, total != tensors.count {
            throw ReadError(path: files[0].path, code: .splitMismatch,
                            message: "split.tensors.count is \(total), but the \(split.count) splits hold \(tensors.count) tensors")
        }
        return Model(path: path, format: .gguf, version: parts[0].version, files: files, tensors: tensors,
                     ggufMetadata: parts[0].entries, findings: findings)
    }

    /// Reads and checks the header of one mapped GGUF file.
    ///
    /// - Parameters:
    ///   - file: the mapped file; errors name `file.path`.
    ///   - fileIndex: stored in every `TensorInfo` this file yields.
    /// - Returns: the header; tensor byte offsets are absolute offsets in `file`.
    /// - Throws: `ReadError` with `.truncated`, `.badMagic`, `.unsupportedVersion`, `.byteSwapped`,
    ///   `.countTooLarge`, `.nestingTooDeep`, `.unknownValueType`, `.emptyKey`, `.duplicateKey`,
    ///   `.invalidAlignment`, `.duplicateTensor`, `.tooManyDimensions`, `.invalidDimension`,
    ///   `.validationOverflow`, `.blockSizeMismatch`, `.misalignedTensor`.
    public static func read(_ file: MappedFile, fileIndex: Int) throws(ReadError) -> GGUFFile {
        var parser = Parser(cursor: ByteCursor(file.bytes, path: file.path))
        return try parser.parse(fileIndex: fileIndex)
    }
}

// MARK: - Parsing

/// GGUF metadata type ids (formats.md 3.3).
private enum ValueType: UInt32 {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
}

private struct Parser {
    var cursor: ByteCursor
    var version = 0
    var findings = [ReadFinding]()

    var path: String { cursor.path }
    /// v1 stores counts, lengths and dims as u32; v2 and v3 as u64.
    var lengthSize: Int { version == 1 ? 4 : 8 }

    func fail(_ code: ReadError.Code, _ message: String) -> ReadError {
        ReadError(path: path, code: code, message: message)
    }

    /// Reads a count, length or dimension (u32 in v1, u64 after), rejecting values above Int.max.
    mutating func readLength(for what: @autoclosure () -> String) throws(ReadError) -> Int {
        if version == 1 { return Int(try cursor.read(UInt32.self, for: what())) }
        let raw = try cursor.read(UInt64.self, for: what())
        guard let value = Int(exactly: raw) else {
            throw fail(.countTooLarge, "\(what()) is \(raw), more than the file can hold")
        }
        return value
    }

    mutating func readString(for what: @autoclosure () -> String) throws(ReadError) -> String {
        let length = try readLength(for: "the length of \(what())")
        guard length <= cursor.remaining else {
            throw fail(.truncated, "\(what()) declares \(length) bytes at offset \(cursor.offset), but only \(cursor.remaining) remain")
        }
        let bytes = try cursor.readBytes(length, for: what())
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The fewest bytes one value of `type` can take (used to bound counts before looping).
    func minimumSize(of type: ValueType) -> Int {
        switch type {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: lengthSize
        case .array: 4 + lengthSize
        }
    }

    func valueType(_ raw: UInt32, in what: String) throws(ReadError) -> ValueType {
        guard let type = ValueType(rawValue: raw) else {
            throw fail(.unknownValueType, "\(what) has value type \(raw); GGUF defines 0 to 12")
        }
        return type
    }

    /// Reads one value; arrays recurse at most `GGUFReader.maxNestingDepth` levels.
    mutating func readValue(_ type: ValueType, depth: Int, key: String) throws(ReadError) -> GGUFValue {
        let what = "the value of \(key)"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, for: what))
        case .int8: return .int8(try cursor.read(Int8.self, for: what))
        case .uint16: return .uint16(try cursor.read(UInt16.self, for: what))
        case .int16: return .int16(try cursor.read(Int16.self, for: what))
        case .uint32: return .uint32(try cursor.read(UInt32.self, for: what))
        case .int32: return .int32(try cursor.read(Int32.self, for: what))
        case .float32: return .float32(try cursor.readFloat(for: what))
        case .bool: return .bool(try cursor.read(UInt8.self, for: what) != 0)
        case .uint64: return .uint64(try cursor.read(UInt64.self, for: what))
        case .int64: return .int64(try cursor.read(Int64.self, for: what))
        case .float64: return .float64(try cursor.readDouble(for: what))
        case .string: return .string(try readString(for: what))
        case .array:
            guard depth < GGUFReader.maxNestingDepth else {
                throw fail(.nestingTooDeep, "the value of \(key) nests arrays deeper than \(GGUFReader.maxNestingDepth) levels")
            }
            let rawElement = try cursor.read(UInt32.self, for: "the element type of \(key)")
            let element = try valueType(rawElement, in: "an element of \(key)")
            let count = try readLength(for: "the element count of \(key)")
            let (needed, overflow) = count.multipliedReportingOverflow(by: minimumSize(of: element))
            guard !overflow, needed <= cursor.remaining else {
                throw fail(.countTooLarge, "\(key) declares \(count) elements at offset \(cursor.offset), but only \(cursor.remaining) bytes remain")
            }
            var items = [GGUFValue]()
            items.reserveCapacity(count)
            for _ in 0 ..< count { items.append(try readValue(element, depth: depth + 1, key: key)) }
            return .array(elementType: rawElement, items)
        }
    }

    mutating func parse(fileIndex: Int) throws(ReadError) -> GGUFFile {
        let fileSize = cursor.bytes.count
        // 1. Magic and version.
        try cursor.require(4, for: "the GGUF magic")
        let magic = try cursor.readBytes(4, for: "the GGUF magic")
        guard magic.elementsEqual([0x47, 0x47, 0x55, 0x46]) else {
            throw fail(.badMagic, "the file does not start with the GGUF magic")
        }
        let rawVersion = try cursor.read(UInt32.self, for: "the GGUF version")
        if rawVersion != 0 && rawVersion & 0xFFFF == 0 {
            let hex = String(rawVersion, radix: 16)
            let padded = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
            throw fail(.byteSwapped, "big-endian GGUF (the version reads as 0x\(padded), version \(rawVersion.byteSwapped) byte-swapped); only little-endian GGUF is supported")
        }
        guard (1 ... 3).contains(rawVersion) else {
            throw fail(.unsupportedVersion, "GGUF version \(rawVersion) is not supported (versions 1 to 3 are)")
        }
        version = Int(rawVersion)

        // 2. Counts, bounded by the bytes that remain before anything is allocated.
        let tensorCount = try readLength(for: "the tensor count")
        let kvCount = try readLength(for: "the metadata count")
        let minimumKV = lengthSize + 4 + 1          // key length, value type, a 1-byte value (key bytes not counted)
        let minimumTensor = lengthSize + 4 + 4 + 8  // name length, n_dims, type, offset
        let (kvBytes, o1) = kvCount.multipliedReportingOverflow(by: minimumKV)
        let (tensorBytes, o2) = tensorCount.multipliedReportingOverflow(by: minimumTensor)
        let (headerBytes, o3) = kvBytes.addingReportingOverflow(tensorBytes)
        guard !o1, !o2, !o3, headerBytes <= cursor.remaining else {
            throw fail(.countTooLarge, "the header declares \(tensorCount) tensors and \(kvCount) metadata entries, more than the \(cursor.remaining) remaining bytes can hold")
        }

        // 3. Metadata.
        var entries = [GGUFEntry]()
        entries.reserveCapacity(kvCount)
        var keys = Set<String>()
        for index in 0 ..< kvCount {
            let key = try readString(for: "metadata key \(index)")
            guard !key.isEmpty else { throw fail(.emptyKey, "metadata entry \(index) has an empty key") }
            guard keys.insert(key).inserted else { throw fail(.duplicateKey, "the metadata key \(key) appears twice") }
            let raw = try cursor.read(UInt32.self, for: "the value type of \(key)")
            let type = try valueType(raw, in: key)
            entries.append(GGUFEntry(key: key, value: try readValue(type, depth: 0, key: key)))
        }

        // 4. Alignment.
        var alignment = GGUFReader.defaultAlignment
        if let entry = entries.first(where: { $0.key == "general.alignment" }) {
            guard case .uint32(let a) = entry.value else {
                throw fail(.invalidAlignment, "general.alignment has type \(entry.value.typeName); it must be UINT32")
            }
            guard a != 0, a & (a - 1) == 0 else {
                throw fail(.invalidAlignment, "general.alignment is \(a); it must be a nonzero power of two")
            }
            alignment = Int(a)
        }

        // 5. Tensor infos.
        struct RawTensor { let name: String; let ne: [Int]; let type: TensorType; let offset: Int; let byteCount: Int? }
        var raws = [RawTensor]()
        raws.reserveCapacity(tensorCount)
        var names = Set<String>()
        for index in 0 ..< tensorCount {
            let name = try readString(for: "the name of tensor \(index)")
            guard names.insert(name).inserted else { throw fail(.duplicateTensor, "the tensor name \(name) appears twice") }
            if name.utf8.count >= GGUFReader.maxNameLength {
                findings.append(ReadFinding(code: "long-tensor-name",
                                            message: "the tensor name is \(name.utf8.count) bytes; ggml allows at most \(GGUFReader.maxNameLength - 1)",
                                            tensor: name))
            }
            let dims = try cursor.read(UInt32.self, for: "the dimension count of \(name)")
            guard dims <= GGUFReader.maxDimensions else {
                throw fail(.tooManyDimensions, "tensor \(name) has \(dims) dimensions; at most \(GGUFReader.maxDimensions) are allowed")
            }
            var ne = [Int]()
            var elements = 1
            for _ in 0 ..< Int(dims) {
                let d: Int
                if version == 1 {
                    d = Int(try cursor.read(UInt32.self, for: "a dimension of \(name)"))
                } else {
                    let raw = try cursor.read(Int64.self, for: "a dimension of \(name)")
                    guard raw >= 0 else { throw fail(.invalidDimension, "tensor \(name) has the negative dimension \(raw)") }
                    d = Int(raw)
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail(.validationOverflow, "the element count of tensor \(name) overflows") }
                elements = product
                ne.append(d)
            }
            let typeID = try cursor.read(UInt32.self, for: "the type of \(name)")
            let offsetRaw = try cursor.read(UInt64.self, for: "the data offset of \(name)")
            guard let offset = Int(exactly: offsetRaw) else {
                throw fail(.validationOverflow, "tensor \(name) has the data offset \(offsetRaw), which overflows")
            }
            guard offset % alignment == 0 else {
                throw fail(.misalignedTensor, "tensor \(name) has the data offset \(offset), not a multiple of the alignment \(alignment)")
            }
            var type = TensorType.unknownGGML(id: typeID)
            var byteCount: Int?
            if let g = GGMLType.withID(typeID), g.isDefined {
                type = .ggml(g)
                let inner = ne.first ?? 1
                guard inner % g.blockElements == 0 else {
                    throw fail(.blockSizeMismatch, "tensor \(name) has rows of \(inner) elements, not a multiple of the \(g.name) block size \(g.blockElements)")
                }
                guard let bytes = g.byteCount(elements: elements) else {
                    throw fail(.validationOverflow, "the byte size of tensor \(name) overflows")
                }
                byteCount = bytes
            } else {
                let known = GGMLType.withID(typeID).map { " (\($0.name), removed from ggml)" } ?? ""
                findings.append(ReadFinding(code: "unknown-tensor-type",
                                            message: "tensor \(name) has ggml type id \(typeID)\(known); it is listed but cannot be sized or decoded",
                                            tensor: name))
            }
            raws.append(RawTensor(name: name, ne: ne, type: type, offset: offset, byteCount: byteCount))
        }

        // 6. Data section: align(end of infos) when there are tensors.
        let headerEnd = cursor.offset
        let dataOffset = tensorCount > 0 ? Self.align(headerEnd, alignment) ?? Int.max : headerEnd
        if tensorCount > 0 && dataOffset <= fileSize && dataOffset > headerEnd {
            let padding = UnsafeRawBufferPointer(rebasing: cursor.bytes[headerEnd ..< dataOffset])
            if padding.contains(where: { $0 != 0 }) {
                findings.append(ReadFinding(code: "nonzero-padding",
                                            message: "the padding between the tensor infos and the data section is not all zero"))
            }
        }

        // 7. Tensor data: inside the file; contiguous in info order as gguf.cpp requires (else a warning).
        var tensors = [TensorInfo]()
        tensors.reserveCapacity(raws.count)
        var expected: Int? = 0
        var dataEnd = dataOffset
        var allKnown = true
        for raw in raws {
            let shape = Array(raw.ne.reversed())
            guard let bytes = raw.byteCount else {
                allKnown = false
                expected = nil
                tensors.append(TensorInfo(name: raw.name, shape: shape, type: raw.type, fileIndex: fileIndex,
                                          byteOffset: dataOffset &+ raw.offset, byteCount: 0))
                continue
            }
            let (start, o4) = dataOffset.addingReportingOverflow(raw.offset)
            let (end, o5) = start.addingReportingOverflow(bytes)
            guard !o4, !o5 else { throw fail(.validationOverflow, "the data range of tensor \(raw.name) overflows") }
            guard end <= fileSize else {
                throw fail(.truncated, "tensor \(raw.name) needs \(bytes) bytes at offset \(start) (up to \(end)), but the file has \(fileSize) bytes")
            }
            if let e = expected, e != raw.offset {
                findings.append(ReadFinding(code: "non-contiguous-tensor-data",
                                            message: "tensor \(raw.name) has data offset \(raw.offset), but gguf.cpp expects \(e) (tensors packed in info order, each padded to \(alignment))",
                                            tensor: raw.name))
            }
            expected = Self.align(raw.offset + bytes, alignment)
            dataEnd = max(dataEnd, end)
            tensors.append(TensorInfo(name: raw.name, shape: shape, type: raw.type, fileIndex: fileIndex,
                                      byteOffset: start, byteCount: bytes))
        }

        // 8. Bytes after the last tensor's padded end.
        if allKnown {
            let paddedEnd = tensorCount > 0 ? (Self.align(dataEnd, alignment) ?? dataEnd) : headerEnd
            if fileSize > paddedEnd {
                findings.append(ReadFinding(severity: "info", code: "trailing-bytes",
                                            message: "\(fileSize - paddedEnd) bytes follow the end of the last tensor's data"))
            }
        }
        return GGUFFile(version: version, entries: entries, tensors: tensors, alignment: alignment,
                        dataOffset: dataOffset, findings: findings)
    }

    /// `x` rounded up to a multiple of `a` (a power of two), or nil on overflow.
    static func align(_ x: Int, _ a: Int) -> Int? {
        let (sum, overflow) = x.addingReportingOverflow(a - 1)
        return overflow ? nil : sum & ~(a - 1)
    }
}

// MARK: - Split names

/// A file name of the form `<prefix>-NNNNN-of-MMMMM.gguf` (split numbers are 1-based).
private struct SplitName {
    let directory: String
    let prefix: String
    let count: Int

    init?(path: String) {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        directory = slash.map { String(path[...$0]) } ?? ""
        let suffix = ".gguf"
        // "-00001-of-00003.gguf" is 20 characters.
        let tailLength = 1 + 5 + 4 + 5 + suffix.count
        let utf8 = Array(name.utf8)
        guard utf8.count > tailLength, name.hasSuffix(suffix) else { return nil }
        let tail = Array(utf8[(utf8.count - tailLength)...])
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in tail[range] {
                guard (0x30 ... 0x39).contains(b) else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            return value
        }
        guard tail[0] == UInt8(ascii: "-"), Array(tail[6 ..< 10]) == Array("-of-".utf8),
              let number = digits(1 ..< 6), let count = digits(10 ..< 15),
              number >= 1, count >= 1, number <= count else { return nil }
        prefix = String(decoding: utf8[..<(utf8.count - tailLength)], as: UTF8.self)
        self.count = count
    }

    func path(of number: Int) -> String {
        func five(_ n: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
        return directory + prefix + "-" + five(number) + "-of-" + five(count) + ".gguf"
    }
}
