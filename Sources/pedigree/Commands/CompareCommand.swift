import Pedigree

/// `pedigree compare A B [--format text|json] [--alpha A]`: the relation of two models.
enum CompareCommand {
    static let usage = "usage: pedigree compare A B [--format text|json] [--alpha 0.01]"
    static let spec = OptionSpec(flags: ["--help", "-h"], valued: ["--format": ["text", "json"], "--alpha": nil])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        var options = CompareOptions()
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            guard parsed.positional.count == 2 else { throw UsageError("compare needs two models, A and B") }
            if let text = parsed.value("--alpha") {
                guard let alpha = Double(text), alpha > 0, alpha < 1 else { throw UsageError("--alpha must be a number between 0 and 1") }
                options.alpha = alpha
            }
        } catch { Output.usage(error, usage: usage) }
        let comparison: Comparison
        do { comparison = try Pedigree.compare(parsed.positional[0], parsed.positional[1], options: options) } catch { Output.fail(error) }
        if parsed.value("--format") == "json" {
            Output.standardOutput(JSONRenderer.render(comparison))
        } else {
            let (text, warnings) = CompareTextRenderer.render(comparison)
            Output.standardOutput(text)
            for warning in warnings { Output.standardError("pedigree: \(warning)") }
        }
        return 0
    }
}
