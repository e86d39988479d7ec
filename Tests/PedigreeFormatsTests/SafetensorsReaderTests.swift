import Foundation
import Testing
@testable import PedigreeFormats

/// Builds a safetensors file: the little-endian length (the header's own unless `length` is
/// given), the header text, then `data`.
func safetensorsBytes(_ header: String, _ data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var out = withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Array($0) }
    out += h
    out += data
    return out
}

func readSafetensors(_ bytes: [UInt8], path: String = "mem.safetensors") throws(ReadError) -> SafetensorsFile {
    let result: Result<SafetensorsFile, ReadError> = bytes.withUnsafeBytes { buffer in
        do throws(ReadError) { return .success(try SafetensorsReader.read(buffer, path: path, fileIndex: 3)) } catch { return .failure(error) }
    }
    return try result.get()
}

func safetensorsError(_ bytes: [UInt8]) -> ReadError? {
    do { _ = try readSafetensors(bytes); return nil } catch { return error }
}

@Suite struct SafetensorsReaderTests {
    let entryA = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    let entryB = #""b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}"#

    // MARK: one test per error code, in formats.md 1.3 order

    @Test func headerTooSmall() {
        #expect(safetensorsError([])?.code == .headerTooSmall)
        let e = safetensorsError([1, 2, 3, 4, 5, 6, 7])
        #expect(e?.code == .headerTooSmall)
        #expect(e?.message.contains("7 bytes") == true)
    }

    @Test func headerTooLarge() {
        let e = safetensorsError(safetensorsBytes("{}", length: 100_000_001))
        #expect(e?.code == .headerTooLarge)
        #expect(e?.message.contains("100000001") == true)
        #expect(safetensorsError(safetensorsBytes("{}", length: UInt64.max))?.code == .headerTooLarge)
        #expect(safetensorsError(safetensorsBytes("{}", length: 1 << 63))?.code == .headerTooLarge)
    }

    @Test func invalidHeaderLength() {
        let e = safetensorsError(safetensorsBytes("{}", length: 100))
        #expect(e?.code == .invalidHeaderLength)
        #expect(e?.message == "header length 100 exceeds the 2 bytes after the length prefix")
        #expect(safetensorsError(safetensorsBytes("{}", length: 100_000_000))?.code == .invalidHeaderLength)
    }

