import Foundation
import Testing
@testable import PedigreeFormats

/// A fresh empty directory for one test.
private func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

private func openError(_ path: String) -> ReadError? {
    do { _ = try Model.open(path); return nil } catch { return error }
}

@Suite struct ModelOpenerTests {
    /// A small valid safetensors file with the named U8 tensors of one byte each.
    func writeShard(_ path: String, tensors: [String], metadata: [String: String]? = nil) throws {
        try SafetensorsWriter.write(tensors.map { .init(name: $0, dtype: .u8, shape: [1], data: [1]) }, metadata: metadata, to: path)
    }

    func writeText(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func baseDirectory() throws {
        let path = Fixtures.path("base")
        let model = try Model.open(path)
        #expect(model.path == path)
        #expect(model.format == .safetensors)
        #expect(model.files.count == 1)
        #expect(model.files[0].path.hasSuffix("base/model.safetensors"))
        #expect(model.tensors.count == 21)
        #expect(model.parameterCount == 2_021_760)
        #expect(model.tensor(named: "embeddings.word_embeddings.weight")?.shape == [512, 384])
        #expect(model.tensors.allSatisfy { $0.type == .dtype(.f32) })
        #expect(model.config?["model_type"]?.stringValue == "bert")
        #expect(model.adapterConfig == nil)
        #expect(!model.isAdapter)
        // Offsets are absolute and the tensors tile the data section.
        let last = try #require(model.tensors.last)
        #expect(last.byteOffset + last.byteCount == model.files[0].count)
    }

    @Test func weightsFileInsideAModelDirectory() throws {
        let path = Fixtures.path("base/model.safetensors")
        let model = try Model.open(path)
        #expect(model.path == path)
        #expect(model.tensors.count == 21)
        #expect(model.config?["model_type"]?.stringValue == "bert")
    }

    @Test func baseFP16() throws {
        let model = try Model.open(Fixtures.path("base_fp16"))
        #expect(model.tensors.count == 21)
        #expect(model.tensors.allSatisfy { $0.type == .dtype(.f16) })
        #expect(model.tensors.reduce(0) { $0 + $1.byteCount } == 2 * 2_021_760)
    }

    @Test func shardedDirectoryAndIndexPath() throws {
        let reference = Set(try Model.open(Fixtures.path("base_fp16")).tensors.map(\.name))
        for path in [Fixtures.path("sharded"), Fixtures.path("sharded/model.safetensors.index.json")] {
            let model = try Model.open(path)
            #expect(model.path == path)
            #expect(model.files.count == 3)
            #expect(model.files.map { ModelPaths.lastComponent($0.path) } == [
                "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
            ])
            #expect(Set(model.tensors.map(\.name)) == reference)
            #expect(model.tensors.count == 21)
            #expect(Set(model.tensors.map(\.fileIndex)) == [0, 1, 2])
            #expect(model.tensors.map(\.fileIndex) == model.tensors.map(\.fileIndex).sorted())
            #expect(!model.findings.contains { $0.code == "index-total-size" })
            #expect(model.config?["model_type"]?.stringValue == "bert")
            for tensor in model.tensors {
                #expect(tensor.byteOffset + tensor.byteCount <= model.files[tensor.fileIndex].count)
            }
        }
    }

    @Test func loraAdapter() throws {
        let model = try Model.open(Fixtures.path("lora_adapter"))
        #expect(model.isAdapter)
        #expect(model.adapterConfig?["base_model_name_or_path"]?.stringValue == "pedigree-fixtures/minilm-l6-base")
        #expect(model.adapterConfig?["peft_type"]?.stringValue == "LORA")
        #expect(model.files[0].path.hasSuffix("adapter_model.safetensors"))
        #expect(!model.tensors.isEmpty)
        #expect(model.tensors.allSatisfy { $0.name.contains("lora_") })
        #expect(model.modelCard?.isEmpty == false)
    }

    @Test func quantizedFoldersPickModelSafetensors() throws {
        let root = Fixtures.path("quantized-safetensors")
        let folders = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(folders.count == 10)
        for folder in folders {
            let model = try Model.open(root + "/" + folder)
            #expect(model.files.map { ModelPaths.lastComponent($0.path) } == ["model.safetensors"], "\(folder)")
            #expect(model.config?["quantization_config"] != nil || folder == "float", "\(folder)")
            #expect(!model.tensors.isEmpty)
        }
    }

    @Test func shardOutsideTheDirectoryIsRefused() throws {
        let root = try temporaryDirectory()
        let dir = root + "/model"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeShard(root + "/x.safetensors", tensors: ["w"])   // exists, but outside
        let index = dir + "/model.safetensors.index.json"
        try writeText(#"{"metadata":{"total_size":1},"weight_map":{"w":"../x.safetensors"}}"#, to: index)
        let e = try #require(openError(dir))
        #expect(e.code == .shardOutsideDirectory)
        #expect(e.path == index)
        #expect(e.message.contains("../x.safetensors"))

        try writeText(#"{"weight_map":{"w":"/etc/passwd"}}"#, to: index)
        #expect(openError(dir)?.code == .shardOutsideDirectory)
        try writeText(#"{"weight_map":{"w":"sub/../../x.safetensors"}}"#, to: index)
        #expect(openError(dir)?.code == .shardOutsideDirectory)

        // A symlink inside the directory that points outside is caught by realpath.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.safetensors", withDestinationPath: root + "/x.safetensors")
        try writeText(#"{"weight_map":{"w":"link.safetensors"}}"#, to: index)
        let link = try #require(openError(dir))
        #expect(link.code == .shardOutsideDirectory)
        #expect(link.message.contains("outside the model directory"))
    }

    @Test func shardIndexConsistency() throws {
        let dir = try temporaryDirectory()
        let index = dir + "/model.safetensors.index.json"
        try writeShard(dir + "/model-00001-of-00002.safetensors", tensors: ["a", "b"], metadata: ["format": "pt"])
        try writeShard(dir + "/model-00002-of-00002.safetensors", tensors: ["c"])

        try writeText(#"{"metadata":{"total_size":3},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}"#, to: index)
        let model = try Model.open(dir)
        #expect(model.tensors.map(\.name) == ["a", "b", "c"])
        #expect(model.tensors.map(\.fileIndex) == [0, 0, 1])
        #expect(model.safetensorsMetadata == ["format": "pt"])
        #expect(model.findings.isEmpty)

        try writeText(#"{"metadata":{"total_size":99},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}"#, to: index)
        let sized = try Model.open(dir)
        #expect(sized.findings.map(\.code) == ["index-total-size"])
        #expect(sized.findings[0].message.contains("99") && sized.findings[0].message.contains("3 bytes"))

        try writeText(#"{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}"#, to: index)
        let extra = try #require(openError(dir))
        #expect(extra.code == .indexMismatch)
        #expect(extra.message.contains("tensor b"))

        try writeText(#"{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors","d":"model-00002-of-00002.safetensors"}}"#, to: index)
        let missingTensor = try #require(openError(dir))
        #expect(missingTensor.code == .indexMismatch)
        #expect(missingTensor.message.contains("tensor d"))

        try writeText(#"{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00003-of-00002.safetensors"}}"#, to: index)
        let missingShard = try #require(openError(dir))
        #expect(missingShard.code == .shardMissing)
        #expect(missingShard.path == dir + "/model-00003-of-00002.safetensors")

        try writeText(#"{"weight_map": ["a"]}"#, to: index)
        #expect(openError(dir)?.code == .invalidIndex)
        try writeText(#"{"weight_map": {"a": "x"}"#, to: index)
        #expect(openError(dir)?.code == .invalidIndex)
    }

    @Test func tensorInTwoShardsAndErrorsNameTheShard() throws {
        let dir = try temporaryDirectory()
        let index = dir + "/model.safetensors.index.json"
        try writeShard(dir + "/s1.safetensors", tensors: ["a"])
        try writeShard(dir + "/s2.safetensors", tensors: ["a", "b"])
        try writeText(#"{"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}}"#, to: index)
        let twice = try #require(openError(dir))
        #expect(twice.code == .duplicateTensor)
        #expect(twice.path == dir + "/s2.safetensors")
        #expect(twice.message == "tensor a is in both s1.safetensors and s2.safetensors")

        // A truncated shard: the error names the shard, not the index.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/s1.safetensors"))
        try bytes.dropLast(1).write(to: URL(fileURLWithPath: dir + "/s1.safetensors"))
        try writeText(#"{"weight_map":{"a":"s1.safetensors"}}"#, to: index)
        let truncated = try #require(openError(dir))
        #expect(truncated.code == .truncated)
        #expect(truncated.path == dir + "/s1.safetensors")
    }

    @Test func directoryPrecedenceAndAmbiguity() throws {
        let dir = try temporaryDirectory()
        #expect(openError(dir)?.code == .noWeights)
        try writeShard(dir + "/consolidated.safetensors", tensors: ["x"])
        #expect(try Model.open(dir).tensors.map(\.name) == ["x"]) // the only *.safetensors
        try writeShard(dir + "/other.safetensors", tensors: ["y"])
        let ambiguous = try #require(openError(dir))
        #expect(ambiguous.code == .ambiguousModel)
        #expect(ambiguous.path == dir)
        #expect(ambiguous.message.contains("consolidated.safetensors") && ambiguous.message.contains("other.safetensors"))
        try writeShard(dir + "/adapter_model.safetensors", tensors: ["lora"])
        #expect(openError(dir)?.code == .ambiguousModel) // no adapter_config.json beside it
        try writeText(#"{"peft_type":"LORA","r":8}"#, to: dir + "/adapter_config.json")
        let adapter = try Model.open(dir)
        #expect(adapter.tensors.map(\.name) == ["lora"])
        #expect(adapter.adapterConfig?["r"]?.intValue == 8)
        try writeShard(dir + "/model.safetensors", tensors: ["main"])
        #expect(try Model.open(dir).tensors.map(\.name) == ["main"])
        try writeShard(dir + "/model-00001-of-00001.safetensors", tensors: ["sharded"])
        try writeText(#"{"weight_map":{"sharded":"model-00001-of-00001.safetensors"}}"#, to: dir + "/model.safetensors.index.json")
        #expect(try Model.open(dir).tensors.map(\.name) == ["sharded"])
    }

    @Test func sideFiles() throws {
        let dir = try temporaryDirectory()
        try writeShard(dir + "/model.safetensors", tensors: ["w"], metadata: ["format": "pt", "base": "org/parent"])
        try writeText("{not json", to: dir + "/config.json")
        let card = String(repeating: "a", count: Model.modelCardLimit + 10)
        try writeText(card, to: dir + "/README.md")
        let model = try Model.open(dir)
        #expect(model.safetensorsMetadata == ["format": "pt", "base": "org/parent"])
        #expect(model.config == nil)
        #expect(model.findings.map(\.code) == ["config-unreadable", "model-card-truncated"])
        #expect(model.findings[0].severity == "warning")
        #expect(model.modelCard?.utf8.count == Model.modelCardLimit)
    }

    @Test func notFoundAndGGUFRouting() throws {
        let missing = Fixtures.path("no/such/model")
        let e = try #require(openError(missing))
        #expect(e.code == .notFound)
        #expect(e.path == missing)
        // Several unrelated GGUF files are not one model.
        let gguf = try #require(openError(Fixtures.path("gguf")))
        #expect(gguf.code == .ambiguousModel)
        #expect(gguf.message.contains("base-Q8_0.gguf"))
        // A file with the GGUF magic goes to the GGUF reader whatever its name.
        let dir = try temporaryDirectory()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gguf/base-Q8_0.gguf")))
        try bytes.write(to: URL(fileURLWithPath: dir + "/weights.bin"))
        let safetensorsCodes: Set<ReadError.Code> = [.headerTooLarge, .invalidHeaderLength, .headerNotUTF8, .invalidHeaderJSON]
        do {
            let model = try Model.open(dir + "/weights.bin")
            #expect(model.format == .gguf)
        } catch {
            #expect(!safetensorsCodes.contains(error.code), "\(error)")
        }
    }

    @Test func ggufSplitSetSelection() {
        #expect(ModelOpener.chooseGGUF(["m-00002-of-00003.gguf", "m-00001-of-00003.gguf", "m-00003-of-00003.gguf"]) == "m-00001-of-00003.gguf")
        #expect(ModelOpener.chooseGGUF(["only.gguf"]) == "only.gguf")
        #expect(ModelOpener.chooseGGUF(["a-00001-of-00002.gguf", "b-00001-of-00002.gguf"]) == nil)
        #expect(ModelOpener.chooseGGUF(["m-00001-of-00002.gguf", "mmproj.gguf"]) == nil)
        #expect(ModelOpener.chooseGGUF([]) == nil)
        #expect(ModelOpener.ggufSplit("x-00001-of-00004.gguf")?.prefix == "x")
        #expect(ModelOpener.ggufSplit("x-0001-of-00004.gguf") == nil)
    }
}
