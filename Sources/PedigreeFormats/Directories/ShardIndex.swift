#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReadError.Code {
    /// A shard index (`*.safetensors.index.json`) is not JSON of the expected shape.
    public static let invalidIndex = Self("invalid-index")
    /// A shard named by the index does not exist.
    public static let shardMissing = Self("shard-missing")
    /// A shard path is absolute, or leaves the model directory once `..` and symlinks are resolved.
    public static let shardOutsideDirectory = Self("shard-outside-directory")
    /// The tensors the shards hold differ from the keys of the index's `weight_map`.
    public static let indexMismatch = Self("index-mismatch")
}

/// A parsed `model.safetensors.index.json` (formats.md section 2.1).
///
/// Guarantees: `weightMap` holds every member of `weight_map` in file order, each value a string,
/// and no tensor name twice; `shards` is the set of distinct shard names, sorted by UTF-8 bytes
/// (so `model-00001-of-00003` comes first); `totalSize` is `metadata.total_size` when it is a
/// non-negative integer.
public struct ShardIndex: Sendable, Equatable {
    public let weightMap: [ShardAssignment]
    public let shards: [String]
    public let totalSize: Int?

    /// One `weight_map` member: a tensor and the shard file the index puts it in.
    public struct ShardAssignment: Sendable, Equatable {
        public let tensor: String
        public let shard: String
    }

    /// Parses index bytes; errors name `path`.
    /// - Throws: `ReadError` `.invalidIndex` (not JSON, not an object, no `weight_map` object,
    ///   a non-string shard name) or `.duplicateTensor` (a key repeated in `weight_map`).
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ReadError) -> ShardIndex {
        func invalid(_ message: String) -> ReadError { ReadError(path: path, code: .invalidIndex, message: message) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw invalid("the shard index is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .object(let object) = root else { throw invalid("the shard index is not a JSON object") }
        guard let mapValue = object["weight_map"] else { throw invalid("the shard index has no weight_map") }
        guard case .object(let map) = mapValue else { throw invalid("weight_map is not a JSON object") }
        var assignments: [ShardAssignment] = []
        assignments.reserveCapacity(map.members.count)
        var seen = Set<String>()
        var shardSet = Set<String>()
        for member in map.members {
            guard case .string(let shard) = member.value else {
                throw invalid("weight_map entry \(member.key) is not a string file name")
            }
            guard seen.insert(member.key).inserted else {
                throw ReadError(path: path, code: .duplicateTensor, message: "tensor \(member.key) appears twice in weight_map")
            }
            shardSet.insert(shard)
            assignments.append(ShardAssignment(tensor: member.key, shard: shard))
        }
        var totalSize: Int?
        if case .object(let metadata)? = object["metadata"], case .number(let n)? = metadata["total_size"],
           n.isIntegerLiteral, let value = n.int, value >= 0 {
            totalSize = value
        }
        let shards = shardSet.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return ShardIndex(weightMap: assignments, shards: shards, totalSize: totalSize)
    }

    /// The path of `shard` inside `directory`, after proving that it stays inside it.
    ///
    /// The name must be relative and must not climb above the directory, lexically or through
    /// symlinks (both are resolved with `realpath`). Existence is checked after the lexical test,
    /// so `../x.safetensors` is refused as outside whether or not it exists.
    /// - Throws: `.shardOutsideDirectory` (naming `indexPath`) or `.shardMissing` (naming the shard path).
    public static func resolve(shard: String, in directory: String, indexPath: String) throws(ReadError) -> String {
        func outside(_ why: String) -> ReadError {
            ReadError(path: indexPath, code: .shardOutsideDirectory, message: "shard \(shard) \(why)")
        }
        if shard.isEmpty { throw outside("is an empty path") }
        if shard.hasPrefix("/") { throw outside("is an absolute path, not a file inside the model directory") }
        if shard.contains("\0") { throw outside("contains a NUL byte") }
        var depth = 0
        for component in shard.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                depth -= 1
                if depth < 0 { throw outside("climbs out of the model directory") }
            default: depth += 1
            }
        }
        if depth == 0 { throw outside("names the model directory itself, not a file") }
        let joined = ModelPaths.join(directory, shard)
        guard ModelPaths.exists(joined) else {
            throw ReadError(path: joined, code: .shardMissing, message: "the shard named by \(ModelPaths.lastComponent(indexPath)) does not exist")
        }
        guard let realDirectory = ModelPaths.realPath(directory), let realShard = ModelPaths.realPath(joined) else {
            throw outside("cannot be resolved")
        }
        let prefix = realDirectory.hasSuffix("/") ? realDirectory : realDirectory + "/"
        guard realShard.hasPrefix(prefix) else {
            throw outside("resolves to \(realShard), outside the model directory \(realDirectory)")
        }
        return joined
    }
}

/// Small path helpers over POSIX calls (no Foundation), shared by the directory openers.
enum ModelPaths {
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The directory part of `path` (`.` when it has none).
    static func parent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    static func lastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    enum Kind { case missing, file, directory, other }

    /// What `path` is, following symlinks.
    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    static func exists(_ path: String) -> Bool { kind(path) != .missing }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The names of the regular files (symlinks followed) directly inside `directory`, sorted by
    /// UTF-8 bytes; nil when the directory cannot be read.
    static func regularFiles(in directory: String) -> [String]? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            if kind(join(directory, name)) == .file { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
