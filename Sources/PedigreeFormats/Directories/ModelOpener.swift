extension ReadError.Code {
    /// A model directory holds several weight files and none of the names that choose one.
    public static let ambiguousModel = Self("ambiguous-model")
    /// A model directory holds no safetensors or GGUF file.
    public static let noWeights = Self("no-weights")
}

extension Model {
    /// The largest model card read from `README.md`; the rest is cut with an info finding.
    public static let modelCardLimit = 1 << 20

    /// Opens the model at `path`: a safetensors or GGUF file, a Hugging Face model directory,
    /// a sharded index, a PEFT adapter folder or a GGUF split set (formats.md section 2.1a).
    ///
    /// - A file starting with `GGUF` or named `*.gguf` goes to `GGUFReader.openModel(path:)`;
    ///   a `*.index.json` file opens the shards it names; any other file is read as safetensors.
    /// - A directory opens, in this order: the shards of `model.safetensors.index.json`;
    ///   `model.safetensors`; `adapter_model.safetensors` beside `adapter_config.json`; a single
    ///   `.gguf` or one split set `<prefix>-00001-of-0000N.gguf`; the only `*.safetensors`.
    /// - Beside safetensors weights, `config.json`, `adapter_config.json` and `README.md` (first
    ///   1 MB) fill `config`, `adapterConfig` and `modelCard`; an unparsable JSON file there is a
    ///   warning finding. `path` of the result is `path` as given.
    ///
    /// - Throws: `ReadError`: `not-found`, `unreadable`, `no-weights`, `ambiguous-model`,
    ///   `invalid-index`, `shard-missing`, `shard-outside-directory`, `index-mismatch`,
    ///   `duplicate-tensor`, every safetensors reader code (naming the file at fault), and the
    ///   GGUF reader's codes.
    public static func open(_ path: String) throws(ReadError) -> Model {
        switch ModelPaths.kind(path) {
        case .missing:
            throw ReadError(path: path, code: .notFound, message: "no such file or directory")
        case .directory:
            return try ModelOpener.openDirectory(path)
        case .file, .other:
            return try ModelOpener.openFile(path, userPath: path)
        }
    }
}

/// The steps behind `Model.open`, one per kind of input.
enum ModelOpener {
    /// Splits `<prefix>-00001-of-00003.gguf` into (prefix, part, total); nil for other names.
    static func ggufSplit(_ name: String) -> (prefix: Substring, part: Substring, total: Substring)? {
        guard name.hasSuffix(".gguf") else { return nil }
        let stem = name.dropLast(5)
        let isDigits = { (s: Substring) in s.count == 5 && s.allSatisfy { $0 >= "0" && $0 <= "9" } }
        guard stem.count > 15 else { return nil }
        let total = stem.suffix(5)
        let part = stem.dropLast(9).suffix(5)
        guard isDigits(total), isDigits(part), stem.dropLast(5).hasSuffix("-of-"),
              stem.dropLast(14).hasSuffix("-") else { return nil }
        return (stem.dropLast(15), part, total)
    }

    static func openFile(_ file: String, userPath: String) throws(ReadError) -> Model {
        let name = ModelPaths.lastComponent(file)
        if name.hasSuffix(".gguf") { return try GGUFReader.openModel(path: file) }
        if name.hasSuffix(".index.json") {
            return try openSharded(index: file, directory: ModelPaths.parent(file), userPath: userPath)
        }
        let mapped = try MappedFile(path: file)
        if mapped.bytes.starts(with: Array("GGUF".utf8)) { return try GGUFReader.openModel(path: file) }
        return try openSafetensors(mapped, directory: ModelPaths.parent(file), userPath: userPath)
    }

