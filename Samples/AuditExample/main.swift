// audit-example: compares every model in a folder with a base and prints one CSV line each;
// or, with --claims, verifies the models of a folder against a CSV of claims.
//
//   audit-example [FOLDER] [--base PATH]
//   audit-example FOLDER --claims CLAIMS.csv [--models MODELS.json]
//
// FOLDER defaults to Samples/family (made by `make samples`), the base to FOLDER/base.
// Models are the folder's subfolders and its .safetensors and .gguf files, the base excepted.
// CLAIMS.csv has a header line and the columns `model,claimed_base`: the model's path relative
// to FOLDER, and the id or path of its claimed base (empty: the claims the model's own files
// make). MODELS.json maps ids to paths (as `pedigree verify --models`). One CSV line per claim
// comes out: model, claimed_base, result, relation_found, log10_p, reason. The exit status is 0
// when every claim is supported, 1 otherwise.

import Foundation
import Pedigree

var arguments = Array(CommandLine.arguments.dropFirst())
var basePath: String?
if let i = arguments.firstIndex(of: "--base"), i + 1 < arguments.count {
    basePath = arguments[i + 1]
    arguments.removeSubrange(i ... i + 1)
}
var claimsPath: String?, modelsPath: String?
for option in ["--claims", "--models"] {
    if let i = arguments.firstIndex(of: option), i + 1 < arguments.count {
        if option == "--claims" { claimsPath = arguments[i + 1] } else { modelsPath = arguments[i + 1] }
        arguments.removeSubrange(i ... i + 1)
    }
}
guard arguments.count <= 1, !(arguments.first?.hasPrefix("-") ?? false) else {
    FileHandle.standardError.write(Data("usage: audit-example [FOLDER] [--base PATH] | FOLDER --claims CLAIMS.csv [--models MODELS.json]\n".utf8))
    exit(64)
}
let folder = arguments.first ?? "Samples/family"
let base = basePath ?? folder + "/base"

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
func csv(_ field: String) -> String {
    guard field.contains(where: { ",\"\n\r".contains($0) }) else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The fields of one CSV line (RFC 4180 quoting; no line breaks inside fields).
func fields(_ line: String) -> [String] {
    var result = [String](), field = "", quoted = false, previousQuote = false
    for character in line {
        if quoted {
            if character == "\"" { quoted = false; previousQuote = true } else { field.append(character) }
        } else if character == "\"" {
            if previousQuote { field.append("\"") }
            quoted = true
            previousQuote = false
        } else if character == "," {
            result.append(field); field = ""; previousQuote = false
        } else {
            field.append(character); previousQuote = false
        }
    }
    result.append(field)
    return result
}

if let claimsPath {
    // Verify mode: one `Pedigree.verify` per claim line.
    guard let text = try? String(contentsOfFile: claimsPath, encoding: .utf8) else {
        FileHandle.standardError.write(Data("audit-example: cannot read \(claimsPath)\n".utf8))
        exit(2)
    }
    var options = VerifyOptions()
    if let modelsPath {
        do { options.registry = try Pedigree.loadModels(modelsPath) } catch {
            FileHandle.standardError.write(Data("audit-example: error: \(error.description)\n".utf8))
            exit(2)
        }
    }
    print("model,claimed_base,result,relation_found,log10_p,reason")
    var allSupported = true
    for line in text.split(whereSeparator: \.isNewline).dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        let row = fields(String(line))
        let model = row[0], claimed = row.count > 1 ? row[1] : ""
        var lineOptions = options
        lineOptions.claimedBase = claimed.isEmpty ? nil : claimed
        do {
            let verification = try Pedigree.verify(URL(fileURLWithPath: folder).appendingPathComponent(model).standardized.path, options: lineOptions)
            // The first decisive check speaks for the line (the result is the model's over all its claims).
            let check = verification.claims.first { $0.decisive && $0.result == verification.result } ?? verification.claims.first
            let found = check?.bases.compactMap(\.relationFound).map(\.rawValue).joined(separator: "+") ?? ""
            let log10P = check?.bases.compactMap(\.log10PValue).min().map { String(format: "%.1f", ($0 * 10).rounded() / 10 + 0) } ?? ""
            print([model, claimed, verification.result.rawValue, found, log10P, check?.reason ?? verification.summary].map(csv).joined(separator: ","))
            allSupported = allSupported && verification.result == .supported
        } catch {
            print([model, claimed, "error", "", "", error.description].map(csv).joined(separator: ","))
            allSupported = false
        }
    }
    exit(allSupported ? 0 : 1)
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
