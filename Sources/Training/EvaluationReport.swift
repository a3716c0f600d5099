import FoundationEssentials
import Inference

/// Everything the evaluation report shows, computed from one set of scored, labelled rows:
/// the curves, calibration, confusion at the threshold, score histograms by class and the
/// slice table. Written as `metrics.json` (snake_case keys) and rendered as HTML elsewhere.
/// Deterministic: the same rows give the same report (bootstrap intervals use fixed seeds).
public struct EvaluationReport: Sendable, Equatable, Codable {
    /// Version of this JSON layout.
    public var reportFormat = 1
    public var model: ModelIdentity
    /// What the rows are (`held-out test split of listings v1`, a CSV path).
    public var data: String
    public var threshold: Double
    public var labels: [String]
    /// Every row as one slice (`all`/`all`), with its intervals.
    public var overall: SliceMetrics
    public var accuracy: Double
    public var f1: Double
    public var confusion: ConfusionCounts
    /// At most `curveLimit` points each (thinned where the curve hardly moves).
    public var rocCurve: [ScoreAnalysis.CurvePoint]
    public var precisionRecallCurve: [ScoreAnalysis.CurvePoint]
    public var calibration: ScoreAnalysis.Calibration
    public var histograms: ScoreAnalysis.Histograms
    public var sliceDimensions: [SliceDimension]
    public var slices: [SliceMetrics]
    /// Recall and false alarms at the threshold with the words of the text fields disguised,
    /// one row per disguise beside the clean one; nil when it was not measured.
    public var robustness: RobustnessReport?

    public struct ModelIdentity: Sendable, Equatable, Codable {
        public var name: String
        public var version: Int
        public var algorithm: String

        public init(name: String, version: Int, algorithm: String) {
            self.name = name
            self.version = version
            self.algorithm = algorithm
        }
    }

    enum CodingKeys: String, CodingKey {
        case reportFormat = "report_format"
        case model, data, threshold, labels, overall, accuracy, f1, confusion
        case rocCurve = "roc_curve"
        case precisionRecallCurve = "precision_recall_curve"
        case calibration, histograms
        case sliceDimensions = "slice_dimensions"
        case slices, robustness
    }

    public static let curveLimit = 300

    /// The report of `scores` against 0/1 `labels` at `threshold`; `sliceKeys[row][d]` is
    /// row's key in `dimensions[d]` (see `Slicing.keys`).
    public init(
        model: ModelIdentity, data: String, labels: [String], scores: [Double], rowLabels: [Int], threshold: Double,
        dimensions: [SliceDimension], sliceKeys: [[String?]], robustness: RobustnessReport? = nil,
        bootstrapResamples: Int = 200
    ) {
        precondition(scores.count == rowLabels.count && scores.count == sliceKeys.count && !scores.isEmpty,
                     "one label and one set of slice keys per score, at least one row")
        self.model = model
        self.data = data
        self.threshold = threshold
        self.labels = labels
        self.robustness = robustness
        overall = SliceMetrics(dimension: "all", key: "all", scores: scores, labels: rowLabels, threshold: threshold,
                               bootstrapResamples: bootstrapResamples)
        let counts = ConfusionCounts(scores: scores, labels: rowLabels, threshold: threshold)
        confusion = counts
        accuracy = counts.accuracy
        f1 = counts.f1
        rocCurve = ScoreAnalysis.thin(ScoreAnalysis.rocCurve(scores: scores, labels: rowLabels), limit: Self.curveLimit)
        precisionRecallCurve = ScoreAnalysis.thin(
            ScoreAnalysis.precisionRecallCurve(scores: scores, labels: rowLabels), limit: Self.curveLimit)
        calibration = ScoreAnalysis.calibration(scores: scores, labels: rowLabels)
        histograms = ScoreAnalysis.histograms(scores: scores, labels: rowLabels)
        let present = dimensions.indices.filter { d in sliceKeys.contains { $0[d] != nil } }
        sliceDimensions = present.map { dimensions[$0] }
        slices = Slicing.metrics(dimensions: sliceDimensions, keys: sliceKeys.map { keys in present.map { keys[$0] } },
                                 scores: scores, labels: rowLabels, threshold: threshold,
                                 bootstrapResamples: bootstrapResamples)
    }

    /// `metrics.json`: pretty-printed, keys sorted, so two runs on the same rows are byte-identical.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> EvaluationReport {
        try JSONDecoder().decode(EvaluationReport.self, from: data)
    }
}

extension ModelEvaluator {
    /// The evaluation report of a published model on a labelled dataset (scored as serving
    /// scores), sliced by the dimensions whose columns the dataset has, with `robustness` as measured
    /// on the same rows.
    public static func report(
        _ model: LoadedModel, on dataset: Dataset, data: String, dimensions: [SliceDimension] = SliceDimension.defaults,
        robustness: RobustnessReport? = nil
    ) -> EvaluationReport {
        let (scores, _) = evaluate(model, on: dataset)
        return EvaluationReport(
            model: .init(name: model.name, version: model.version, algorithm: model.algorithm.rawValue),
            data: data, labels: model.manifest.labels, scores: scores, rowLabels: dataset.labels,
            threshold: model.threshold, dimensions: dimensions,
            sliceKeys: Slicing.keys(of: dataset.rows, schema: dataset.schema, dimensions: dimensions), robustness: robustness)
    }
}
