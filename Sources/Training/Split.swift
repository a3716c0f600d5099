/// Row indices of a train/test split.
public struct TrainTestSplit: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]
}

/// Copies of one listing: rows that share a key value (the same id, the same normalised
/// title, …) belong to one group, transitively, and a split keeps each group on one side.
/// Otherwise a listing posted twice is learnt from one copy and "predicted" from the other,
/// and every held-out metric is inflated.
public struct DuplicateGroups: Sendable, Equatable {
    /// The group of each row; groups are numbered in order of their first row.
    public let groupOfRow: [Int]
    /// Number of groups.
    public let count: Int

    /// Rows that repeat an earlier row of their group (rows − groups).
    public var duplicateRows: Int { groupOfRow.count - count }

    /// Every row its own group (no key columns).
    public init(rows: Int) {
        groupOfRow = Array(0..<rows)
        count = rows
    }

    /// Groups rows by `keys[row]`: two rows are one group when any key position holds the same
    /// non-empty value after `normalise` (lowercased, whitespace runs collapsed, trimmed).
    public init(keys: [[String]]) {
        var parent = Array(keys.indices)
        func root(_ row: Int) -> Int {
            var row = row
            while parent[row] != row {
                parent[row] = parent[parent[row]]
                row = parent[row]
            }
            return row
        }
        var firstRow: [[String: Int]] = []
        for (row, values) in keys.enumerated() {
            for (position, value) in values.enumerated() {
                let key = Self.normalise(value)
                guard !key.isEmpty else { continue }
                while firstRow.count <= position { firstRow.append([:]) }
                if let earlier = firstRow[position][key] {
                    let (a, b) = (root(earlier), root(row))
                    if a != b { parent[max(a, b)] = min(a, b) }  // the smaller row stays the root
                } else {
                    firstRow[position][key] = row
                }
            }
        }
        var number: [Int: Int] = [:]
        groupOfRow = keys.indices.map { row in
            let r = root(row)
            if let known = number[r] { return known }
            number[r] = number.count
            return number.count - 1
        }
        count = number.count
    }

    /// The form two copies of a value share: lowercased, whitespace runs as one space, trimmed.
    public static func normalise(_ value: String) -> String {
        value.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Stratified, seeded splitting by group: each class's groups are shuffled on their own and
/// taken until the class's share of rows is reached, so both sides keep the dataset's
/// positive rate, no group is on both sides, and the split is a pure function of (labels,
/// groups, fraction, seed). A group's class is the highest label among its rows (a listing
/// copied with both labels counts as positive). With one row per group this is a plain
/// stratified row split.
public enum StratifiedSplitter {
    /// Splits so that each class sends about `round(testFraction × rows of the class)` rows to
    /// test (at least one group when the class has two or more groups, never all of them).
    /// Both sides come back sorted. Default `testFraction` in the trainer is 0.2.
    public static func split(
        labels: [Int], groups: DuplicateGroups? = nil, testFraction: Double, seed: UInt64
    ) -> TrainTestSplit {
        precondition(testFraction > 0 && testFraction < 1, "testFraction must lie in (0, 1)")
        let strata = Strata(labels: labels, groups: groups ?? DuplicateGroups(rows: labels.count))
        var generator = SeededGenerator(seed: seed)
        var train: [Int] = []
        var test: [Int] = []
        for var members in strata.groupsByClass {
            generator.shuffle(&members)
            let rows = members.reduce(0) { $0 + strata.rows[$1].count }
            let target = Int((Double(rows) * testFraction).rounded())
            var taken = 0, testRows = 0
            while taken < members.count, testRows < target || (taken == 0 && members.count >= 2) {
                if taken == members.count - 1, members.count >= 2 { break }  // keep one group for training
                testRows += strata.rows[members[taken]].count
                taken += 1
            }
            for group in members[..<taken] { test += strata.rows[group] }
            for group in members[taken...] { train += strata.rows[group] }
        }
        return TrainTestSplit(train: train.sorted(), test: test.sorted())
    }

    /// Assigns each row to one of `folds` stratified folds (seeded), whole groups at a time;
    /// returns the fold of each row. Used for out-of-fold decision values (threshold choice,
    /// Platt scaling), which copies across folds would inflate as they inflate a test split.
    public static func foldAssignment(labels: [Int], groups: DuplicateGroups? = nil, folds: Int, seed: UInt64) -> [Int] {
        precondition(folds >= 2, "at least two folds")
        let strata = Strata(labels: labels, groups: groups ?? DuplicateGroups(rows: labels.count))
        var generator = SeededGenerator(seed: seed)
        var assignment = [Int](repeating: 0, count: labels.count)
        var offset = 0
        for var members in strata.groupsByClass {
            generator.shuffle(&members)
            // Continue the round-robin across classes so small classes do not all land in fold 0.
            for (position, group) in members.enumerated() {
                for row in strata.rows[group] { assignment[row] = (position + offset) % folds }
            }
            offset += members.count
        }
        return assignment
    }

    /// Groups' rows, and each class's groups in order of their first row.
    private struct Strata {
        var rows: [[Int]]
        var groupsByClass: [[Int]]

        init(labels: [Int], groups: DuplicateGroups) {
            precondition(groups.groupOfRow.count == labels.count, "one group per row")
            rows = Array(repeating: [], count: groups.count)
            var label = [Int](repeating: Int.min, count: groups.count)
            for (row, group) in groups.groupOfRow.enumerated() {
                rows[group].append(row)
                label[group] = max(label[group], labels[row])
            }
            groupsByClass = Set(label).sorted().map { value in label.indices.filter { label[$0] == value } }
        }
    }
}
