import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The same inputs give byte-identical JSON whatever the number of threads (verdicts.md section 3).
@Suite struct ThreadCountTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    @Test(arguments: [["base", "other_real_paraphrase_minilm_l3"], ["llama/base", "llama/gguf/base-F16.gguf"]])
    func jsonDoesNotDependOnThreads(_ pair: [String]) throws {
        let a = try Model.open(Self.fixtures.appendingPathComponent(pair[0]).path)
        let b = try Model.open(Self.fixtures.appendingPathComponent(pair[1]).path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let outputs = try [1, 2, 8].map { threads in
            try encoder.encode(Comparator.compare(a, b, options: CompareOptions(threads: threads)))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] == outputs[2])
    }
}
