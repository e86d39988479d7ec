import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

@Suite struct AlignmentFixtureTests {
    static func compare(_ a: String, _ b: String) throws -> Comparison {
        Comparator.compare(try Model.open(AlignmentFixtures.path(a)), try Model.open(AlignmentFixtures.path(b)))
    }

    @Test func bertPermutedMLPIsPermutedWithTheManifestPermutation() throws {
        let c = try Self.compare("base", "permuted_mlp")
        #expect(c.verdict.relation == .permuted)
        let layers = try #require(c.alignment?.layers)
        #expect(layers.count == 1)
        let expected = try #require(try AlignmentFixtures.fact("permuted_mlp", "perm_layer0_full") as? [Int])
        #expect(layers[0].permutation == expected)
        #expect(layers[0].matchedUnits == 1536)
        let identityPoints = try AlignmentFixtures.fact("permuted_mlp", "perm_identity_points") as? Int
        #expect(layers[0].fixedUnits == identityPoints)
        #expect(layers[0].permutationHead == Array(expected.prefix(16)))
        #expect(layers[0].permutationChecksum == LayerAlignment.checksum(expected))
        #expect(layers[0].tensors.allSatisfy { $0.equal && $0.roundingMismatches == 0 })
        #expect(c.blocks.first { $0.name == "encoder.layer.0.mlp" }?.matchedUnits == 1536)
    }

    @Test func llamaPermutedMLPIsPermutedInBothLayers() throws {
        let c = try Self.compare("llama/base", "llama/permuted_mlp")
        #expect(c.verdict.relation == .permuted)
        let layers = try #require(c.alignment?.layers)
        #expect(layers.count == 2)
        for (i, layer) in layers.enumerated() {
            let expected = try #require(try AlignmentFixtures.fact("llama/permuted_mlp", "perm_layer\(i)_full") as? [Int])
            #expect(layer.permutation == expected)
            #expect(layer.agreements.count == 3 && layer.agreements.allSatisfy { $0.agree == 512 })
            #expect(layer.tensors.allSatisfy { $0.roundingMismatches == 0 && $0.maxAbsDiff == 0 })
        }
    }

    @Test func siblingStaysRelatedWithPartialAgreementPerBlock() throws {
        let c = try Self.compare("base", "other_real_paraphrase_minilm_l3")
        #expect(c.verdict.relation == .related)
        let layer = try #require(c.alignment?.layers.first)
        // The manifest's scipy matching on the same tensors agrees on 88 units.
        let facts = try #require(try AlignmentFixtures.fact("other_real_paraphrase_minilm_l3", "ffn_unit_matching_vs_base") as? [String: Any])
        #expect(layer.matchedUnits == facts["agree"] as? Int)
        #expect((86 ... 92).contains(layer.matchedUnits))
        #expect(layer.log10PValue < -100)
        #expect(layer.tensors.allSatisfy { !$0.equal })
        #expect(c.blocks.first { $0.name == "encoder.layer.0.mlp" }?.matchedUnits == layer.matchedUnits)
    }

    @Test func unrelatedModelsAgreeOnlyByChance() throws {
        let base = try Model.open(AlignmentFixtures.path("base")), random = try Model.open(AlignmentFixtures.path("unrelated_random"))
        let layers = try UnitAlignment.align(base, random, pairing: TensorPairing.pair(base, random))
        let facts = try #require(try AlignmentFixtures.fact("other_real_paraphrase_minilm_l3", "ffn_unit_matching_chance_unrelated_random_vs_base") as? [String: Any])
        #expect(layers.count == 1)
        #expect(layers[0].matchedUnits == facts["agree"] as? Int)
        #expect(layers[0].log10PValue > -2)
        #expect(Comparator.compare(base, random).verdict.relation == .unrelated)

        let llama = try Model.open(AlignmentFixtures.path("llama/base")), same = try Model.open(AlignmentFixtures.path("llama/unrelated_same_data"))
        let llamaLayers = try UnitAlignment.align(llama, same, pairing: TensorPairing.pair(llama, same))
        #expect(llamaLayers.count == 2)
        for layer in llamaLayers {
            #expect(layer.log10PValue > -2, "\(layer.block): \(layer.matchedUnits) units agree")
            #expect(layer.agreements.allSatisfy { $0.agree <= 4 })
        }
    }
}
