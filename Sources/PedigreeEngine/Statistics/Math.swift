#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tail probabilities of the standard normal, as log10 so that z in the thousands stays finite.
public enum NormalTail {
    /// log10 P(Z >= z) for a standard normal Z.
    public static func log10Upper(_ z: Double) -> Double {
        if z.isNaN { return 0 }
        if z < 5 { return log10(0.5 * erfc(z / 2.0.squareRoot())) }
        // Asymptotic series of the Mills ratio: P = phi(z)/z * (1 - 1/z^2 + 3/z^4 - 15/z^6).
        let z2 = z * z
        let series = 1 - 1 / z2 + 3 / (z2 * z2) - 15 / (z2 * z2 * z2)
        let lnP = -z2 / 2 - log(z) - 0.5 * log(2 * Double.pi) + log(series)
        return lnP / log(10)
    }

    /// log10 of Fisher's combined p-value of independent p-values given as log10 p.
    /// X = -2 sum ln p is chi-squared with 2k degrees of freedom; its upper tail has a closed form.
    public static func fisherLog10(_ log10Ps: [Double]) -> Double {
        guard !log10Ps.isEmpty else { return 0 }
        let k = log10Ps.count
        let half = -log10Ps.reduce(0, +) * log(10)        // X / 2 = -sum ln p
        // P(chi2_2k >= X) = exp(-X/2) * sum_{i<k} (X/2)^i / i!, summed in logs.
        var terms = [Double]()
        var logTerm = 0.0
        for i in 0 ..< k {
            if i > 0 { logTerm += log(half) - log(Double(i)) }
            terms.append(logTerm)
        }
        let m = terms.max() ?? 0
        let lnSum = m + log(terms.reduce(0) { $0 + exp($1 - m) })
        return min(0, (-half + lnSum) / log(10))
    }

    /// log10(n!) (for the bound a permutation test can honestly report).
    public static func log10Factorial(_ n: Int) -> Double {
        n < 2 ? 0 : lgamma(Double(n) + 1) / log(10)
    }
}
