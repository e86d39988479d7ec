import Foundation
import PedigreeFormats

extension ReadError.Code {
    /// A `--models` file that is not a JSON object of model ids to path strings.
    public static let modelsFileInvalid = Self("models-file-invalid")
}

/// Known models: ids mapped to local paths (`--models FILE`, verdicts.md section 4).
public struct ModelRegistry: Sendable, Equatable {
    /// Id and absolute path, in the file's order.
    public var entries: [(id: String, path: String)]

    public init(entries: [(id: String, path: String)] = []) { self.entries = entries }

    public static func == (l: ModelRegistry, r: ModelRegistry) -> Bool {
        l.entries.map(\.id) == r.entries.map(\.id) && l.entries.map(\.path) == r.entries.map(\.path)
    }

    /// Reads a JSON object `{ "id": "path", ... }`; relative paths resolve against the folder of the file.
    /// - Throws: `ReadError` `.notFound`, `.unreadable` or `.modelsFileInvalid`.
    public static func load(_ file: String) throws(ReadError) -> ModelRegistry {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw ReadError(path: file, code: .notFound, message: "no such file")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: file) else {
            throw ReadError(path: file, code: .unreadable, message: "cannot read the models file")
        }
        let value: JSONValue
        do { value = try JSONParser.parse([UInt8](data)) } catch {
            throw ReadError(path: file, code: .modelsFileInvalid, message: "not valid JSON: \(error.description)")
        }
        guard let object = value.objectValue else {
            throw ReadError(path: file, code: .modelsFileInvalid, message: "expected a JSON object mapping model ids to paths")
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        var entries = [(id: String, path: String)]()
        if let duplicate = object.firstDuplicateKey {
            throw ReadError(path: file, code: .modelsFileInvalid, message: "model id '\(duplicate)' appears twice")
        }
        for (id, entry) in object.members {
            guard let relative = entry.stringValue else {
                throw ReadError(path: file, code: .modelsFileInvalid, message: "the value of '\(id)' is not a path string")
            }
            let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : folder.appendingPathComponent(relative)
            entries.append((id, url.standardizedFileURL.path))
        }
        return ModelRegistry(entries: entries)
    }

    /// The local path of `id`: an exact id, the id of a Hugging Face URL, or a case-insensitive match.
    public func path(of id: String) -> String? {
        if let hit = entries.first(where: { $0.id == id }) { return hit.path }
        let stripped = ClaimExtractor.modelId(fromURL: id)
        if let hit = entries.first(where: { $0.id == stripped }) { return hit.path }
        return entries.first { $0.id.lowercased() == stripped.lowercased() }?.path
    }

    /// The id of a known path, if any.
    public func id(of path: String) -> String? {
        let standard = URL(fileURLWithPath: path).standardizedFileURL.path
        return entries.first { $0.path == standard }?.id
    }
}
