import Foundation
import Pedigree

/// `pedigree tree M1 M2 ... | DIR [--format text|json|dot|mermaid] [--alpha A] [--no-prefilter]`:
/// the family tree of several models.
enum TreeCommand {
    static let usage = "usage: pedigree tree M1 M2 ... | DIR [--format text|json|dot|mermaid] [--alpha 0.01] [--no-prefilter]"
    static let spec = OptionSpec(flags: ["--help", "-h", "--no-prefilter"],
                                 valued: ["--format": ["text", "json", "dot", "mermaid"], "--alpha": nil])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        var options = TreeOptions()
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            guard !parsed.positional.isEmpty else { throw UsageError("tree needs models (two or more) or a folder of models") }
            if let text = parsed.value("--alpha") {
                guard let alpha = Double(text), alpha > 0, alpha < 1 else { throw UsageError("--alpha must be a number between 0 and 1") }
                options.alpha = alpha
            }
            options.prefilter = !parsed.flags.contains("--no-prefilter")
        } catch { Output.usage(error, usage: usage) }
        var paths = parsed.positional
        if paths.count == 1 {
            var isDirectory: ObjCBool = false
            let path = paths[0]
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue, (try? Pedigree.open(path)) == nil {
                paths = Pedigree.models(in: path)
                if paths.isEmpty { Output.fail(ReadError(path: path, code: .notAModel, message: "the folder holds no model")) }
            }
        }
        let tree: FamilyTree
        do { tree = try Pedigree.tree(paths, options: options) } catch { Output.fail(error) }
        switch parsed.value("--format") {
        case "json": Output.standardOutput(JSONRenderer.render(tree))
        case "dot": Output.standardOutput(TreeRenderers.dot(tree))
        case "mermaid": Output.standardOutput(TreeRenderers.mermaid(tree))
        default: Output.standardOutput(TreeRenderers.text(tree))
        }
        return 0
    }
}
