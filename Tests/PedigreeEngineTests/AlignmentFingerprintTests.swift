import Testing
import PedigreeFormats
@testable import PedigreeEngine

@Suite struct AlignmentFingerprintTests {
    @Test func invariantUnderPermutationAndRanksDescendantsFirst() throws {
        let open = { (p: String) throws in try InvariantFingerprint.of(try Model.open(AlignmentFixtures.path(p))) }
        let base = try open("base"), permuted = try open("permuted_mlp"), random = try open("unrelated_random")
        let sibling = try open("other_real_paraphrase_minilm_l3")
        // Permuting FFN units leaves every moment unchanged (up to the F16 cast).
        for (x, y) in zip(base.entries, permuted.entries) {
            #expect(x.key == y.key)
            #expect(abs(x.std - y.std) <= 1e-3 * x.std)
        }
        #expect(base.attentionGram != nil)
        let scores = [("permuted_mlp", base.similarity(to: permuted)), ("sibling", base.similarity(to: sibling)),
                      ("unrelated_random", base.similarity(to: random))]
        #expect(scores[0].1 > 0.999)
        #expect(scores[0].1 > scores[2].1 && scores[1].1 > scores[2].1, "\(scores)")
    }
}
