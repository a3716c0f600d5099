import Inference

/// How a model holds when sellers disguise their words: the decision at the model's threshold
/// on the same rows, clean and with each `DisguiseKind` applied to every text field a text
/// transformer reads.
/// Stored in the evaluation report (`robustness` in metrics.json): each row as its disguise's
/// name (`clean` for the text as it is), its confusion counts, recall and false-alarm rate.
public struct RobustnessReport: Sendable, Equatable, Codable {
    /// The disguises' seed `vigia train` uses and `vigia evaluate --disguise-seed` defaults to.
    public static let defaultSeed: UInt64 = 18

    /// One row of the report: `kind` nil is the clean text.
    public struct Row: Sendable, Equatable, Codable {
        public var kind: DisguiseKind?
        public var confusion: ConfusionCounts

        public init(kind: DisguiseKind?, confusion: ConfusionCounts) {
            self.kind = kind
            self.confusion = confusion
        }

        enum CodingKeys: String, CodingKey {
            case disguise, confusion, recall
            case falseAlarmRate = "false_alarm_rate"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let name = try container.decode(String.self, forKey: .disguise)
            if name == "clean" {
                kind = nil
            } else if let kind = DisguiseKind(rawValue: name) {
                self.kind = kind
            } else {
                throw DecodingError.dataCorruptedError(forKey: .disguise, in: container, debugDescription: "unknown disguise \(name)")
            }
            confusion = try container.decode(ConfusionCounts.self, forKey: .confusion)
        }

        /// Recall and the false-alarm rate are written for readers of the file, derived again on reading.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .disguise)
            try container.encode(confusion, forKey: .confusion)
            try container.encode(recall, forKey: .recall)
            try container.encode(falseAlarmRate, forKey: .falseAlarmRate)
        }

        /// Caught prohibited rows / prohibited rows.
        public var recall: Double { confusion.recall }
        /// Flagged allowed rows / allowed rows (0 without allowed rows).
        public var falseAlarmRate: Double {
            let negatives = confusion.falsePositives + confusion.trueNegatives
            return negatives == 0 ? 0 : Double(confusion.falsePositives) / Double(negatives)
        }
        public var name: String { kind?.rawValue ?? "clean" }
    }

    /// The clean row first, then one per disguise.
    public var rows: [Row]
    /// The seed the disguised texts were drawn with.
    public var seed: UInt64

    public init(rows: [Row], seed: UInt64 = Self.defaultSeed) {
        self.rows = rows
        self.seed = seed
    }

    /// Scores `inputs` (signature order) clean and disguised by each of `kinds`. The disguise of
    /// kind k draws from `SeededGenerator(seed: seed &+ k)` row after row, so a seed gives the
    /// same disguised texts on every run.
    public static func measure(_ model: LoadedModel, inputs: [[FeatureValue]], labels: [Int],
                               kinds: [DisguiseKind] = DisguiseKind.allCases, seed: UInt64 = defaultSeed) -> RobustnessReport {
        let textFields = Self.textFieldIndices(model.manifest)
        func decide(_ rows: [[FeatureValue]]) -> ConfusionCounts {
            ConfusionCounts(scores: rows.map { model.predict($0).score }, labels: labels, threshold: model.threshold)
        }
        var report = [Row(kind: nil, confusion: decide(inputs))]
        for kind in kinds {
            var generator = SeededGenerator(seed: seed &+ UInt64(DisguiseKind.allCases.firstIndex(of: kind)!))
            let disguised = inputs.map { disguise($0, fields: textFields, as: kind, using: &generator) }
            report.append(Row(kind: kind, confusion: decide(disguised)))
        }
        return RobustnessReport(rows: report, seed: seed)
    }

    /// `values` with the string values at `fields` disguised.
    static func disguise(_ values: [FeatureValue], fields: [Int], as kind: DisguiseKind,
                         using generator: inout SeededGenerator) -> [FeatureValue] {
        var result = values
        for field in fields where field < result.count {
            if case .string(let text) = result[field] {
                result[field] = .string(Disguiser.disguise(text.string, as: kind, using: &generator))
            }
        }
        return result
    }

    /// Signature positions of the fields text transformers read, in order, each once.
    static func textFieldIndices(_ manifest: ModelManifest) -> [Int] {
        var indices: [Int] = []
        for case .text(let text) in manifest.pipeline.transformers {
            if let index = manifest.signature.index(of: text.field), !indices.contains(index) { indices.append(index) }
        }
        return indices
    }

    /// A fixed-width table: recall and false alarms per disguise, with the counts.
    public var table: String {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        var lines = [pad("disguise", 13) + pad("recall", 8) + pad("caught", 14) + pad("false alarms", 14) + "flagged allowed"]
        for row in rows {
            let c = row.confusion
            lines.append(pad(row.name, 13) + pad(formatFixed(row.recall, digits: 4), 8)
                + pad("\(c.truePositives)/\(c.truePositives + c.falseNegatives)", 14)
                + pad(formatFixed(row.falseAlarmRate, digits: 4), 14)
                + "\(c.falsePositives)/\(c.falsePositives + c.trueNegatives)")
        }
        return lines.joined(separator: "\n")
    }
}

extension Trainer {
    /// The rows `vigia train` holds out with `config` (the same groups, fractions and seed, and
    /// for a multi-class config the same stratification by whether a row's class is positive),
    /// so a published model can be evaluated again on exactly its evaluation split.
    public static func heldOutRows(of dataset: Dataset, config: TrainConfig) throws(TrainingError) -> [Int] {
        let groups = DuplicateGroups(keys: groupKeys(dataset, columns: config.groupColumns))
        let labels = try config.classes.map { classes throws(TrainingError) in
            try ClassAssignment(dataset: dataset, config: classes).binaryLabels
        } ?? dataset.labels
        return StratifiedSplitter.split(labels: labels, groups: groups, testFraction: config.testFraction, seed: config.seed).test
    }
}
