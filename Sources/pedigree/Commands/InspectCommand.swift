import Pedigree

/// `pedigree inspect PATH [--format text|json]`: what a model's headers say (no tensor data).
enum InspectCommand {
    static let usage = "usage: pedigree inspect PATH [--deep] [--format text|json]"
    static let spec = OptionSpec(flags: ["--help", "-h", "--deep"], valued: ["--format": ["text", "json"]])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            guard parsed.positional.count == 1 else {
                throw UsageError(parsed.positional.isEmpty ? "inspect needs a PATH" : "inspect takes one PATH")
            }
        } catch { Output.usage(error, usage: usage) }
        let inspection: Inspection
        do { inspection = try Pedigree.inspect(parsed.positional[0], deep: parsed.flags.contains("--deep")) } catch { Output.fail(error) }
        if parsed.value("--format") == "json" {
            Output.standardOutput(JSONRenderer.render(inspection))
        } else {
            let (text, warnings) = InspectTextRenderer.render(inspection)
            Output.standardOutput(text)
            for warning in warnings { Output.standardError("pedigree: \(warning)") }
        }
        return 0
    }
}
