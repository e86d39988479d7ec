/// An optimal one-to-one assignment of rows to columns.
public struct Assignment: Sendable, Equatable {
    /// `columnOfRow[i]`: the column assigned to row i (a permutation of 0..<n).
    public let columnOfRow: [Int]
    /// Σ_i similarity[i, columnOfRow[i]].
    public let total: Double
    /// Edges the sparse solver held at the end (candidates plus those the optimality check added).
    public let edges: Int
    /// Optimality checks against the full matrix (1 when the candidates already held the optimum).
    public let checks: Int
}

/// The linear assignment problem, maximising total similarity, solved exactly.
///
/// The solver works on a sparse candidate set (the `candidates` most similar columns of each row)
/// with successive shortest augmenting paths (Dijkstra on reduced costs with row and column
/// potentials, as in Jonker-Volgenant's augmentation). When the sparse problem is solved its
/// potentials are checked against every entry of the full matrix: an entry with negative reduced
/// cost is added to the candidates, its row is freed and re-augmented, until none is left. The
/// final potentials are then dual-feasible for the full problem and every assigned edge is tight,
/// which proves the assignment optimal for the dense matrix, not only for the candidates. A row
/// whose candidates admit no augmenting path receives its whole row.
public enum LinearAssignment {
    /// Maximises Σ similarity[i, π(i)] over permutations π; `similarity` is n × n, row-major.
    public static func maximize(_ similarity: [Float], n: Int, candidates: Int = 24) -> Assignment {
        precondition(similarity.count == n * n, "similarity must be n × n")
        if n == 0 { return Assignment(columnOfRow: [], total: 0, edges: 0, checks: 0) }
        return similarity.withUnsafeBufferPointer { s in
            var solver = SparseSolver(n: n, similarity: s.baseAddress!, candidates: min(n, max(1, candidates)))
            return solver.solve()
        }
    }

    /// The O(n³) Hungarian method on the dense matrix: the reference the sparse solver is tested against.
    public static func maximizeDense(_ similarity: [Float], n: Int) -> [Int] {
        if n == 0 { return [] }
        let inf = Double.infinity
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        for i in 1 ... n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: inf, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = inf, j1 = 0
                for j in 1 ... n where !used[j] {
                    let cur = -Double(similarity[(i0 - 1) * n + j - 1]) - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0 ... n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var columnOfRow = [Int](repeating: 0, count: n)
        for j in 1 ... n { columnOfRow[p[j] - 1] = j - 1 }
        return columnOfRow
    }
}

/// Sparse successive-shortest-path solver with an exact optimality check (see `LinearAssignment`).
struct SparseSolver {
    let n: Int
    let similarity: UnsafePointer<Float>
    // Edges per row (cost = −similarity), kept as growable lists.
    var edgeColumns: [[Int32]]
    var edgeCosts: [[Double]]
    var u: [Double], v: [Double]
    var columnOfRow: [Int], rowOfColumn: [Int]
    // Dijkstra scratch, reset after each search.
    var dist: [Double], rowDist: [Double], pred: [Int], settled: [Bool]
    var heap = ColumnHeap()
    var touched: [Int] = [], settledList: [Int] = [], visitedRows: [Int] = []
    var fullRow: [Bool]

    init(n: Int, similarity: UnsafePointer<Float>, candidates k: Int) {
        self.n = n
        self.similarity = similarity
        edgeColumns = []; edgeCosts = []
        edgeColumns.reserveCapacity(n); edgeCosts.reserveCapacity(n)
        var best = [Int32](repeating: 0, count: k), bestValue = [Float](repeating: 0, count: k)
        for i in 0 ..< n {
            let row = similarity + i * n
            // Top k by insertion into a small sorted buffer (descending).
            var count = 0
            for j in 0 ..< n {
                let x = row[j]
                if count == k && x <= bestValue[k - 1] { continue }
                var pos = count < k ? count : k - 1
                while pos > 0 && bestValue[pos - 1] < x {
                    bestValue[pos] = bestValue[pos - 1]; best[pos] = best[pos - 1]; pos -= 1
                }
                bestValue[pos] = x; best[pos] = Int32(j)
                if count < k { count += 1 }
            }
            edgeColumns.append(Array(best[0 ..< count]))
            edgeCosts.append((0 ..< count).map { -Double(bestValue[$0]) })
        }
        u = [Double](repeating: 0, count: n); v = [Double](repeating: 0, count: n)
        columnOfRow = [Int](repeating: -1, count: n); rowOfColumn = [Int](repeating: -1, count: n)
        dist = [Double](repeating: .infinity, count: n); rowDist = [Double](repeating: 0, count: n)
        pred = [Int](repeating: -1, count: n); settled = [Bool](repeating: false, count: n)
        fullRow = [Bool](repeating: false, count: n)
    }