    static func openDirectory(_ directory: String) throws(ReadError) -> Model {
        guard let names = ModelPaths.regularFiles(in: directory) else {
            throw ReadError(path: directory, code: .unreadable, message: "cannot list the directory")
        }
        let present = Set(names)
        let join = { (name: String) in ModelPaths.join(directory, name) }
        if present.contains("model.safetensors.index.json") {
            return try openSharded(index: join("model.safetensors.index.json"), directory: directory, userPath: directory)
        }
        if present.contains("model.safetensors") {
            return try openSafetensors(try MappedFile(path: join("model.safetensors")), directory: directory, userPath: directory)
        }
        if present.contains("adapter_model.safetensors"), present.contains("adapter_config.json") {
            return try openSafetensors(try MappedFile(path: join("adapter_model.safetensors")), directory: directory, userPath: directory)
        }
        let ggufs = names.filter { $0.hasSuffix(".gguf") }
        if let chosen = chooseGGUF(ggufs) {
            return try withSideFiles(try GGUFReader.openModel(path: join(chosen)), directory: directory, userPath: directory)
        }
        let safetensors = names.filter { $0.hasSuffix(".safetensors") }
        if safetensors.count == 1 {
            return try openSafetensors(try MappedFile(path: join(safetensors[0])), directory: directory, userPath: directory)
        }
        let candidates = ggufs + safetensors
        if candidates.isEmpty {
            throw ReadError(path: directory, code: .noWeights, message: "the directory holds no .safetensors or .gguf file")
        }
        throw ReadError(path: directory, code: .ambiguousModel,
                        message: "the directory holds several weight files and none named model.safetensors: \(candidates.joined(separator: ", ")); name one of them")
    }

    /// The single `.gguf`, or the first split of the one split set that is every `.gguf` here.
    static func chooseGGUF(_ names: [String]) -> String? {
        if names.count == 1 { return names[0] }
        guard names.count > 1 else { return nil }
        var prefix: Substring?
        var total: Substring?
        var first: String?
        for name in names {
            guard let split = ggufSplit(name) else { return nil }
            if prefix == nil { prefix = split.prefix; total = split.total }
            guard split.prefix == prefix, split.total == total else { return nil }
            if split.part == "00001" { first = name }
        }
        return first
    }

    static func openSafetensors(_ file: MappedFile, directory: String, userPath: String) throws(ReadError) -> Model {
        let read = try SafetensorsReader.read(file, fileIndex: 0)
        let side = readSideFiles(directory)
        return Model(path: userPath, format: .safetensors, files: [file], tensors: read.tensors,
                     safetensorsMetadata: read.metadata, config: side.config, adapterConfig: side.adapterConfig,
                     modelCard: side.modelCard, findings: read.findings + side.findings)
    }

    static func openSharded(index indexPath: String, directory: String, userPath: String) throws(ReadError) -> Model {
        let indexFile = try MappedFile(path: indexPath)
        let index = try ShardIndex.parse(indexFile.bytes, path: indexPath)
        var files: [MappedFile] = []
        var tensors: [TensorInfo] = []
        var findings: [ReadFinding] = []
        var metadata: [String: String]?
        var owner: [String: String] = [:]
        for (i, shard) in index.shards.enumerated() {
            let shardPath = try ShardIndex.resolve(shard: shard, in: directory, indexPath: indexPath)
            let file = try MappedFile(path: shardPath)
            let read = try SafetensorsReader.read(file, fileIndex: i)
            if i == 0 { metadata = read.metadata }
            for finding in read.findings {
                findings.append(ReadFinding(severity: finding.severity, code: finding.code,
                                            message: "shard \(shard): \(finding.message)", tensor: finding.tensor))
            }
            for tensor in read.tensors {
                if let previous = owner.updateValue(shard, forKey: tensor.name) {
                    throw ReadError(path: shardPath, code: .duplicateTensor,
                                    message: "tensor \(tensor.name) is in both \(previous) and \(shard)")
                }
            }
            files.append(file)
            tensors += read.tensors
        }
        for assignment in index.weightMap {
            guard let actual = owner[assignment.tensor] else {
                throw ReadError(path: indexPath, code: .indexMismatch,
                                message: "weight_map puts tensor \(assignment.tensor) in \(assignment.shard), which does not hold it")
            }
            if actual != assignment.shard {
                throw ReadError(path: indexPath, code: .indexMismatch,
                                message: "weight_map puts tensor \(assignment.tensor) in \(assignment.shard), but \(actual) holds it")
            }
        }
        if owner.count != index.weightMap.count {
            let mapped = Set(index.weightMap.map(\.tensor))
            let extra = tensors.first { !mapped.contains($0.name) }!
            throw ReadError(path: indexPath, code: .indexMismatch,
                            message: "shard \(owner[extra.name]!) holds tensor \(extra.name), which weight_map does not name")
        }
        if let declared = index.totalSize {
            let sum = tensors.reduce(0) { $0 + $1.byteCount }
            if sum != declared {
                findings.append(ReadFinding(code: "index-total-size",
                                            message: "metadata.total_size is \(declared) but the tensors hold \(sum) bytes (shared storage, or an edited index)"))
            }
        }
        let side = readSideFiles(directory)
        return Model(path: userPath, format: .safetensors, files: files, tensors: tensors, safetensorsMetadata: metadata,
                     config: side.config, adapterConfig: side.adapterConfig, modelCard: side.modelCard,
                     findings: findings + side.findings)
    }

