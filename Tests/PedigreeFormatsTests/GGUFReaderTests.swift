import Foundation
import Testing
@testable import PedigreeFormats

/// Hand-built GGUF bytes: every field written explicitly, so each test can break one rule.
struct GGUFBytes {
    var version: UInt32 = 3
    var v1: Bool { version == 1 }

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func i64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func f32(_ v: Float) -> [UInt8] { u32(v.bitPattern) }

    /// A count, length or dimension: u32 in v1, u64 after.
    func length(_ n: UInt64) -> [UInt8] { v1 ? Self.u32(UInt32(n)) : Self.u64(n) }
    func string(_ s: String) -> [UInt8] { length(UInt64(s.utf8.count)) + Array(s.utf8) }
    func kv(_ key: String, type: UInt32, _ payload: [UInt8]) -> [UInt8] { string(key) + Self.u32(type) + payload }
    func array(of type: UInt32, count: UInt64, _ payload: [UInt8]) -> [UInt8] { Self.u32(type) + length(count) + payload }
    func tensor(_ name: String, ne: [Int64], type: UInt32, offset: UInt64) -> [UInt8] {
        var out = string(name) + Self.u32(UInt32(ne.count))
        for d in ne { out += v1 ? Self.u32(UInt32(truncatingIfNeeded: d)) : Self.i64(d) }
        return out + Self.u32(type) + Self.u64(offset)
    }
    func header(tensors: UInt64, kvs: UInt64) -> [UInt8] { Array("GGUF".utf8) + Self.u32(version) + length(tensors) + length(kvs) }

    /// A complete file: header, entries, infos, zero padding to `alignment` (when there are tensors), data.
    func file(kvs: [[UInt8]], tensors: [[UInt8]], alignment: Int = 32, data: [UInt8] = []) -> [UInt8] {
        var out = header(tensors: UInt64(tensors.count), kvs: UInt64(kvs.count))
        for k in kvs { out += k }
        for t in tensors { out += t }
        if !tensors.isEmpty { out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment) }
        return out + data
    }
}

/// Reads `bytes` as a GGUF file; the error's code, or the file.
func readGGUF(_ bytes: [UInt8]) throws -> Result<GGUFFile, ReadError> {
    let path = try temporaryFile(bytes, name: "t.gguf")
    do {
        let file = try MappedFile(path: path)
        return .success(try GGUFReader.read(file, fileIndex: 0))
    } catch {
        return .failure(error)
    }
}

func errorCode(_ bytes: [UInt8]) throws -> String? {
    if case .failure(let e) = try readGGUF(bytes) { return e.code.rawValue }
    return nil
}

func floats(_ values: [Float]) -> [UInt8] { values.flatMap { GGUFBytes.f32($0) } }

@Suite struct GGUFReaderTests {
    let g = GGUFBytes()

    func oneTensorFile(_ b: GGUFBytes, kvs: [[UInt8]] = []) -> [UInt8] {
        let kv = kvs.isEmpty ? [b.kv("general.name", type: 8, b.string("tiny"))] : kvs
        return b.file(kvs: kv, tensors: [b.tensor("w", ne: [3, 2], type: 0, offset: 0)], data: floats([1, 2, 3, 4, 5, 6]))
    }

    @Test(arguments: [UInt32(1), 2, 3])
    func readsEachVersion(version: UInt32) throws {
        let b = GGUFBytes(version: version)
        let gguf = try readGGUF(oneTensorFile(b)).get()
        #expect(gguf.version == Int(version))
        #expect(gguf.entries == [GGUFEntry(key: "general.name", value: .string("tiny"))])
        #expect(gguf.tensors.count == 1)
        let t = gguf.tensors[0]
        #expect(t.shape == [2, 3])                  // PyTorch order: ne reversed
        #expect(t.type == .ggml(.f32))
        #expect(t.byteCount == 24)
        #expect(t.byteOffset == gguf.dataOffset)
        #expect(gguf.dataOffset % 32 == 0)
        #expect(gguf.alignment == 32)
        #expect(gguf.findings.isEmpty)
    }