    @Test func headerNotUTF8() {
        var bytes = safetensorsBytes(#"{"xy":{}}"#)
        bytes[10] = 0xFF
        bytes[11] = 0xFE
        let e = safetensorsError(bytes)
        #expect(e?.code == .headerNotUTF8)
        #expect(e?.message.contains("byte 2 of the header") == true)
    }

    @Test func invalidHeaderJSON() {
        #expect(safetensorsError(safetensorsBytes(#"{"a":"#))?.code == .invalidHeaderJSON)
        #expect(safetensorsError(safetensorsBytes(""))?.code == .invalidHeaderJSON)
        let trailing = safetensorsError(safetensorsBytes(#"{},"__metadata__":{}}"#))
        #expect(trailing?.code == .invalidHeaderJSON)
        #expect(trailing?.message.contains("trailing characters at header byte 2") == true)
        let nul = safetensorsError(safetensorsBytes("{}\0\0\0\0\0\0"))
        #expect(nul?.code == .invalidHeaderJSON)
        #expect(nul?.message.contains("trailing characters") == true)
        #expect(safetensorsError(safetensorsBytes("\0\0{}"))?.code == .invalidHeaderJSON)
    }

    @Test func headerNotObject() {
        let e = safetensorsError(safetensorsBytes("[{}]    "))
        #expect(e?.code == .headerNotObject)
        #expect(e?.message == "the header is JSON array, not an object")
        #expect(safetensorsError(safetensorsBytes(#""x""#))?.code == .headerNotObject)
        #expect(safetensorsError(safetensorsBytes("null"))?.code == .headerNotObject)
    }

    @Test func invalidTensorEntry() {
        let cases: [(String, String)] = [
            (#"{"t":{"shape":[1],"data_offsets":[0,4]}}"#, "no dtype"),
            (#"{"t":{"dtype":"F32","data_offsets":[0,4]}}"#, "no shape"),
            (#"{"t":{"dtype":"F32","shape":[1]}}"#, "no data_offsets"),
            (#"{"t":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#, "dtype is JSON number"),
            (#"{"t":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}"#, "shape is JSON number"),
            (#"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "shape holds -1"),
            (#"{"t":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, "shape holds 1.0"),
            (#"{"t":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, "shape holds 1"),
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, "3 numbers, not exactly 2"),
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4]}}"#, "1 numbers, not exactly 2"),
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, "not non-negative integers"),
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}"#, "not non-negative integers"),
            (#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}"#, "not non-negative integers"),
            (#"{"t":[1,2]}"#, "the entry is JSON array"),
        ]
        for (header, why) in cases {
            let e = safetensorsError(safetensorsBytes(header, [0, 0, 0, 0]))
            #expect(e?.code == .invalidTensorEntry, "\(header)")
            #expect(e?.message.hasPrefix("tensor t: ") == true && e?.message.contains(why) == true, "\(header): \(e?.message ?? "accepted")")
        }
    }

    @Test func unknownDType() {
        let e = safetensorsError(safetensorsBytes(#"{"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]))
        #expect(e?.code == .unknownDType)
        #expect(e?.message == #"tensor w has unknown dtype "F17""#)
        #expect(safetensorsError(safetensorsBytes(#"{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]))?.code == .unknownDType)
    }

    @Test func duplicateTensor() {
        let e = safetensorsError(safetensorsBytes("{\(entryA),\(entryA)}", Array(repeating: 0, count: 8)))
        #expect(e?.code == .duplicateTensor)
        #expect(e?.message == "tensor a appears twice in the header")
        #expect(safetensorsError(safetensorsBytes(#"{"__metadata__":{},"__metadata__":{}}"#))?.code == .duplicateTensor)
    }

    @Test func invalidOffset() {
        let hole = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#
        let e = safetensorsError(safetensorsBytes(hole, Array(repeating: 0, count: 24)))
        #expect(e?.code == .invalidOffset)
        #expect(e?.message == "tensor b has data_offsets [16, 24], which does not start where the previous tensor ends (8)")
        let overlap = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        #expect(safetensorsError(safetensorsBytes(overlap, Array(repeating: 0, count: 16)))?.message.hasPrefix("tensor b ") == true)
        let late = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(safetensorsError(safetensorsBytes(late, Array(repeating: 0, count: 8)))?.message.contains("does not start at 0") == true)
        let backwards = #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}}"#
        let b = safetensorsError(safetensorsBytes(backwards, Array(repeating: 0, count: 4)))
        #expect(b?.code == .invalidOffset)
    }

    @Test func validationOverflow() {
        let header = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}}"#
        let e = safetensorsError(safetensorsBytes(header, Array(repeating: 0, count: 16)))
        #expect(e?.code == .validationOverflow)
        #expect(e?.message.hasPrefix("tensor a:") == true)
        // Elements fit, elements × bits does not.
        let bits = #"{"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,16]}}"#
        #expect(safetensorsError(safetensorsBytes(bits, Array(repeating: 0, count: 16)))?.code == .validationOverflow)
        // One dimension alone above Int.max.
        let dim = #"{"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,16]}}"#
        #expect(safetensorsError(safetensorsBytes(dim, Array(repeating: 0, count: 16)))?.code == .validationOverflow)
    }

    @Test func misalignedSlice() {
        let e = safetensorsError(safetensorsBytes(#"{"q":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, [0, 0]))
        #expect(e?.code == .misalignedSlice)
        #expect(e?.message == "tensor q: 3 F4 elements make 12 bits, not a whole number of bytes")
        #expect(safetensorsError(safetensorsBytes(#"{"q":{"dtype":"F6_E2M3","shape":[1],"data_offsets":[0,1]}}"#, [0]))?.code == .misalignedSlice)
    }

    @Test func tensorInvalidInfo() {
        let e = safetensorsError(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}"#, Array(repeating: 0, count: 16)))
        #expect(e?.code == .tensorInvalidInfo)
        #expect(e?.message == "tensor a: shape [2, 3] of F32 needs 24 bytes, data_offsets span 16")
    }

    @Test func truncatedTwoBytesShort() throws {
        let header = "{\(entryA),\(entryB)}"
        let full = safetensorsBytes(header, Array(repeating: 1, count: 16))
        let short = Array(full.dropLast(2))
        let e = try #require(safetensorsError(short))
        #expect(e.code == .truncated)
        #expect(e.message == "the file is truncated: expected \(full.count) bytes, file has \(full.count - 2)")
        #expect(e.path == "mem.safetensors")
    }

    @Test func trailingBytes() throws {
        let full = safetensorsBytes("{\(entryA)}", Array(repeating: 1, count: 8))
        let e = try #require(safetensorsError(full + [9, 9, 9]))
        #expect(e.code == .trailingBytes)
        #expect(e.message == "3 bytes follow the last tensor: file has \(full.count + 3) bytes, expected \(full.count)")
        // Data bytes after a header with no tensors are trailing bytes too.
        #expect(safetensorsError(safetensorsBytes("{}", [0]))?.code == .trailingBytes)
    }

    @Test func gitLFSPointer() throws {
        let path = Fixtures.path("malformed/safetensors/lfs_pointer/model.safetensors")
        do {
            _ = try SafetensorsReader.read(try MappedFile(path: path), fileIndex: 0)
            Issue.record("accepted an lfs pointer")
        } catch {
            #expect(error.code == .gitLFSPointer)
            #expect(error.path == path)
            #expect(error.message.contains("oid sha256:4d3c1f5e2a8b7c6d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"))
            #expect(error.message.contains("size 537049232 bytes"))
        }
    }

    @Test func htmlPage() {
        #expect(safetensorsError(Array("<!DOCTYPE html><html><body>Not found</body></html>".utf8))?.code == .htmlPage)
        #expect(safetensorsError(Array("\n  <HTML><head></head></HTML>".utf8))?.code == .htmlPage)
        #expect(safetensorsError(Array("<html>".utf8))?.code == .htmlPage)
    }

    // MARK: valid files

    @Test func offsetsAreAbsoluteAndInDataOrder() throws {
        // Key order in the header is irrelevant: b is listed first but lies second.
        let header = "{\(entryB),\(entryA)}"
        let f = try readSafetensors(safetensorsBytes(header, Array(0 ..< 16)))
        let n = header.utf8.count
        #expect(f.tensors.map(\.name) == ["a", "b"])
        #expect(f.tensors[0] == TensorInfo(name: "a", shape: [2], type: .dtype(.f32), fileIndex: 3, byteOffset: 8 + n, byteCount: 8))
        #expect(f.tensors[1] == TensorInfo(name: "b", shape: [2, 2], type: .dtype(.f16), fileIndex: 3, byteOffset: 8 + n + 8, byteCount: 8))
        #expect(f.metadata == nil)
        #expect(f.findings.isEmpty)
        #expect(f.headerLength == n)
    }

    @Test func zeroElementTensorBetweenNormalOnes() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"empty":{"dtype":"F32","shape":[2,0],"data_offsets":[8,8]},"c":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        let f = try readSafetensors(safetensorsBytes(header, Array(repeating: 0, count: 16)))
        #expect(f.tensors.map(\.name) == ["a", "empty", "c"])
        #expect(f.tensors[1].byteCount == 0)
        #expect(f.tensors[1].shape == [2, 0])
        #expect(f.tensors[1].elementCount == 0)
    }

    @Test func onlyZeroElementTensorsAndScalars() throws {
        let zeros = #"{"z0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"z1":{"dtype":"I32","shape":[3,0,5],"data_offsets":[0,0]}}"#
        let f = try readSafetensors(safetensorsBytes(zeros))
        #expect(f.tensors.map(\.byteCount) == [0, 0])
        #expect(Set(f.tensors.map(\.name)) == ["z0", "z1"])
        let scalar = try readSafetensors(safetensorsBytes(#"{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8)))
        #expect(scalar.tensors[0].shape == [])
        #expect(scalar.tensors[0].elementCount == 1)
        let empty = try readSafetensors(safetensorsBytes("{}      "))
        #expect(empty.tensors.isEmpty)
    }

    @Test func metadataAbsentEmptyNullAndNonString() throws {
        let data = Array(repeating: UInt8(0), count: 8)
        #expect(try readSafetensors(safetensorsBytes("{\(entryA)}", data)).metadata == nil)
        #expect(try readSafetensors(safetensorsBytes(#"{"__metadata__":{},\#(entryA)}"#, data)).metadata == [:])
        let null = try readSafetensors(safetensorsBytes(#"{"__metadata__":null,\#(entryA)}"#, data))
        #expect(null.metadata == nil)
        #expect(null.findings.isEmpty)
        let mixed = try readSafetensors(safetensorsBytes(#"{"__metadata__":{"format":"pt","step":5,"cfg":{"x":1}},\#(entryA)}"#, data))
        #expect(mixed.metadata == ["format": "pt"])
        #expect(mixed.tensors.map(\.name) == ["a"])
        #expect(mixed.findings.map(\.code) == ["metadata-not-string", "metadata-not-string"])
        #expect(mixed.findings.allSatisfy { $0.severity == "warning" })
        #expect(mixed.findings[0].message.contains("key step holds JSON number (5)"))
        let notObject = try readSafetensors(safetensorsBytes(#"{"__metadata__":"pt",\#(entryA)}"#, data))
        #expect(notObject.metadata == nil)
        #expect(notObject.findings.map(\.code) == ["metadata-not-object"])
    }

    @Test func leadingAndTrailingWhitespace() throws {
        let data = Array(repeating: UInt8(0), count: 8)
        let lead = try readSafetensors(safetensorsBytes(" \t\n\r{\(entryA)}", data))
        #expect(lead.tensors.map(\.name) == ["a"])
        #expect(lead.findings.map(\.code) == ["header-leading-whitespace"])
        #expect(lead.findings[0].severity == "info")
        #expect(lead.findings[0].message.contains("4 whitespace bytes"))
        let trail = try readSafetensors(safetensorsBytes("{\(entryA)} \t\r\n   ", data))
        #expect(trail.tensors.map(\.name) == ["a"])
        #expect(trail.findings.isEmpty)
    }

    @Test func extraEntryFieldsAreIgnored() throws {
        let f = try readSafetensors(safetensorsBytes(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"note":{"x":[1]}}}"#, [7]))
        #expect(f.tensors.map(\.type) == [.dtype(.u8)])
    }

    @Test func everyDType() throws {
        var entries: [String] = []
        var offset = 0
        for dtype in DType.allCases {
            let bytes = 8 * dtype.bits / 8 // 8 elements: whole bytes for every dtype
            entries.append(#""t_\#(dtype.rawValue)":{"dtype":"\#(dtype.rawValue)","shape":[2,4],"data_offsets":[\#(offset),\#(offset + bytes)]}"#)
            offset += bytes
        }
        let f = try readSafetensors(safetensorsBytes("{" + entries.joined(separator: ",") + "}", Array(repeating: 0, count: offset)))
        #expect(f.tensors.map(\.type) == DType.allCases.map { .dtype($0) })
        #expect(f.tensors.first { $0.name == "t_F4" }?.byteCount == 4)
        #expect(f.tensors.first { $0.name == "t_F6_E3M2" }?.byteCount == 6)
        #expect(f.tensors.first { $0.name == "t_C64" }?.byteCount == 64)
    }

    // MARK: fixtures

    /// The code each `malformed/safetensors` fixture that the manifest expects to fail must give.
    static let fixtureCodes: [String: ReadError.Code] = [
        "empty.safetensors": .headerTooSmall,
        "five_bytes.safetensors": .headerTooSmall,
        "header_len_past_eof.safetensors": .invalidHeaderLength,
        "header_len_2pow63.safetensors": .headerTooLarge,
        "header_not_utf8.safetensors": .headerNotUTF8,
        "header_json_array.safetensors": .headerNotObject,
        "header_invalid_json.safetensors": .invalidHeaderJSON,
        "unknown_dtype.safetensors": .unknownDType,
        "shape_size_mismatch.safetensors": .tensorInvalidInfo,
        "shape_overflow.safetensors": .validationOverflow,
        "offsets_overlap.safetensors": .invalidOffset,
        "offsets_hole.safetensors": .invalidOffset,
        "data_truncated.safetensors": .truncated,
        "trailing_junk.safetensors": .trailingBytes,
        "duplicate_key.safetensors": .duplicateTensor,
        "lfs_pointer/model.safetensors": .gitLFSPointer,
        "broken_writer_header.safetensors": .invalidHeaderJSON,
    ]

    @Test func malformedFixturesMeetTheManifest() throws {
        let manifest = try MappedFile(path: Fixtures.path("MANIFEST.json"))
        let root = try JSONParser.parse(manifest.bytes)
        let entries = try #require(root["malformed"]?.arrayValue).filter { $0["path"]?.stringValue?.hasPrefix("malformed/safetensors/") == true }
        #expect(entries.count == 24)
        var checked = 0
        for entry in entries {
            let relative = try #require(entry["path"]?.stringValue)
            let expect = try #require(entry["expect"]?.stringValue)
            let path = Fixtures.path(relative)
            let name = String(relative.dropFirst("malformed/safetensors/".count))
            let outcome: Result<SafetensorsFile, ReadError>
            do { outcome = .success(try SafetensorsReader.read(try MappedFile(path: path), fileIndex: 0)) } catch { outcome = .failure(error) }
            switch (expect, outcome) {
            case ("error", .failure(let error)):
                #expect(error.code == Self.fixtureCodes[name], "\(name): \(error)")
                #expect(error.path == path)
                #expect(!error.description.contains("\n"))
            case ("accepted", .success(let file)):
                #expect(file.findings.allSatisfy { $0.severity == "info" }, "\(name)")
            case ("lists-with-warning", .success(let file)):
                #expect(!file.tensors.isEmpty, "\(name)")
                #expect(file.findings.contains { $0.severity == "warning" }, "\(name)")
            default:
                Issue.record("\(name): expected \(expect), got \(outcome)")
            }
            checked += 1
        }
        #expect(checked == 24)
    }

    @Test func fixtureDetails() throws {
        let metadata = try SafetensorsReader.read(try MappedFile(path: Fixtures.path("malformed/safetensors/metadata_number.safetensors")), fileIndex: 0)
        #expect(metadata.metadata == ["format": "pt"])
        #expect(metadata.findings.map(\.code) == ["metadata-not-string"])
        #expect(metadata.findings[0].message.contains("step"))
        let between = try SafetensorsReader.read(try MappedFile(path: Fixtures.path("malformed/safetensors/valid_zero_length_between.safetensors")), fileIndex: 0)
        #expect(between.tensors.map(\.byteCount).contains(0))
        #expect(between.tensors.count == 3)
        let lead = try SafetensorsReader.read(try MappedFile(path: Fixtures.path("malformed/safetensors/valid_header_leading_spaces.safetensors")), fileIndex: 0)
        #expect(lead.findings.map(\.code) == ["header-leading-whitespace"])
        let empty = try SafetensorsReader.read(try MappedFile(path: Fixtures.path("malformed/safetensors/valid_empty_metadata.safetensors")), fileIndex: 0)
        #expect(empty.metadata == [:])
        do {
            _ = try SafetensorsReader.read(try MappedFile(path: Fixtures.path("malformed/safetensors/data_truncated.safetensors")), fileIndex: 0)
        } catch {
            #expect(error.message == "the file is truncated: expected 136 bytes, file has 88")
        }
    }
}
