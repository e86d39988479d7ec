/// A usage error: the command line does not fit the command (exit 64).
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The options a command accepts: flags, options with a value (and their allowed values).
struct OptionSpec {
    var flags: Set<String> = []
    var valued: [String: [String]?] = [:]   // name -> allowed values (nil: any)
}

/// A parsed command line: positional arguments, flags and option values, in order.
struct ParsedArguments {
    var positional: [String] = []
    var flags: Set<String> = []
    var values: [String: [String]] = [:]

    func value(_ name: String) -> String? { values[name]?.last }

    /// Parses `arguments` against `spec`. `--name=value` and `--name value` both work; `--`
    /// ends options.
    init(_ arguments: [String], spec: OptionSpec) throws(UsageError) {
        var i = 0
        var optionsEnded = false
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positional.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            var name = argument
            var inline: String?
            if let eq = argument.firstIndex(of: "=") {
                name = String(argument[..<eq])
                inline = String(argument[argument.index(after: eq)...])
            }
            if spec.flags.contains(name) {
                guard inline == nil else { throw UsageError("\(name) takes no value") }
                flags.insert(name)
            } else if let allowed = spec.valued[name] {
                let value: String
                if let inline { value = inline } else {
                    guard i < arguments.count else { throw UsageError("\(name) needs a value") }
                    value = arguments[i]
                    i += 1
                }
                if let allowed, !allowed.contains(value) {
                    throw UsageError("\(name) must be one of \(allowed.joined(separator: ", ")), not '\(value)'")
                }
                values[name, default: []].append(value)
            } else {
                throw UsageError("unknown option \(name)")
            }
        }
    }
}