    @Test func everyScalarType() throws {
        let kvs: [[UInt8]] = [
            g.kv("u8", type: 0, [200]), g.kv("i8", type: 1, [0xFF]),
            g.kv("u16", type: 2, [0x34, 0x12]), g.kv("i16", type: 3, [0xFE, 0xFF]),
            g.kv("u32", type: 4, GGUFBytes.u32(70000)), g.kv("i32", type: 5, GGUFBytes.u32(UInt32(bitPattern: -5))),
            g.kv("f32", type: 6, GGUFBytes.f32(1.5)), g.kv("b", type: 7, [2]), g.kv("b0", type: 7, [0]),
            g.kv("s", type: 8, g.string("héllo")), g.kv("u64", type: 10, GGUFBytes.u64(1 << 40)),
            g.kv("i64", type: 11, GGUFBytes.i64(-(1 << 40))), g.kv("f64", type: 12, GGUFBytes.u64((0.25 as Double).bitPattern)),
        ]
        let gguf = try readGGUF(g.file(kvs: kvs, tensors: [])).get()
        let values = gguf.entries.map(\.value)
        #expect(values == [.uint8(200), .int8(-1), .uint16(0x1234), .int16(-2), .uint32(70000), .int32(-5),
                           .float32(1.5), .bool(true), .bool(false), .string("héllo"), .uint64(1 << 40),
                           .int64(-(1 << 40)), .float64(0.25)])
    }

    @Test func nestedArrays() throws {
        let inner1 = g.array(of: 8, count: 2, g.string("ab") + g.string("cde"))
        let inner2 = g.array(of: 8, count: 1, g.string("fghi"))
        let nested = g.kv("test.nested", type: 9, g.array(of: 9, count: 2, inner1 + inner2))
        let numbers = g.kv("test.numbers", type: 9, g.array(of: 4, count: 3, GGUFBytes.u32(1) + GGUFBytes.u32(2) + GGUFBytes.u32(3)))
        let gguf = try readGGUF(g.file(kvs: [nested, numbers], tensors: [])).get()
        #expect(gguf.value("test.nested") == .array(elementType: 9, [
            .array(elementType: 8, [.string("ab"), .string("cde")]),
            .array(elementType: 8, [.string("fghi")]),
        ]))
        #expect(gguf.value("test.numbers") == .array(elementType: 4, [.uint32(1), .uint32(2), .uint32(3)]))
    }

    /// `levels` arrays, each holding the next; the innermost is an empty UINT8 array.
    func deepArray(levels: Int) -> [UInt8] {
        var value = g.array(of: 0, count: 0, [])
        for _ in 1 ..< levels { value = g.array(of: 9, count: 1, value) }
        return g.file(kvs: [g.kv("deep", type: 9, value)], tensors: [])
    }

    @Test func nestingDepthBound() throws {
        #expect(try errorCode(deepArray(levels: GGUFReader.maxNestingDepth)) == nil)
        #expect(try errorCode(deepArray(levels: GGUFReader.maxNestingDepth + 1)) == "nesting-too-deep")
    }

    @Test func noPaddingWhenHeaderEndsOnTheAlignment() throws {
        // header 24 + infos; pick the name value length so the infos end on a multiple of 32.
        let info = g.tensor("w", ne: [4], type: 0, offset: 0)
        var name = ""
        while (24 + g.kv("general.name", type: 8, g.string(name)).count + info.count) % 32 != 0 { name += "x" }
        let bytes = g.file(kvs: [g.kv("general.name", type: 8, g.string(name))], tensors: [info], data: floats([1, 2, 3, 4]))
        let headerEnd = bytes.count - 16
        #expect(headerEnd % 32 == 0)
        let gguf = try readGGUF(bytes).get()
        #expect(gguf.dataOffset == headerEnd)
        #expect(gguf.tensors[0].byteOffset == headerEnd)
        #expect(gguf.findings.isEmpty)
    }

    @Test func zeroTensors() throws {
        let bytes = g.file(kvs: [g.kv("a", type: 4, GGUFBytes.u32(1))], tensors: [])
        let gguf = try readGGUF(bytes).get()
        #expect(gguf.tensors.isEmpty)
        #expect(gguf.dataOffset == bytes.count)      // no padding, no data section
        #expect(gguf.findings.isEmpty)
        let trailing = try readGGUF(bytes + [0, 0, 0]).get()
        #expect(trailing.findings.map(\.code) == ["trailing-bytes"])
        #expect(trailing.findings[0].severity == "info")
    }

    @Test func customAlignment() throws {
        let kvs = [g.kv("general.alignment", type: 4, GGUFBytes.u32(64))]
        let bytes = g.file(kvs: kvs, tensors: [g.tensor("a", ne: [4], type: 0, offset: 0), g.tensor("b", ne: [2], type: 0, offset: 64)],
                           alignment: 64, data: floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 48) + floats([5, 6]))
        let gguf = try readGGUF(bytes).get()
        #expect(gguf.alignment == 64)
        #expect(gguf.dataOffset % 64 == 0)
        #expect(gguf.tensors[1].byteOffset == gguf.dataOffset + 64)
        #expect(gguf.findings.isEmpty)
    }

    // MARK: - One test per error code

    @Test func headerErrors() throws {
        var bad = oneTensorFile(g); bad[3] = UInt8(ascii: "X")
        #expect(try errorCode(bad) == "bad-magic")
        #expect(try errorCode(Array("GG".utf8)) == "truncated")
        #expect(try errorCode(oneTensorFile(GGUFBytes(version: 0))) == "unsupported-version")
        #expect(try errorCode(oneTensorFile(GGUFBytes(version: 4))) == "unsupported-version")
        var swapped = oneTensorFile(g); swapped.replaceSubrange(4 ..< 8, with: [0, 0, 0, 3])
        if case .failure(let e) = try readGGUF(swapped) {
            #expect(e.code == .byteSwapped)
            #expect(e.message.contains("big-endian GGUF"))
        } else { Issue.record("a byte-swapped file was accepted") }
    }

    @Test func countErrors() throws {
        #expect(try errorCode(g.header(tensors: 1 << 60, kvs: 0) + [UInt8](repeating: 0, count: 100)) == "count-too-large")
        #expect(try errorCode(g.header(tensors: 0, kvs: 1 << 60) + [UInt8](repeating: 0, count: 100)) == "count-too-large")
        #expect(try errorCode(g.header(tensors: 0, kvs: UInt64.max) + [UInt8](repeating: 0, count: 100)) == "count-too-large")
        let hugeArray = g.kv("a", type: 9, g.array(of: 0, count: 1 << 60, [1, 2, 3, 4]))
        #expect(try errorCode(g.file(kvs: [hugeArray], tensors: [])) == "count-too-large")
        let stringArray = g.kv("a", type: 9, g.array(of: 8, count: 1000, g.string("x")))
        #expect(try errorCode(g.file(kvs: [stringArray], tensors: [])) == "count-too-large")
        let longString = g.string("k") + GGUFBytes.u32(8) + GGUFBytes.u64(1_000_000) + Array("abc".utf8)
        #expect(try errorCode(g.header(tensors: 0, kvs: 1) + longString) == "truncated")
        let full = g.file(kvs: [g.kv("general.name", type: 8, g.string("a long enough name"))], tensors: [])
        #expect(try errorCode(Array(full.dropLast(5))) == "truncated")
    }

    @Test func metadataErrors() throws {
        #expect(try errorCode(g.file(kvs: [g.kv("a", type: 99, [0, 0, 0, 0])], tensors: [])) == "unknown-value-type")
        #expect(try errorCode(g.file(kvs: [g.kv("a", type: 9, g.array(of: 13, count: 1, [0]))], tensors: [])) == "unknown-value-type")
        let one = g.kv("a", type: 0, [1])
        #expect(try errorCode(g.file(kvs: [one, one], tensors: [])) == "duplicate-key")
        #expect(try errorCode(g.file(kvs: [g.kv("", type: 0, [1])], tensors: [])) == "empty-key")
        for bad in [g.kv("general.alignment", type: 4, GGUFBytes.u32(0)), g.kv("general.alignment", type: 4, GGUFBytes.u32(3)),
                    g.kv("general.alignment", type: 10, GGUFBytes.u64(32))] {
            #expect(try errorCode(oneTensorFile(g, kvs: [bad])) == "invalid-alignment")
        }
    }

    @Test func tensorInfoErrors() throws {
        let data = floats([1, 2, 3, 4])
        func code(_ infos: [[UInt8]], data: [UInt8] = floats([1, 2, 3, 4])) throws -> String? {
            try errorCode(g.file(kvs: [], tensors: infos, data: data))
        }
        #expect(try code([g.tensor("t", ne: [4], type: 0, offset: 0), g.tensor("t", ne: [4], type: 0, offset: 32)],
                         data: data + [UInt8](repeating: 0, count: 32)) == "duplicate-tensor")
        #expect(try code([g.tensor("t", ne: [1, 1, 1, 1, 4], type: 0, offset: 0)]) == "too-many-dimensions")
        #expect(try code([g.tensor("t", ne: [-1], type: 0, offset: 0)]) == "invalid-dimension")
        #expect(try code([g.tensor("t", ne: [1 << 32, 1 << 32], type: 0, offset: 0)]) == "validation-overflow")
        #expect(try code([g.tensor("t", ne: [1 << 61], type: 0, offset: 0)]) == "validation-overflow")   // bytes overflow
        #expect(try code([g.tensor("t", ne: [33], type: 8, offset: 0)]) == "block-size-mismatch")
        #expect(try code([g.tensor("t", ne: [4], type: 0, offset: 16)]) == "misaligned-tensor")
        #expect(try code([g.tensor("t", ne: [4], type: 0, offset: 0)], data: Array(data.dropLast(2))) == "truncated")
        #expect(try code([g.tensor("t", ne: [4], type: 0, offset: UInt64(Int.max) - 31)]) == "validation-overflow")
    }

    @Test func dataPastTheEndNamesBothLengths() throws {
        let bytes = g.file(kvs: [], tensors: [g.tensor("t", ne: [64], type: 0, offset: 0)], data: floats([1, 2, 3, 4]))
        guard case .failure(let e) = try readGGUF(bytes) else { Issue.record("accepted"); return }
        #expect(e.code == .truncated)
        #expect(e.message.contains("256 bytes"))
        #expect(e.message.contains("\(bytes.count) bytes"))
    }

    @Test(arguments: [UInt32(200), 4, 31, 43])
    func unknownTypesAreListed(id: UInt32) throws {
        let infos = [g.tensor("t0", ne: [4], type: 0, offset: 0), g.tensor("t_unknown", ne: [8, 2], type: id, offset: 32)]
        let gguf = try readGGUF(g.file(kvs: [], tensors: infos, data: floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 32))).get()
        #expect(gguf.tensors.map(\.name) == ["t0", "t_unknown"])
        #expect(gguf.tensors[0].type == .ggml(.f32))
        #expect(gguf.tensors[1].type == .unknownGGML(id: id))
        #expect(gguf.tensors[1].shape == [2, 8])
        #expect(gguf.findings.map(\.code) == ["unknown-tensor-type"])
        #expect(gguf.findings[0].tensor == "t_unknown")
    }

    @Test func layoutFindings() throws {
        // t1 at 64 where gguf.cpp expects 32: aligned, so only a warning.
        let infos = [g.tensor("t0", ne: [4], type: 0, offset: 0), g.tensor("t1", ne: [4], type: 0, offset: 64)]
        let data = floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 48) + floats([5, 6, 7, 8])
        let gguf = try readGGUF(g.file(kvs: [], tensors: infos, data: data)).get()
        #expect(gguf.findings.map(\.code) == ["non-contiguous-tensor-data"])
        #expect(gguf.findings[0].severity == "warning")
        // Reversed order is non-contiguous too.
        let reversed = [g.tensor("t0", ne: [4], type: 0, offset: 32), g.tensor("t1", ne: [4], type: 0, offset: 0)]
        let r = try readGGUF(g.file(kvs: [], tensors: reversed, data: floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 16) + floats([5, 6, 7, 8]))).get()
        #expect(r.findings.map(\.code).contains("non-contiguous-tensor-data"))
        // Padding after the last tensor is fine; more than that is reported.
        let ok = try readGGUF(g.file(kvs: [], tensors: [infos[0]], data: floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 16))).get()
        #expect(ok.findings.isEmpty)
        let trailing = try readGGUF(g.file(kvs: [], tensors: [infos[0]], data: floats([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 17))).get()
        #expect(trailing.findings.map(\.code) == ["trailing-bytes"])
        #expect(trailing.findings[0].severity == "info")
    }

    // MARK: - Fixtures

    struct ManifestEntry: Sendable, CustomStringConvertible {
        let path: String
        let expect: String
        var description: String { path }
    }

    static let malformed: [ManifestEntry] = {
        guard let data = try? Fixtures.data("MANIFEST.json"),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = root["malformed"] as? [[String: Any]] else { return [] }
        return list.compactMap { e in
            guard let path = e["path"] as? String, path.hasPrefix("malformed/gguf/"), let expect = e["expect"] as? String else { return nil }
            return ManifestEntry(path: path, expect: expect)
        }
    }()

    @Test func manifestListsTheGGUFFixtures() {
        #expect(Self.malformed.count >= 24)
    }

    @Test(arguments: GGUFReaderTests.malformed)
    func malformedFixture(_ entry: ManifestEntry) throws {
        let path = Fixtures.path(entry.path)
        var result: Result<Model, ReadError>
        do { result = .success(try GGUFReader.openModel(path: path)) } catch { result = .failure(error) }
        switch (entry.expect, result) {
        case ("error", .failure(let e)):
            #expect(e.path == path)
            #expect(!e.description.contains("\n"))
        case ("accepted", .success(let model)):
            #expect(model.format == .gguf)
            #expect(model.findings.allSatisfy { $0.severity == "info" })
        case ("lists-with-unknown", .success(let model)):
            #expect(model.tensors.map(\.name) == ["t0", "t_unknown"])
            #expect(model.tensor(named: "t0")?.type == .ggml(.f32))
            #expect(model.tensor(named: "t_unknown")?.type == .unknownGGML(id: 200))
            #expect(model.findings.contains { $0.code == "unknown-tensor-type" && $0.tensor == "t_unknown" })
        default:
            Issue.record("\(entry.path): expected \(entry.expect), got \(result)")
        }
    }

    @Test func malformedFixtureCodes() throws {
        let expected: [String: String] = [
            "bad_magic": "bad-magic", "version0": "unsupported-version", "version4": "unsupported-version",
            "truncated_metadata": "truncated", "tensor_count_2pow60": "count-too-large", "kv_count_2pow60": "count-too-large",
            "string_len_past_eof": "truncated", "array_2pow60": "count-too-large", "nested_array_10000_deep": "nesting-too-deep",
            "unknown_value_type": "unknown-value-type", "tensor_offset_misaligned": "misaligned-tensor",
            "tensor_data_past_eof": "truncated", "alignment_0": "invalid-alignment", "alignment_3": "invalid-alignment",
            "duplicate_tensor_names": "duplicate-tensor", "n_dims_5": "too-many-dimensions", "big_endian_v3": "byte-swapped",
        ]
        for (name, code) in expected {
            do {
                _ = try GGUFReader.openModel(path: Fixtures.path("malformed/gguf/\(name).gguf"))
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.code.rawValue == code, "\(name)")
            }
        }
    }

    @Test func validFixtureDetails() throws {
        let v1 = try GGUFReader.openModel(path: Fixtures.path("malformed/gguf/valid_v1.gguf"))
        #expect(v1.version == 1)
        #expect(v1.tensors.map(\.name) == ["t0"])
        let v2 = try GGUFReader.openModel(path: Fixtures.path("malformed/gguf/valid_v2.gguf"))
        #expect(v2.version == 2)
        let nested = try GGUFReader.openModel(path: Fixtures.path("malformed/gguf/valid_nested_string_arrays.gguf"))
        #expect(nested.metadata("test.nested") == .array(elementType: 9, [
            .array(elementType: 8, [.string("ab"), .string("cde")]), .array(elementType: 8, [.string("fghi")]),
        ]))
        let exact = try GGUFReader.read(MappedFile(path: Fixtures.path("malformed/gguf/valid_header_exact_alignment.gguf")), fileIndex: 0)
        #expect(exact.dataOffset == 128)
        let zero = try GGUFReader.openModel(path: Fixtures.path("malformed/gguf/valid_zero_tensors.gguf"))
        #expect(zero.tensors.isEmpty)
        #expect(zero.ggufMetadata.count == 2)
    }

    @Test func realGemmaExcerpt() throws {
        let path = Fixtures.path("real_gguf/gemma-3-270m-Q4_K_M-excerpt.gguf")
        let model = try GGUFReader.openModel(path: path)
        #expect(model.path == path)
        #expect(model.format == .gguf)
        #expect(model.version == 3)
        #expect(model.ggufMetadata.count == 33)
        #expect(model.findings.isEmpty)
        let data = try Fixtures.data("MANIFEST.json")
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let fixtures = try #require(root["fixtures"] as? [String: Any])
        let entry = try #require(fixtures["real_gguf/gemma-3-270m-Q4_K_M-excerpt"] as? [String: Any])
        let facts = try #require(entry["facts"] as? [String: Any])
        let order = try #require(facts["excerpt_tensor_order"] as? [String])
        let tensors = try #require(facts["tensors"] as? [String: [String: Any]])
        #expect(model.tensors.map(\.name) == order)
        for t in model.tensors {
            let fact = try #require(tensors[t.name])
            #expect(t.type.name == fact["ggml_type"] as? String, "\(t.name)")
            #expect(t.shape == fact["shape_torch"] as? [Int], "\(t.name)")
            #expect(t.byteCount == fact["n_bytes"] as? Int, "\(t.name)")
        }
        #expect(model.metadata("general.file_type") == .uint32(15))
        // token_embd.weight is Q8_0: its first values match gguf-py's dequantization.
        let embd = try #require(model.tensor(named: "token_embd.weight"))
        let first8 = try #require(tensors["token_embd.weight"]?["dequant_first8"] as? [Double])
        var row = [Float](repeating: 0, count: embd.rowLength)
        try row.withUnsafeMutableBufferPointer { try model.decodeRows(of: embd, 0 ..< 1, into: $0.baseAddress!) }
        #expect(row.prefix(8).map(Double.init) == first8)
    }

    static let fixtureFiles = ["gguf/base-F16", "gguf/base-Q4_0", "gguf/base-Q8_0", "gguf/finetune-Q4_0",
                               "llama/gguf/base-F16", "llama/gguf/base-F32", "llama/gguf/base-Q4_K_M", "llama/gguf/finetune-Q4_K_M"]

    /// Every fixture GGUF opens without warnings, with the tensor types the manifest lists, and
    /// every decodable tensor decodes to finite values.
    @Test(arguments: GGUFReaderTests.fixtureFiles)
    func fixtureGGUFs(_ name: String) throws {
        let model = try GGUFReader.openModel(path: Fixtures.path(name + ".gguf"))
        #expect(model.findings.isEmpty)
        let data = try Fixtures.data("MANIFEST.json")
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entry = try #require((root["fixtures"] as? [String: Any])?[name] as? [String: Any])
        let facts = try #require(entry["facts"] as? [String: Any])
        if let types = facts["tensor_types"] as? [String: String] {
            #expect(Set(types.keys) == Set(model.tensors.map(\.name)))
            for t in model.tensors { #expect(t.type.name == types[t.name], "\(t.name)") }
        }
        #expect(model.files[0].count == (facts["files"] as? [String: [String: Any]])?[(name as NSString).lastPathComponent + ".gguf"]?["bytes"] as? Int)
        for t in model.tensors where TensorDecoder.canDecode(t.type) {
            var values = [Float](repeating: .nan, count: t.elementCount)
            try values.withUnsafeMutableBufferPointer { try model.decodeRows(of: t, 0 ..< t.rowCount, into: $0.baseAddress!) }
            #expect(values.allSatisfy { $0.isFinite }, "\(t.name)")
        }
    }

    /// token_embd.weight of base-Q8_0.gguf (ne [384, 512]); the expected values were computed with
    /// python3 + numpy from the raw bytes (f16 d times int8 q), independently of this package.
    @Test func baseQ8_0TokenEmbeddingRows() throws {
        let model = try GGUFReader.openModel(path: Fixtures.path("gguf/base-Q8_0.gguf"))
        let t = try #require(model.tensor(named: "token_embd.weight"))
        #expect(t.shape == [512, 384])
        #expect(t.type == .ggml(.q8_0))
        var rows = [Float](repeating: 0, count: 512 * 384)
        try rows.withUnsafeMutableBufferPointer { try model.decodeRows(of: t, 0 ..< 512, into: $0.baseAddress!) }
        let expected: [(Int, Int, UInt32)] = [
            (0, 0, 0xbca29000), (0, 1, 0xbb58c000), (0, 383, 0x3cfff000), (1, 0, 0xbc846300),
            (7, 100, 0x3c3ec000), (511, 383, 0x3b56b000), (300, 31, 0x3bc2a600), (300, 32, 0xbb68f800),
        ]
        for (r, c, bits) in expected {
            #expect(rows[r * 384 + c].bitPattern == bits, "row \(r) column \(c)")
        }
        let row0 = rows[0 ..< 384].reduce(0.0) { $0 + Double($1) }
        #expect(abs(row0 - -0.2919924259185791) < 1e-12)
        // Decoding one row alone gives the same values.
        var one = [Float](repeating: 0, count: 384)
        try one.withUnsafeMutableBufferPointer { try model.decodeRows(of: t, 300 ..< 301, into: $0.baseAddress!) }
        #expect(one == Array(rows[300 * 384 ..< 301 * 384]))
    }

    // MARK: - Split sets

    func writeSplits(count: Int, skip: Int? = nil, badCount: Bool = false) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-split-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var paths = [String]()
        for i in 1 ... count {
            var w = try GGUFWriter()
            try w.add("split.no", .uint16(UInt16(i - 1)))
            try w.add("split.count", .uint16(UInt16(badCount ? count + 1 : count)))
            try w.add("split.tensors.count", .int32(Int32(count)))
            if i == 1 { try w.add("general.name", .string("split model")) }
            try w.addTensor(name: "t\(i)", shape: [2], type: .f32, data: floats([Float(i), -Float(i)]))
            let path = dir.appendingPathComponent(String(format: "model-%05d-of-%05d.gguf", i, count)).path
            if i != skip { try w.write(to: path) }
            paths.append(path)
        }
        return paths
    }

    @Test func splitSetOpensEveryPart() throws {
        let paths = try writeSplits(count: 3)
        let model = try GGUFReader.openModel(path: paths[1])
        #expect(model.path == paths[1])
        #expect(model.files.map(\.path) == paths)
        #expect(model.tensors.map(\.name) == ["t1", "t2", "t3"])
        #expect(model.tensors.map(\.fileIndex) == [0, 1, 2])
        #expect(model.metadata("general.name") == .string("split model"))
        var values = [Float](repeating: 0, count: 2)
        try values.withUnsafeMutableBufferPointer { try model.decodeRows(of: model.tensors[2], 0 ..< 1, into: $0.baseAddress!) }
        #expect(values == [3, -3])
    }

    @Test func splitErrors() throws {
        let missing = try writeSplits(count: 3, skip: 2)
        do { _ = try GGUFReader.openModel(path: missing[0]); Issue.record("accepted") } catch {
            #expect(error.code == .splitMissing)
            #expect(error.path == missing[1])
        }
        let bad = try writeSplits(count: 2, badCount: true)
        do { _ = try GGUFReader.openModel(path: bad[0]); Issue.record("accepted") } catch {
            #expect(error.code == .splitMismatch)
        }
    }
}
