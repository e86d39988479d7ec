/// How rows of a stored tensor map to the canonical (Hugging Face) row order.
///
/// llama.cpp's converter reorders the rows of `q_proj` and `k_proj` for its rotary layout
/// (formats.md section 4.3): within each head of `headDim` rows, HF row `c·half + i` is stored at
/// `2i + c`. Undoing it lets a GGUF file compare bit for bit with the safetensors it came from.
public enum RowMap: Sendable, Equatable, Codable {
    case identity
    /// Rotary interleave over `heads` heads (n_head for Q, n_head_kv for K).
    case rotary(heads: Int)

    /// The stored row of canonical row `row` in a tensor of `rows` rows.
    @inline(__always)
    public func storedRow(_ row: Int, rows: Int) -> Int {
        switch self {
        case .identity:
            return row
        case .rotary(let heads):
            let headDim = rows / heads
            let half = headDim / 2
            let head = row / headDim, within = row % headDim
            let c = within / half, i = within % half
            return head * headDim + 2 * i + c
        }
    }

    /// True when the map can apply to a tensor of `rows` rows (whole heads of an even size).
    public func fits(rows: Int) -> Bool {
        switch self {
        case .identity: true
        case .rotary(let heads): heads > 0 && rows % heads == 0 && (rows / heads) % 2 == 0
        }
    }
}