    /// A GGUF model with the directory's config, adapter config and card added where it has none.
    static func withSideFiles(_ model: Model, directory: String, userPath: String) throws(ReadError) -> Model {
        let side = readSideFiles(directory)
        return Model(path: userPath, format: model.format, version: model.version, files: model.files, tensors: model.tensors,
                     ggufMetadata: model.ggufMetadata, safetensorsMetadata: model.safetensorsMetadata,
                     config: model.config ?? side.config, adapterConfig: model.adapterConfig ?? side.adapterConfig,
                     modelCard: model.modelCard ?? side.modelCard, findings: model.findings + side.findings)
    }

    struct SideFiles {
        var config: JSONValue?
        var adapterConfig: JSONValue?
        var modelCard: String?
        var findings: [ReadFinding] = []
    }

    /// `config.json`, `adapter_config.json` and `README.md` of `directory`; never throws: a file
    /// that exists but cannot be read or parsed becomes a warning.
    static func readSideFiles(_ directory: String) -> SideFiles {
        var side = SideFiles()
        side.config = readJSON(ModelPaths.join(directory, "config.json"), code: "config-unreadable", findings: &side.findings)
        side.adapterConfig = readJSON(ModelPaths.join(directory, "adapter_config.json"), code: "adapter-config-unreadable",
                                      findings: &side.findings)
        let card = ModelPaths.join(directory, "README.md")
        if ModelPaths.kind(card) == .file {
            do {
                let file = try MappedFile(path: card)
                let limit = min(file.count, Model.modelCardLimit)
                side.modelCard = String(decoding: UnsafeRawBufferPointer(rebasing: file.bytes[0 ..< limit]), as: UTF8.self)
                if file.count > limit {
                    side.findings.append(ReadFinding(severity: "info", code: "model-card-truncated",
                                                     message: "README.md has \(file.count) bytes; only the first \(limit) were read"))
                }
            } catch {
                side.findings.append(ReadFinding(code: "model-card-unreadable", message: "README.md: \(error.message)"))
            }
        }
        return side
    }

    static func readJSON(_ path: String, code: String, findings: inout [ReadFinding]) -> JSONValue? {
        guard ModelPaths.kind(path) == .file else { return nil }
        let name = ModelPaths.lastComponent(path)
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            findings.append(ReadFinding(code: code, message: "\(name): \(error.message)"))
            return nil
        }
        do {
            return try JSONParser.parse(file.bytes)
        } catch {
            findings.append(ReadFinding(code: code, message: "\(name) is not valid JSON (\(error.description)); it is ignored"))
            return nil
        }
    }
}
