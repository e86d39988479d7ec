import Foundation
import Pedigree

/// Where a command's results go, and how it ends.
enum Output {
    static func standardOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Prints the one line of an input error and exits 2 (verdicts.md section 5).
    static func fail(_ error: ReadError) -> Never {
        standardError("pedigree: error: \(error.description)")
        exit(2)
    }

    /// Prints the reason and the command's usage, and exits 64.
    static func usage(_ error: UsageError, usage: String) -> Never {
        standardError("pedigree: \(error.message)\n\(usage)")
        exit(64)
    }
}
