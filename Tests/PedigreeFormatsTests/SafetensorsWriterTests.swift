import Foundation
import Testing
@testable import PedigreeFormats

@Suite struct SafetensorsWriterTests {
    func floats(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } } }

    var sample: [SafetensorsWriter.Tensor] {
        [
            .init(name: "b.weight", dtype: .f32, shape: [2, 2], data: floats([1, 2, 3, 4])),
            .init(name: "a.weight", dtype: .f32, shape: [2], data: floats([5, 6])),
            .init(name: "ids", dtype: .i64, shape: [1], data: [1, 0, 0, 0, 0, 0, 0, 0]),
            .init(name: "half", dtype: .f16, shape: [3], data: [0, 0x3C, 0, 0x40, 0, 0x42]),
            .init(name: "mask", dtype: .bool, shape: [2, 0], data: []),
            .init(name: "scalar", dtype: .u8, shape: [], data: [42]),
        ]
    }

    @Test func roundTripThroughAFile() throws {
        let path = try temporaryFile([], name: "out.safetensors")
        try SafetensorsWriter.write(sample, metadata: ["format": "pt", "note": "quote\" é"], to: path)
        let file = try MappedFile(path: path)
        let read = try SafetensorsReader.read(file, fileIndex: 0)
        #expect(read.metadata == ["format": "pt", "note": "quote\" é"])
        #expect(read.findings.isEmpty)
        for tensor in sample {
            let info = try #require(read.tensors.first { $0.name == tensor.name })
            #expect(info.shape == tensor.shape)
            #expect(info.type == .dtype(tensor.dtype))
            guard case .bytes(let expected) = tensor.source else { continue }
            #expect(Array(UnsafeRawBufferPointer(rebasing: file.bytes[info.byteOffset ..< info.byteOffset + info.byteCount])) == expected)
        }
        // No temporary file stays behind.
        let dir = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.safetensors"])
    }

    @Test func byteLayoutMatchesTheReferenceWriter() throws {
        let bytes = try SafetensorsWriter.serialize(sample)
        let n = Int(bytes[0 ..< 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)
        let json = header.trimmingCharacters(in: .init(charactersIn: " "))
        #expect(header.hasPrefix("{") && header.utf8.count - json.utf8.count < 8)
        // dtype descending (I64 > F32 > F16 > U8 > BOOL), then name.
        #expect(json == #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},"half":{"dtype":"F16","shape":[3],"data_offsets":[32,38]},"scalar":{"dtype":"U8","shape":[],"data_offsets":[38,39]},"mask":{"dtype":"BOOL","shape":[2,0],"data_offsets":[39,39]}}"#)
        #expect(bytes.count == 8 + n + 39)
        #expect(Array(bytes[(8 + n)...].prefix(8)) == [1, 0, 0, 0, 0, 0, 0, 0])
        let read = try readSafetensors(bytes)
        #expect(read.tensors.map(\.name) == ["ids", "a.weight", "b.weight", "half", "scalar", "mask"])
    }

    @Test func metadataComesFirst() throws {
        let bytes = try SafetensorsWriter.serialize([.init(name: "x", dtype: .u8, shape: [1], data: [1])], metadata: ["z": "1", "a": "2"])
        let header = String(decoding: bytes[8...], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"a":"2","z":"1"},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#))
        #expect(try readSafetensors(bytes).metadata == ["a": "2", "z": "1"])
        #expect(try readSafetensors(try SafetensorsWriter.serialize([], metadata: [:])).metadata == [:])
        #expect(try readSafetensors(try SafetensorsWriter.serialize([])).metadata == nil)
    }

    @Test func streamedTensors() throws {
        let streamed = SafetensorsWriter.Tensor(name: "big", dtype: .u8, shape: [1000], byteCount: 1000) { emit in
            let chunk = [UInt8](repeating: 7, count: 250)
            for _ in 0 ..< 4 { chunk.withUnsafeBytes { emit($0) } }
        }
        let path = try temporaryFile([], name: "s.safetensors")
        try SafetensorsWriter.write([streamed], to: path)
        let file = try MappedFile(path: path)
        let read = try SafetensorsReader.read(file, fileIndex: 0)
        #expect(read.tensors[0].byteCount == 1000)
        #expect(file.bytes[read.tensors[0].byteOffset + 999] == 7)

        let short = SafetensorsWriter.Tensor(name: "short", dtype: .u8, shape: [10], byteCount: 10) { emit in
            [UInt8](repeating: 1, count: 4).withUnsafeBytes { emit($0) }
        }
        let failPath = try temporaryFile([], name: "f.safetensors")
        try FileManager.default.removeItem(atPath: failPath)
        #expect { try SafetensorsWriter.write([short], to: failPath) } throws: { ($0 as? SafetensorsWriteError)?.code == .sizeMismatch }
        #expect(!FileManager.default.fileExists(atPath: failPath))
        let dir = (failPath as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    func refusal(_ tensors: [SafetensorsWriter.Tensor]) -> SafetensorsWriteError? {
        do { _ = try SafetensorsWriter.serialize(tensors); return nil } catch { return error }
    }

    @Test func refusesReservedDuplicateAndMismatchedTensors() throws {
        let reserved = refusal([.init(name: "__metadata__", dtype: .u8, shape: [1], data: [0])])
        #expect(reserved?.code == .reservedName)
        #expect(reserved?.code.rawValue == "reserved-name")
        let twice = refusal([.init(name: "a", dtype: .u8, shape: [1], data: [0]), .init(name: "a", dtype: .u8, shape: [1], data: [1])])
        #expect(twice?.code == .duplicateName)
        #expect(twice?.message == "tensor a is given twice")
        let size = refusal([.init(name: "a", dtype: .f32, shape: [2, 2], data: [0, 0, 0, 0])])
        #expect(size?.code == .sizeMismatch)
        #expect(size?.message == "tensor a: shape [2, 2] of F32 needs 16 bytes, the data has 4")
        #expect(refusal([.init(name: "a", dtype: .f32, shape: [-1], data: [])])?.code == .invalidShape)
        #expect(refusal([.init(name: "a", dtype: .f4, shape: [3], data: [0, 0])])?.code == .invalidShape)
        #expect(refusal([.init(name: "a", dtype: .f4, shape: [4], data: [0, 0])]) == nil)
        // A refused write leaves an existing file untouched.
        let path = try temporaryFile([1, 2, 3], name: "keep.safetensors")
        #expect(throws: SafetensorsWriteError.self) {
            try SafetensorsWriter.write([.init(name: "__metadata__", dtype: .u8, shape: [1], data: [0])], to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
    }

    @Test func unwritableDirectoryFails() {
        #expect { try SafetensorsWriter.write([], to: "/nonexistent-dir-pedigree/x.safetensors") } throws: {
            ($0 as? SafetensorsWriteError)?.code == .writeFailed
        }
    }
}
