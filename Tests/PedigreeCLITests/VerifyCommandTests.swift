import Foundation
import Testing

/// `pedigree verify` on every claimed model of declared/claims.json, as a user runs it.
@Suite struct VerifyCommandTests {
    static let fixtures: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    /// What each model must reach: contradicted when any of its claims is false.
    static func expectations() throws -> [(model: String, want: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/declared/claims.json"))
        let claims = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["claims"] as? [[String: Any]])
        var order = [String](), want = [String: String]()
        for claim in claims {
            let model = claim["model"] as! String, verify = claim["verify"] as! String
            if want[model] == nil { order.append(model) }
            want[model] = verify == "contradicted" ? "contradicted" : (want[model] ?? "supported")
        }
        return order.map { ($0, want[$0]!) }
    }

    @Test func everyDeclaredClaim() throws {
        let pedigree = try #require(CommandRunner.executable("pedigree"), "pedigree is not built beside the tests")
        let models = Self.fixtures + "/declared/models.json"
        for (model, want) in try Self.expectations() {
            let result = try CommandRunner.run(pedigree, ["verify", Self.fixtures + "/" + model, "--models", models, "--format", "json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(model): \(result.standardError)")
            #expect(json["schema"] as? String == "pedigree.verify/1")
            let got = json["result"] as? String
            // Adapters are judged against their base by the adapter analysis (lora), merges by
            // the merge analysis; until a build has them those claims stay inconclusive.
            let pending = got == "inconclusive" && want == "supported"
            if pending {
                withKnownIssue("\(model): the relation that supports this claim is not judged by this build yet", isIntermittent: true) {
                    #expect(got == want)
                }
            } else {
                #expect(got == want, "\(model): \(json["summary"] as? String ?? "")")
                #expect(result.status == (want == "supported" ? 0 : 1), "\(model)")
            }
        }
    }

    @Test func exitStatusesAndText() throws {
        let pedigree = try #require(CommandRunner.executable("pedigree"), "pedigree is not built beside the tests")
        let usage = try CommandRunner.run(pedigree, ["verify"])
        #expect(usage.status == 64)
        let missing = try CommandRunner.run(pedigree, ["verify", Self.fixtures + "/base", "--models", Self.fixtures + "/declared/absent.json"])
        #expect(missing.status == 2)
        #expect(missing.standardError.split(separator: "\n").count == 1 && missing.standardError.contains("[not-found]"))
        #expect(missing.standardOutput.isEmpty)
        let given = try CommandRunner.run(pedigree, ["verify", Self.fixtures + "/gguf/base-Q8_0.gguf", "--claimed-base", Self.fixtures + "/base"])
        #expect(given.status == 0)
        #expect(given.standardOutput.hasPrefix("result: supported"))
        #expect(given.standardOutput.contains("found:    quantized (parent: base)"))
        #expect(given.standardOutput.contains("not proof"))
        let none = try CommandRunner.run(pedigree, ["verify", Self.fixtures + "/base", "--format", "json"])
        #expect(none.status == 1)   // only the weak config.json claim: nothing decisive
    }

    /// Samples/AuditExample: a folder of models against a CSV of claims, a CSV of results.
    @Test func auditExampleVerifiesACSVOfClaims() throws {
        let example = try #require(CommandRunner.executable("audit-example"), "audit-example is not built beside the tests")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let claims = folder.appendingPathComponent("claims.csv")
        try "model,claimed_base\nfinetune,\nunrelated_random,\ngguf/base-Q8_0.gguf,pedigree-fixtures/minilm-l6-base\n\"base_bf16\",pedigree-fixtures/minilm-l6-unrelated_random\n"
            .write(to: claims, atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(example, [Self.fixtures, "--claims", claims.path, "--models", Self.fixtures + "/declared/models.json"])
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "model,claimed_base,result,relation_found,log10_p,reason")
        let rows = lines.dropFirst().map { $0.split(separator: ",", maxSplits: 5, omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { $0[0] } == ["finetune", "unrelated_random", "gguf/base-Q8_0.gguf", "base_bf16"])
        #expect(rows.map { $0[2] } == ["supported", "contradicted", "supported", "contradicted"])
        #expect(rows[2][3] == "quantized")
        #expect(result.status == 1)
    }
}
