import Foundation
import Testing
@testable import PedigreeEngine

/// Tail probabilities and combinations against values computed independently (Python's
/// math.erfc and math.lgamma, the closed form of the chi-squared tail).
@Suite struct StatisticsTests {
    @Test(arguments: [(0.0, -0.3010299956639812), (1.96, -1.6020965578878514), (10.0, -23.118053405486073), (30.0, -197.3092092616609)])
    func normalUpperTail(_ z: Double, _ expected: Double) {
        #expect(abs(NormalTail.log10Upper(z) - expected) < 1e-6 * max(1, abs(expected)))
    }

    @Test func tailStaysFiniteFarOut() {
        let value = NormalTail.log10Upper(1000)
        #expect(value.isFinite)
        #expect(abs(value - -217_150.64) < 0.01)   // -z^2/(2 ln 10) - log10(z sqrt(2 pi))
    }

    @Test func fisherOfTwo() {
        // X = -2 ln(0.1 * 0.1); P(chi2_4 >= X) = e^(-X/2) (1 + X/2)
        #expect(abs(pow(10, NormalTail.fisherLog10([-1, -1])) - 0.05605170185988093) < 1e-12)
    }

    @Test func fisherOfThree() {
        let value = NormalTail.fisherLog10([-5, log10(0.3), log10(0.9)])
        #expect(abs(value - -3.586240979859405) < 1e-9)
    }

    @Test func fisherOfOneIsItself() {
        #expect(abs(NormalTail.fisherLog10([-2.5]) - -2.5) < 1e-12)
    }

    @Test func factorialBound() {
        #expect(abs(NormalTail.log10Factorial(384) - 827.3054589005591) < 1e-6)
        #expect(NormalTail.log10Factorial(1) == 0)
    }

}
