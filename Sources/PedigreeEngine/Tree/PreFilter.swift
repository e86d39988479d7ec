import Foundation
import PedigreeFormats

/// The tree's cheap first look at a pair: shared shapes, a sampled correlation, row-norm profiles.
enum PreFilter {
    enum Outcome: Equatable {
        /// No matrix or embedding pairs up (different architectures or sizes).
        case differentShapes
        /// The paired matrices cannot be decoded on both sides in this build.
        case undecodable
        /// Every sampled tensor is at chance level and no row-norm profile matches.
        case chance
        /// Worth the full comparison.
        case candidate
    }

    /// A sampled |z| at or above this sends the pair to the full comparison.
    static let zThreshold = 6.0
    /// Sorted row norms closer than this (relative L2) send it too: a permutation keeps them.
    static let profileTolerance = 0.02

    static func check(_ a: Model, _ b: Model, _ normsA: WeightNorms, _ normsB: WeightNorms, options: TreeOptions) -> Outcome {
        let pairing = TensorPairing.pair(a, b)
        let evidence = pairing.pairs.filter { $0.kind == .matrix || $0.kind == .embedding }
        guard !evidence.isEmpty else { return .differentShapes }
        let decodable = evidence.filter { TensorDecoder.canDecode($0.a.type) && TensorDecoder.canDecode($0.b.type) }
        guard !decodable.isEmpty else { return .undecodable }
        let chosen = decodable.enumerated()
            .sorted { ($0.element.rows * $0.element.a.rowLength, -$0.offset) > ($1.element.rows * $1.element.a.rowLength, -$1.offset) }
            .prefix(options.sampleTensors).map(\.element)
        for pair in chosen {
            if let z = sampledZ(pair, a, b, rows: options.sampleRows), abs(z) >= zThreshold { return .candidate }
            if let pa = normsA.sortedRowNorms(pair.a.name, rows: pair.rows), let pb = normsB.sortedRowNorms(pair.b.name, rows: pair.rows),
               pa.count == pb.count, !pa.isEmpty {
                var diff = 0.0, norm = 0.0
                for (x, y) in zip(pa, pb) { diff += (x - y) * (x - y); norm += x * x }
                if norm > 0, (diff / norm).squareRoot() < profileTolerance { return .candidate }
            }
        }
        return .chance
    }

    /// The raw correlation of `rows` evenly spaced rows, as z = cosine · sqrt(n).
    static func sampledZ(_ pair: TensorPair, _ a: Model, _ b: Model, rows wanted: Int) -> Double? {
        let length = pair.a.rowLength
        guard length == pair.b.rowLength, pair.rows > 0 else { return nil }
        let count = min(wanted, pair.rows)
        var bufA = [Float](repeating: 0, count: length), bufB = [Float](repeating: 0, count: length)
        var dot = 0.0, sa = 0.0, sb = 0.0
        for s in 0 ..< count {
            let row = count == 1 ? 0 : s * (pair.rows - 1) / (count - 1)
            let ok = bufA.withUnsafeMutableBufferPointer { out in
                (try? PairMeasurer.decode(a, pair.a, map: pair.rowMapA, rows: row ..< row + 1, into: out.baseAddress!)) != nil
            } && bufB.withUnsafeMutableBufferPointer { out in
                (try? PairMeasurer.decode(b, pair.b, map: pair.rowMapB, rows: row ..< row + 1, into: out.baseAddress!)) != nil
            }
            guard ok else { return nil }
            for j in 0 ..< length {
                let x = Double(bufA[j]), y = Double(bufB[j])
                dot += x * y; sa += x * x; sb += y * y
            }
        }
        guard sa > 0, sb > 0 else { return nil }
        return dot / (sa * sb).squareRoot() * Double(count * length).squareRoot()
    }
}
