import Inference

/// Each row's class for a multi-class model, from `ClassesConfig`: the class names (sorted,
/// as scikit-learn's `classes_`), which are positive, and per row its class index.
public struct ClassAssignment: Sendable, Equatable {
    /// Sorted class names, as written into the artifact's `labels`.
    public let names: [String]
    /// Per class, whether its probability counts towards `score`.
    public let positive: [Bool]
    /// Per dataset row, its class index.
    public let rowClass: [Int]

    /// The positive classes' names, in `names` order.
    public var positiveNames: [String] { names.indices.filter { positive[$0] }.map { names[$0] } }
    /// Per row, 1 when its class is positive (what the threshold and the split are chosen on).
    public var binaryLabels: [Int] { rowClass.map { positive[$0] ? 1 : 0 } }

    public init(dataset: Dataset, config: ClassesConfig) throws(TrainingError) {
        guard let column = dataset.columnIndex(config.column) else {
            throw .invalidConfig("classes.column: \(config.column) is not a column of the dataset")
        }
        let values: [String?] = dataset.rows.map { row in
            if case .string(let text) = row.values[column], !text.string.isEmpty { return text.string }
            return nil
        }
        var names = Set(config.names ?? values.compactMap { $0 })
        if let other = config.other { names.insert(other) }
        let sorted = names.sorted()
        guard sorted.count >= 3 else {
            throw .invalidConfig("classes: \(sorted.count) classes (\(sorted.joined(separator: ", "))); a multi-class model needs at least 3 (use the 0/1 label for two)")
        }
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        var rowClass: [Int] = []
        rowClass.reserveCapacity(values.count)
        for (k, value) in values.enumerated() {
            if let value, let c = index[value] {
                rowClass.append(c)
            } else if let other = config.other {
                rowClass.append(index[other]!)
            } else {
                let what = value.map { "\"\($0)\"" } ?? "an empty value"
                throw .invalidConfig("classes: line \(dataset.rows[k].line), column \(config.column): \(what) is not one of classes.names and classes.other is not set")
            }
        }
        var counts = [Int](repeating: 0, count: sorted.count)
        for c in rowClass { counts[c] += 1 }
        if let empty = counts.firstIndex(of: 0) {
            throw .notEnoughData("class \(sorted[empty]) has no rows")
        }
        let given = config.positive ?? config.negative ?? [config.other!]
        for name in given + config.thresholds.keys.sorted() where index[name] == nil {
            throw .invalidConfig("classes: \"\(name)\" is not a class (the classes are \(sorted.joined(separator: ", ")))")
        }
        let positive = sorted.map { config.positive != nil ? given.contains($0) : !given.contains($0) }
        guard positive.contains(true), positive.contains(false) else {
            throw .invalidConfig("classes: at least one class must be positive and one negative")
        }
        for name in config.thresholds.keys where !positive[index[name]!] {
            throw .invalidConfig("classes.thresholds: \(name) is not a positive class")
        }
        self.names = sorted
        self.positive = positive
        self.rowClass = rowClass
    }
}

extension ClassAssignment {
    /// The probability of the positive classes (the model's `score`), as `ClassPolicy` sums it.
    func score(_ probabilities: [Double]) -> Double {
        var score = 0.0
        for c in probabilities.indices where positive[c] { score += probabilities[c] }
        return min(1, max(0, score))
    }
}

/// Held-out figures of a multi-class model: accuracy of the most probable class, and per class
/// its recall and precision as the label (`class_recall.<name>`, `class_precision.<name>`) and
/// the ROC AUC of its probability, one class against the rest (`class_roc_auc.<name>`; absent
/// when the rows hold only that class or none of it).
public struct ClassMetrics: Sendable {
    public let values: [String: Double]
    public let summary: String

    public init(predictions: [Prediction], classes truth: [Int], names: [String]) {
        var correct = 0
        var rows = [Int](repeating: 0, count: names.count), labelled = rows, hits = rows
        var probabilities = [[Double]](repeating: [], count: names.count), actuals: [Int] = []
        for (prediction, actual) in zip(predictions, truth) {
            guard let scores = prediction.classScores else { continue }
            if scores.mostProbable == actual { correct += 1 }
            rows[actual] += 1
            labelled[scores.labelIndex] += 1
            if scores.labelIndex == actual { hits[actual] += 1 }
            for c in names.indices { probabilities[c].append(scores.probabilities[c]) }
            actuals.append(actual)
        }
        var values = ["class_accuracy": predictions.isEmpty ? 0 : Double(correct) / Double(predictions.count)]
        var lines = ["class                         rows  recall  precision  roc_auc"]
        for (c, name) in names.enumerated() {
            let recall = rows[c] > 0 ? Double(hits[c]) / Double(rows[c]) : 0
            let precision = labelled[c] > 0 ? Double(hits[c]) / Double(labelled[c]) : 0
            let auc = RankingMetrics.rocAUC(scores: probabilities[c], labels: actuals.map { $0 == c ? 1 : 0 })
            values["class_recall.\(name)"] = recall
            values["class_precision.\(name)"] = precision
            if let auc { values["class_roc_auc.\(name)"] = auc }
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
            lines.append(pad(name, 30) + pad(String(rows[c]), 6) + pad(formatFixed(recall, digits: 4), 8)
                + pad(formatFixed(precision, digits: 4), 11) + (auc.map { formatFixed($0, digits: 4) } ?? "-"))
        }
        lines.append("class accuracy (most probable class): \(formatFixed(values["class_accuracy"]!, digits: 4))")
        self.values = values
        summary = lines.joined(separator: "\n")
    }

    /// The figures of `model` (a multi-class one) on `dataset`, each row's class from the
    /// training config's `classes`; refused when those classes are not the model's.
    public static func measure(_ model: LoadedModel, on dataset: Dataset, classes config: ClassesConfig) throws(TrainingError) -> ClassMetrics {
        let assignment = try ClassAssignment(dataset: dataset, config: config)
        guard assignment.names == model.manifest.labels else {
            throw .invalidConfig("classes: the config's classes (\(assignment.names.joined(separator: ", "))) are not the model's (\(model.manifest.labels.joined(separator: ", ")))")
        }
        let predictions = Trainer.inputs(of: dataset.rows, schema: dataset.schema, signature: model.signature).map { model.predict($0) }
        return ClassMetrics(predictions: predictions, classes: assignment.rowClass, names: assignment.names)
    }
}