    mutating func solve() -> Assignment {
        // Row reduction and a greedy start on tight edges.
        for i in 0 ..< n {
            u[i] = edgeCosts[i].min()!
            for (e, j) in edgeColumns[i].enumerated() where edgeCosts[i][e] == u[i] && rowOfColumn[Int(j)] < 0 {
                columnOfRow[i] = Int(j); rowOfColumn[Int(j)] = i
                break
            }
        }
        var checks = 0
        while true {
            for i in 0 ..< n where columnOfRow[i] < 0 {
                while !augment(from: i) { giveFullRow(i) }
            }
            checks += 1
            if !addViolations() { break }
        }
        var total = 0.0
        for i in 0 ..< n { total += Double(similarity[i * n + columnOfRow[i]]) }
        return Assignment(columnOfRow: columnOfRow, total: total, edges: edgeColumns.reduce(0) { $0 + $1.count }, checks: checks)
    }

    mutating func giveFullRow(_ i: Int) {
        precondition(!fullRow[i], "a full row always reaches a free column")
        fullRow[i] = true
        let present = Set(edgeColumns[i])
        for j in 0 ..< n where !present.contains(Int32(j)) {
            edgeColumns[i].append(Int32(j)); edgeCosts[i].append(-Double(similarity[i * n + j]))
        }
    }

    /// Adds every entry whose reduced cost is negative; frees and re-prices the rows concerned.
    mutating func addViolations() -> Bool {
        var any = false
        let tolerance = 1e-9
        for i in 0 ..< n where !fullRow[i] {
            let row = similarity + i * n
            var present: Set<Int32>?
            var lowest = u[i]
            for j in 0 ..< n {
                let c = -Double(row[j])
                let reduced = c - u[i] - v[j]
                guard reduced < -tolerance else { continue }
                if present == nil { present = Set(edgeColumns[i]) }
                if present!.contains(Int32(j)) { continue }
                edgeColumns[i].append(Int32(j)); edgeCosts[i].append(c)
                lowest = min(lowest, c - v[j])
            }
            if lowest < u[i] {
                any = true
                u[i] = lowest
                if columnOfRow[i] >= 0 { rowOfColumn[columnOfRow[i]] = -1; columnOfRow[i] = -1 }
            }
        }
        return any
    }

    /// One shortest augmenting path from the free row `root`; false when none exists in the edges held.
    mutating func augment(from root: Int) -> Bool {
        // A free row may be re-priced to its smallest reduced cost.
        var low = Double.infinity
        for (e, j) in edgeColumns[root].enumerated() { low = min(low, edgeCosts[root][e] - v[Int(j)]) }
        u[root] = low
        heap.clear()
        touched.removeAll(keepingCapacity: true)
        settledList.removeAll(keepingCapacity: true)
        visitedRows.removeAll(keepingCapacity: true)
        rowDist[root] = 0
        visitedRows.append(root)
        relax(row: root, at: 0)
        var end = -1, length = 0.0
        while let (d, j) = heap.pop() {
            if settled[j] || d > dist[j] { continue }
            settled[j] = true
            settledList.append(j)
            let i = rowOfColumn[j]
            if i < 0 { end = j; length = d; break }
            rowDist[i] = d
            visitedRows.append(i)
            relax(row: i, at: d)
        }
        defer {
            for j in touched { dist[j] = .infinity; settled[j] = false; pred[j] = -1 }
        }
        guard end >= 0 else { return false }
        for j in settledList { v[j] += dist[j] - length }
        for i in visitedRows { u[i] += length - rowDist[i] }
        var j = end
        while true {
            let i = pred[j]
            let next = columnOfRow[i]
            columnOfRow[i] = j; rowOfColumn[j] = i
            if i == root { break }
            j = next
        }
        return true
    }

    mutating func relax(row i: Int, at d: Double) {
        let ui = u[i]
        edgeColumns[i].withUnsafeBufferPointer { cols in
            edgeCosts[i].withUnsafeBufferPointer { costs in
                for e in 0 ..< cols.count {
                    let j = Int(cols[e])
                    if settled[j] { continue }
                    let nd = d + costs[e] - ui - v[j]
                    if nd < dist[j] {
                        if dist[j] == .infinity { touched.append(j) }
                        dist[j] = nd; pred[j] = i
                        heap.push(nd, j)
                    }
                }
            }
        }
    }
}

/// A binary min-heap of (distance, column) with lazy deletion.
struct ColumnHeap {
    var keys: [Double] = [], values: [Int] = []

    mutating func clear() { keys.removeAll(keepingCapacity: true); values.removeAll(keepingCapacity: true) }

    mutating func push(_ key: Double, _ value: Int) {
        keys.append(key); values.append(value)
        var c = keys.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            if keys[p] < keys[c] || (keys[p] == keys[c] && values[p] <= values[c]) { break }
            keys.swapAt(p, c); values.swapAt(p, c)
            c = p
        }
    }

    mutating func pop() -> (Double, Int)? {
        guard let top = keys.first else { return nil }
        let value = values[0]
        let last = keys.count - 1
        keys.swapAt(0, last); values.swapAt(0, last)
        keys.removeLast(); values.removeLast()
        var p = 0
        let count = keys.count
        while true {
            let l = 2 * p + 1, r = l + 1
            var m = p
            if l < count && (keys[l] < keys[m] || (keys[l] == keys[m] && values[l] < values[m])) { m = l }
            if r < count && (keys[r] < keys[m] || (keys[r] == keys[m] && values[r] < values[m])) { m = r }
            if m == p { break }
            keys.swapAt(p, m); values.swapAt(p, m)
            p = m
        }
        return (top, value)
    }
}
