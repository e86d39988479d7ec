/// The result of `tree M1 ... Mn` (`pedigree.tree/1`): the models as nodes (identical files and
/// conversions of each other form one node), a directed spanning forest whose edges run from
/// parent to child, an edge to each parent of a merge, and undirected `related` edges for models
/// that share weights without descending from one another.
public struct FamilyTree: Codable, Sendable, Equatable {
    public var schema = "pedigree.tree/1"
    public var tool = ToolInfo()
    public var alpha: Double
    /// Every model given, in order.
    public var models: [TreeModel]
    public var nodes: [TreeNode]
    public var edges: [TreeEdge]
    /// Nodes without a parent, in node order.
    public var roots: [Int]
    public var comparisons: TreeComparisons
    public var caveat: String
    public var findings: [Finding]
}

public struct TreeModel: Codable, Sendable, Equatable {
    /// The path as given.
    public var path: String
    /// A short name: the path without the folder all models share.
    public var label: String
    public var format: String
    public var tensors: Int
    public var parameters: Int
    public var dtypes: [String: Int]
    /// The node this model belongs to.
    public var node: Int
}

public struct TreeNode: Codable, Sendable, Equatable {
    public var id: Int
    /// Indices into `models`: the first is the node's representative (compared with the others).
    public var models: [Int]
    /// How the members relate to the representative (`identical` or `conversion`), one per member after the first.
    public var memberRelations: [Relation]?
    public var label: String
    /// The parent node on the tree (absent for roots and merges, whose parents are edges of kind `merge`).
    public var parent: Int?
    public var depth: Int
}

public struct TreeEdge: Codable, Sendable, Equatable {
    /// `parent` (a tree edge), `merge` (one per parent of a merge) or `related` (undirected).
    public var kind: String
    /// The parent node (for `related`, the lower-numbered node).
    public var from: Int
    /// The child node.
    public var to: Int
    public var directed: Bool
    public var relation: Relation
    /// `evidence` when the comparison shows the direction, `structure` when the tree's shape
    /// chose it (the parent is the more central model of its family), absent when undirected.
    public var direction: String?
    /// A merge parent's weight.
    public var weight: Double?
    public var pValue: Double?
    public var log10PValue: Double?
    /// sqrt(Σ||parent − child||²) / sqrt(Σ||parent||²) over the shared matrices and embeddings.
    public var distance: Double?
    public var summary: String
}

/// How much work the tree took: pairs considered, those the pre-filter settled, full comparisons.
public struct TreeComparisons: Codable, Sendable, Equatable {
    public var pairs: Int
    /// Pairs with no 2-D tensor shape in common (different architectures): not compared.
    public var skippedByShape: Int
    /// Pairs whose sampled rows show chance-level similarity and no shared row-norm profile.
    public var skippedBySample: Int
    /// Pairs with nothing both sides can decode.
    public var skippedUndecodable: Int
    /// Pairs not compared because a model is identical to, or a conversion of, one already compared.
    public var skippedByGroup: Int
    /// Full comparisons run (`compare`).
    public var full: Int
}
