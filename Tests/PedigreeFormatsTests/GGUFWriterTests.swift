import Foundation
import Testing
@testable import PedigreeFormats

@Suite struct GGUFWriterTests {
    static let metadata: [GGUFEntry] = [
        GGUFEntry(key: "general.architecture", value: .string("llama")),
        GGUFEntry(key: "u8", value: .uint8(7)), GGUFEntry(key: "i8", value: .int8(-7)),
        GGUFEntry(key: "u16", value: .uint16(65535)), GGUFEntry(key: "i16", value: .int16(-300)),
        GGUFEntry(key: "u32", value: .uint32(1 << 31)), GGUFEntry(key: "i32", value: .int32(-1)),
        GGUFEntry(key: "f32", value: .float32(-0.5)), GGUFEntry(key: "bool", value: .bool(true)),
        GGUFEntry(key: "u64", value: .uint64(.max)), GGUFEntry(key: "i64", value: .int64(.min)),
        GGUFEntry(key: "f64", value: .float64(.pi)),
        GGUFEntry(key: "tags", value: .array(elementType: 8, [.string("a"), .string(""), .string("ünï")])),
        GGUFEntry(key: "nested", value: .array(elementType: 9, [
            .array(elementType: 4, [.uint32(1)]), .array(elementType: 8, []),
        ])),
        GGUFEntry(key: "empty", value: .array(elementType: 0, [])),
    ]

    func writer(alignment: Int = 32) throws -> GGUFWriter {
        var w = try GGUFWriter(alignment: alignment)
        for e in Self.metadata { try w.add(e.key, e.value) }
        try w.addTensor(name: "scalar", shape: [], type: .f32, data: floats([42]))
        try w.addTensor(name: "vector", shape: [3], type: .f32, data: floats([1, 2, 3]))
        try w.addTensor(name: "matrix", shape: [2, 32], type: .q8_0, data: [UInt8](repeating: 1, count: 68))
        try w.addTensor(name: "cube", shape: [2, 1, 3], type: .f16, data: [UInt8](repeating: 0, count: 12))
        return w
    }

    @Test(arguments: [32, 64, 1])
    func roundTripThroughTheReader(alignment: Int) throws {
        let w = try writer(alignment: alignment)
        let path = try temporaryFile([], name: "round.gguf")
        try w.write(to: path)
        let file = try MappedFile(path: path)
        let gguf = try GGUFReader.read(file, fileIndex: 3)
        #expect(gguf.version == 3)
        #expect(gguf.alignment == alignment)
        let entries = alignment == 32 ? gguf.entries : Array(gguf.entries.dropFirst())
        if alignment != 32 { #expect(gguf.entries[0] == GGUFEntry(key: "general.alignment", value: .uint32(UInt32(alignment)))) }
        #expect(entries == Self.metadata)
        #expect(gguf.findings.isEmpty)
        #expect(gguf.tensors.map(\.name) == ["scalar", "vector", "matrix", "cube"])
        #expect(gguf.tensors.map(\.shape) == [[], [3], [2, 32], [2, 1, 3]])
        #expect(gguf.tensors.map(\.type) == [.ggml(.f32), .ggml(.f32), .ggml(.q8_0), .ggml(.f16)])
        #expect(gguf.tensors.map(\.fileIndex) == [3, 3, 3, 3])
        for (t, source) in zip(gguf.tensors, w.tensors) {
            #expect(t.byteCount == source.data.count)
            #expect(t.byteOffset % alignment == 0)
            #expect(Array(UnsafeRawBufferPointer(rebasing: file.bytes[t.byteOffset ..< t.byteOffset + t.byteCount])) == source.data)
        }
        #expect(file.bytes.count % alignment == 0)
        // No temporary file is left beside the output.
        let dir = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["round.gguf"])
    }

    @Test func encodedBytesAreStable() throws {
        var w = try GGUFWriter()
        try w.add("k", .uint8(1))
        try w.addTensor(name: "t", shape: [1], type: .f32, data: floats([1]))
        let expected: [UInt8] = Array("GGUF".utf8) + [3, 0, 0, 0] + GGUFBytes.u64(1) + GGUFBytes.u64(1)
            + GGUFBytes.u64(1) + Array("k".utf8) + GGUFBytes.u32(0) + [1]
            + GGUFBytes.u64(1) + Array("t".utf8) + GGUFBytes.u32(1) + GGUFBytes.i64(1) + GGUFBytes.u32(0) + GGUFBytes.u64(0)
        let padded = expected + [UInt8](repeating: 0, count: (32 - expected.count % 32) % 32) + floats([1]) + [UInt8](repeating: 0, count: 28)
        #expect(w.encoded() == padded)
    }

    @Test func zeroTensorsWriteNoPadding() throws {
        var w = try GGUFWriter()
        try w.add("a", .string("b"))
        let bytes = w.encoded()
        let gguf = try readGGUF(bytes).get()
        #expect(gguf.dataOffset == bytes.count)
        #expect(gguf.tensors.isEmpty)
    }

    @Test func refusals() throws {
        var w = try GGUFWriter()
        try w.addTensor(name: "t", shape: [4], type: .f32, data: floats([1, 2, 3, 4]))
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "t", shape: [1], type: .f32, data: floats([1])) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "u", shape: [4], type: .f32, data: floats([1, 2, 3])) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "q", shape: [33], type: .q8_0, data: [UInt8](repeating: 0, count: 34)) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "d", shape: [1, 1, 1, 1, 1], type: .f32, data: floats([1])) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "", shape: [1], type: .f32, data: floats([1])) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.addTensor(name: "r", shape: [1], type: GGMLType.table[4], data: []) }
        try w.add("k", .uint8(1))
        #expect(throws: GGUFWriter.WriteError.self) { try w.add("k", .uint8(2)) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.add("", .uint8(2)) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.add("general.alignment", .uint32(64)) }
        #expect(throws: GGUFWriter.WriteError.self) { try w.add("mixed", .array(elementType: 4, [.uint32(1), .string("x")])) }
        #expect(throws: GGUFWriter.WriteError.self) { try GGUFWriter(alignment: 24) }
        #expect(w.tensors.count == 1)
        #expect(w.entries.count == 1)
        #expect(throws: GGUFWriter.WriteError.self) { try w.write(to: "/nonexistent-dir/x.gguf") }
    }
}
