import Foundation
import PedigreeEngine
import PedigreeFormats

/// `PedigreeBenchmarks null-check [pairs-per-kind] [fixtures-folder]`: the empirical null of the
/// whole compare pipeline (`PipelineNullCheck`): fresh llama- and BERT-shaped models of three
/// generators (Gaussian, resampled from the fixtures' trained tensors, a shared token-frequency
/// direction), the fixture models the manifest calls unrelated against each other and against
/// base's descendants, then the descendants (synthetic permuted copies and every manifest pair
/// whose expected relation is not unrelated). Default 500 pairs per kind (3000 synthetic pairs),
/// hidden size 64; `null-check N - WIDTH llama,bert` runs only the synthetic pairs of that width.
enum NullCheckBenchmark {
    static func run(_ arguments: [String]) {
        let perKind = arguments.first.flatMap { Int($0) } ?? 500
        let root = arguments.count > 1 && arguments[1] != "-" ? arguments[1] : FileManager.default.currentDirectoryPath + "/../shared/fixtures"
        let hidden = arguments.count > 2 ? Int(arguments[2]) ?? 64 : 64
        let families = arguments.count > 3 ? arguments[3].split(separator: ",").compactMap { PipelineNullCheck.Shape.Family(rawValue: String($0)) } : [.llama, .bert]
        let withFixtures = arguments.count <= 3
        do {
            let (nulls, descendants) = try manifestPairs(root)
            var pools = [PipelineNullCheck.Shape.Family: [String: [Float]]]()
            pools[.bert] = try PipelineNullCheck.pools(from: Model.open(root + "/base"))
            pools[.llama] = try PipelineNullCheck.pools(from: Model.open(root + "/llama/base"))
            let start = Date()
            let r = try PipelineNullCheck.run(shapes: families.map { PipelineNullCheck.Shape(family: $0, hidden: hidden, intermediate: 2 * hidden) },
                                              pairsPerKind: perKind, pools: pools,
                                              fixturePairs: withFixtures ? nulls.map { (root + "/" + $0.0, root + "/" + $0.1) } : [],
                                              fixtureDescendants: withFixtures ? descendants.map { ("\($0.0) vs \($0.1)", root + "/" + $0.0, root + "/" + $0.1) } : [],
                                              descendantsPerShape: 4, seed: 2026)
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "null check of the whole compare pipeline, alpha %.2f (%.1f s):", r.alpha, seconds))
            for kind in r.kinds.keys.sorted() {
                let k = r.kinds[kind]!
                print(String(format: "  %@ %5d pairs: false positives plain %d, residual alignment %d (residual agreement below alpha/2 %d)",
                             kind.padding(toLength: 24, withPad: " ", startingAt: 0), k.pairs, k.plainFalsePositives, k.residualFalsePositives, k.residualAgreementsBelowAlpha))
            }
            print(String(format: "  total %d unrelated pairs: false positives plain test %d, residual alignment %d; rate %.4f, Wilson 95%% upper %.4f (residual agreement alone below alpha/2 on %d pairs, kept unrelated by the confirming tensors)",
                         r.pairs, r.plainFalsePositives, r.residualFalsePositives, r.rate, r.rateUpper95, r.residualAgreementsBelowAlpha))
            let plain = AlignmentNullCheck.wilson(Double(r.plainFalsePositives), Double(r.pairs))
            let residual = AlignmentNullCheck.wilson(Double(r.residualFalsePositives), Double(r.pairs))
            print(String(format: "  per path: plain test rate %.4f (upper %.4f), residual alignment rate %.4f (upper %.4f)", plain.0, plain.1, residual.0, residual.1))
            for p in r.falsePositivePairs {
                print(String(format: "  false positive: %@ -> %@ by %@ (log10 p %.2f)", p.kind, p.relation.rawValue, p.method, p.log10PValue))
            }
            print(String(format: "  %d descendants (%d synthetic, %d manifest pairs): %d detected with log10 p < -6; weakest log10 p = %.1f (%@)",
                         r.descendants.count, r.descendants.count - (withFixtures ? descendants.count : 0), withFixtures ? descendants.count : 0,
                         r.descendants.filter(\.detected).count, r.weakestDescendantLog10P, r.weakestDescendant))
            if let manifest = r.descendants.filter({ $0.name.contains(" vs ") }).max(by: { $0.log10PValue < $1.log10PValue }) {
                print(String(format: "  weakest manifest descendant: %@ (%@), log10 p = %.1f", manifest.name, manifest.relation.rawValue, manifest.log10PValue))
            }
            var relations = [String: Int]()
            for d in r.descendants { relations["\(d.name.contains(" vs ") ? "manifest" : String(d.name.split(separator: " ").dropFirst(3).joined(separator: " "))) -> \(d.relation.rawValue)", default: 0] += 1 }
            print("  descendant verdicts: " + relations.keys.sorted().map { "\($0) \(relations[$0]!)" }.joined(separator: ", "))
            for name in r.missedDescendants { print("  NOT detected: \(name) (\(r.descendants.first { $0.name == name }!.relation.rawValue))") }
        } catch {
            print("null-check: \(error)")
        }
    }

    /// The manifest's unrelated pairs, plus each unrelated fixture of such a pair against every
    /// model that descends from the other side; and its pairs whose expected relation (at any
    /// stage) is some relatedness.
    static func manifestPairs(_ root: String) throws -> (nulls: [(String, String)], descendants: [(String, String)]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/MANIFEST.json"))
        let manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let fixtures = manifest["fixtures"] as? [String: [String: Any]] ?? [:]
        let pairs = manifest["pairs"] as? [[String: Any]] ?? []
        func expectations(_ p: [String: Any]) -> [String] {
            (p["expect"] as? [String: Any] ?? [:]).values.flatMap { v in (v as? [String]) ?? [v as? String].compactMap { $0 } }
        }
        func ancestors(_ name: String) -> Set<String> {
            var out = Set<String>(), stack = [name]
            while let n = stack.popLast() {
                let f = fixtures[n] ?? [:]
                for parent in [f["parent"] as? String].compactMap({ $0 }) + (f["parents"] as? [String] ?? []) where out.insert(parent).inserted {
                    stack.append(parent)
                }
            }
            return out
        }
        let models = fixtures.filter { ["safetensors", "gguf"].contains($0.value["format"] as? String ?? "") }
        func path(_ name: String) -> String { models[name]?["path"] as? String ?? name }
        var nulls = [(String, String)](), descendants = [(String, String)]()
        var seen = Set<[String]>()
        for p in pairs {
            guard let a = p["a"] as? String, let b = p["b"] as? String else { continue }
            let expected = expectations(p)
            if expected.allSatisfy({ $0 == "unrelated" || $0 == "inconclusive" }) {
                nulls.append((path(a), path(b))); seen.insert([a, b])
                guard expected.allSatisfy({ $0 == "unrelated" }) else { continue }
                for (x, y) in [(a, b), (b, a)] where fixtures[y]?["parent"] == nil || fixtures[y]?["parent"] is NSNull {
                    // y is a root: against every model descending from x's root.
                    let rootX = ([x] + Array(ancestors(x))).first { fixtures[$0]?["parent"] == nil || fixtures[$0]?["parent"] is NSNull } ?? x
                    for m in models.keys.sorted() where m != y && m != rootX && !seen.contains([m, y])
                        && ancestors(m).contains(rootX) && !ancestors(m).contains(y) && !ancestors(y).contains(m) {
                        nulls.append((path(y), path(m))); seen.insert([m, y])
                    }
                }
            } else {
                descendants.append((path(a), path(b)))
            }
        }
        return (nulls, descendants)
    }
}
