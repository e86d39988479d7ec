import Pedigree

/// `pedigree compare A B [--format text|json] [--alpha A] [--adapter ADAPTER]`: the relation of two
/// models; `pedigree compare CHILD --parents P1 P2 ... [--base B]`: a merge of its parents.
enum CompareCommand {
    static let usage = "usage: pedigree compare A B [--format text|json] [--alpha 0.01] [--adapter ADAPTER]\n       pedigree compare CHILD --parents P1 P2 [...] [--base B] [--format text|json]"
    static let spec = OptionSpec(flags: ["--help", "-h"], valued: ["--format": ["text", "json"], "--alpha": nil,
                                                                   "--adapter": nil, "--parents": nil, "--base": nil])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        var options = CompareOptions()
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            if parsed.values["--parents"] != nil {
                guard !parsed.positional.isEmpty else { throw UsageError("compare --parents needs the child model first") }
                guard parsed.value("--adapter") == nil else { throw UsageError("--adapter and --parents do not combine") }
            } else {
                guard parsed.positional.count == 2 else { throw UsageError("compare needs two models, A and B") }
                guard parsed.value("--base") == nil else { throw UsageError("--base goes with --parents") }
            }
            if let text = parsed.value("--alpha") {
                guard let alpha = Double(text), alpha > 0, alpha < 1 else { throw UsageError("--alpha must be a number between 0 and 1") }
                options.alpha = alpha
            }
        } catch { Output.usage(error, usage: usage) }
        let comparison: Comparison
        do {
            if let given = parsed.values["--parents"] {
                let parents = given + parsed.positional.dropFirst()
                comparison = try Pedigree.compare(child: parsed.positional[0], parents: parents, base: parsed.value("--base"), options: options)
            } else if let adapter = parsed.value("--adapter") {
                comparison = try Pedigree.compare(parsed.positional[0], parsed.positional[1], adapter: adapter, options: options)
            } else {
                comparison = try Pedigree.compare(parsed.positional[0], parsed.positional[1], options: options)
            }
        } catch { Output.fail(error) }
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
