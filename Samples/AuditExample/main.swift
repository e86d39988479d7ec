// audit-example: compares every model in a folder with a base and prints one CSV line each.
//
//   audit-example [FOLDER] [--base PATH]
//
// FOLDER defaults to Samples/family (made by `make samples`), the base to FOLDER/base.
// Models are the folder's subfolders and its .safetensors and .gguf files, the base excepted.

import Foundation
import Pedigree

var arguments = Array(CommandLine.arguments.dropFirst())
var basePath: String?
if let i = arguments.firstIndex(of: "--base"), i + 1 < arguments.count {
    basePath = arguments[i + 1]
    arguments.removeSubrange(i ... i + 1)
}
guard arguments.count <= 1, !(arguments.first?.hasPrefix("-") ?? false) else {
    FileHandle.standardError.write(Data("usage: audit-example [FOLDER] [--base PATH]\n".utf8))
    exit(64)
}
let folder = arguments.first ?? "Samples/family"
let base = basePath ?? folder + "/base"

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
func csv(_ field: String) -> String {
    guard field.contains(where: { ",\"\n\r".contains($0) }) else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

let names: [String]
do { names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted() } catch {
    FileHandle.standardError.write(Data("audit-example: cannot list \(folder)\n".utf8))
    exit(2)
}
let baseModel: Model
do { baseModel = try Pedigree.open(base) } catch {
    FileHandle.standardError.write(Data("audit-example: error: \(error.description)\n".utf8))
    exit(2)
}

print("model,relation,parent,log10_p,summary")
for name in names where !name.hasPrefix(".") {
    let path = URL(fileURLWithPath: folder).appendingPathComponent(name).standardized.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
          isDirectory.boolValue || name.hasSuffix(".safetensors") || name.hasSuffix(".gguf") else { continue }
    guard path != URL(fileURLWithPath: base).standardized.path else { continue }
    do {
        // The base is "a", the model "b": parent "a" means the base is the model's ancestor.
        let verdict = Pedigree.compare(baseModel, try Pedigree.open(path)).verdict
        let log10P = String(format: "%.1f", (verdict.log10PValue * 10).rounded() / 10 + 0)   // + 0: no "-0.0"
        print([name, verdict.relation.rawValue, verdict.parent ?? "", log10P, verdict.summary].map(csv).joined(separator: ","))
    } catch {
        print([name, "error", "", "", error.description].map(csv).joined(separator: ","))
    }
}
