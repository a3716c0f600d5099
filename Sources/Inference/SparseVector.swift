/// A sparse feature vector: strictly increasing indices, one value each.
/// The common currency between feature pipelines, models and the trainer.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Double]

    public init(indices: [Int32] = [], values: [Double] = []) {
        precondition(indices.count == values.count, "one value per index")
        self.indices = indices
        self.values = values
    }

    public var count: Int { indices.count }

    /// The dot product with a dense weight vector (indices must be in range).
    @inlinable
    public func dot(_ weights: [Double]) -> Double {
        var sum = 0.0
        weights.withUnsafeBufferPointer { w in
            for k in indices.indices { sum += w[Int(indices[k])] * values[k] }
        }
        return sum
    }
}
