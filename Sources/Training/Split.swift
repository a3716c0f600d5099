/// Row indices of a train/test split.
public struct TrainTestSplit: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]
}

/// Stratified, seeded splitting: each class is shuffled on its own and cut at the same
/// fraction, so both sides keep the dataset's positive rate and the split is a pure
/// function of (labels, fraction, seed).
public enum StratifiedSplitter {
    /// Splits rows so that `round(testFraction × classCount)` rows of each class go to test
    /// (at least one when the class has two or more rows). Both sides come back sorted.
    /// Default `testFraction` in the trainer is 0.2.
    public static func split(labels: [Int], testFraction: Double, seed: UInt64) -> TrainTestSplit {
        precondition(testFraction > 0 && testFraction < 1, "testFraction must lie in (0, 1)")
        var generator = SeededGenerator(seed: seed)
        var train: [Int] = []
        var test: [Int] = []
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            generator.shuffle(&members)
            var testCount = Int((Double(members.count) * testFraction).rounded())
            if members.count >= 2 { testCount = min(max(testCount, 1), members.count - 1) }
            test += members[..<testCount]
            train += members[testCount...]
        }
        return TrainTestSplit(train: train.sorted(), test: test.sorted())
    }

    /// Assigns each row to one of `folds` stratified folds (seeded); returns the fold of each row.
    /// Used for out-of-fold decision values (threshold choice, Platt scaling).
    public static func foldAssignment(labels: [Int], folds: Int, seed: UInt64) -> [Int] {
        precondition(folds >= 2, "at least two folds")
        var generator = SeededGenerator(seed: seed)
        var assignment = [Int](repeating: 0, count: labels.count)
        var offset = 0
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            generator.shuffle(&members)
            // Continue the round-robin across classes so small classes do not all land in fold 0.
            for (position, row) in members.enumerated() { assignment[row] = (position + offset) % folds }
            offset += members.count
        }
        return assignment
    }
}
