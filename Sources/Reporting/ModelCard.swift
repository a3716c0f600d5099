import Inference
import Training

/// `MODEL_CARD.md` of a version: what the model is for, what it learnt from, how well it does
/// overall and by slice, how its threshold was chosen, how it was trained, and what it cannot
/// do. A pure function of what the caller knows about the version.
public struct ModelCard: Sendable {
    public var manifest: ModelManifest
    /// The evaluation the card reports; nil when the version was published without labelled data.
    public var report: EvaluationReport?
    /// Rows and positives of the training data, when known.
    public var datasetRows: (rows: Int, positives: Int)?
    /// How the threshold was chosen, in words.
    public var thresholdRule: String
    /// Training settings, in the order to list them.
    public var configuration: [(key: String, value: String)]
    public var text: ModelCardText
    /// Files of the version the card points to (the HTML report, metrics.json).
    public var companions: [String]

    public init(
        manifest: ModelManifest, report: EvaluationReport?, datasetRows: (rows: Int, positives: Int)?,
        thresholdRule: String, configuration: [(key: String, value: String)], text: ModelCardText, companions: [String]
    ) {
        self.manifest = manifest
        self.report = report
        self.datasetRows = datasetRows
        self.thresholdRule = thresholdRule
        self.configuration = configuration
        self.text = text
        self.companions = companions
    }

    static func cell(_ text: String) -> String { text.replacing("|", with: "\\|").replacing("\n", with: " ") }

    public func render() -> String {
        let m = manifest
        let positive = m.labels.count == 2 ? m.labels[1] : "positive"
        var out: [String] = ["# Model card: \(m.name) version \(m.version)", ""]
        out += [
            "| | |", "|---|---|",
            "| algorithm | `\(m.algorithm.rawValue)` |",
            "| artifact format | \(m.formatVersion) |",
            "| labels | \(m.labels.map { "`\($0)`" }.joined(separator: ", ")) |",
            "| threshold | \(formatFixed(m.threshold, digits: 4)) (`score ≥ threshold` is `\(positive)`) |",
            "| inputs | \(m.signature.fields.map { "`\($0.name)`\($0.required ? "" : " (optional)")" }.joined(separator: ", ")) |",
            "",
        ]
        out += ["## Intended use", "",
                text.intendedUse ?? "Scores marketplace listings so that reviewers see the likeliest `\(positive)` ones first and clear listings pass without review. The score ranks; the label is the decision at the threshold. It is not meant to remove listings without a person reviewing them, nor for data unlike its training data.",
                ""]
        out += ["## Data", ""]
        if let note = text.data { out += [note, ""] }
        var dataLine = "Dataset `\(m.dataset.name)` version `\(m.dataset.version)`, fingerprint `\(m.dataset.fingerprint)`"
        if let rows = datasetRows { dataLine += ": \(rows.rows) rows, \(rows.positives) `\(positive)`" }
        out += [dataLine + ".", ""]
        if let report {
            out += ["Evaluated on: \(report.data).", ""]
        }

        out += ["## Metrics", ""]
        if let report {
            let o = report.overall
            let c = report.calibration
            out += ["| metric | value [95 % interval] |", "|---|---|",
                    "| ROC-AUC | \(withInterval(o.rocAUC, o.rocAUCInterval, digits: 4)) |",
                    "| PR-AUC (average precision) | \(number(o.prAUC)) |",
                    "| precision | \(withInterval(o.precision, o.precisionInterval, digits: 4)) |",
                    "| recall | \(withInterval(o.recall, o.recallInterval, digits: 4)) |",
                    "| F1 | \(number(report.f1)) |", "| accuracy | \(number(report.accuracy)) |",
                    "| Brier score | \(number(c.brierScore)) |",
                    "| expected calibration error (10 bins) | \(number(c.expectedCalibrationError)) |",
                    "| confusion at the threshold | tp \(report.confusion.truePositives), fp \(report.confusion.falsePositives), tn \(report.confusion.trueNegatives), fn \(report.confusion.falseNegatives) |",
                    ""]
            out += ["### By slice", "",
                    "Intervals are 95 %: Wilson for precision and recall, a seeded stratified bootstrap for ROC-AUC; – where a slice lacks a class or flags nothing.",
                    ""]
            for dimension in report.sliceDimensions {
                out += ["**\(dimension.name)** (`\(dimension.column)`)", "",
                        "| slice | rows | \(positive) | ROC-AUC | PR-AUC | precision | recall |", "|---|---:|---:|---|---:|---|---|"]
                for slice in report.slices where slice.dimension == dimension.name {
                    out.append("| \(Self.cell(slice.key)) | \(slice.rows) | \(slice.positives) | \(withInterval(slice.rocAUC, slice.rocAUCInterval)) | \(number(slice.prAUC, digits: 3)) | \(withInterval(slice.precision, slice.precisionInterval)) | \(withInterval(slice.recall, slice.recallInterval)) |")
                }
                out.append("")
            }
            if let robustness = report.robustness {
                out += ["### Disguised words", "",
                        "The same rows with every word of four or more letters in the text fields disguised one way (seed \(robustness.seed)), at the threshold.",
                        "", "| disguise | recall | \(positive) caught | false-alarm rate | flagged |", "|---|---:|---:|---:|---:|"]
                for row in robustness.rows {
                    let c = row.confusion
                    out.append("| \(row.name) | \(number(row.recall)) | \(c.truePositives) / \(c.truePositives + c.falseNegatives) | \(number(row.falseAlarmRate)) | \(c.falsePositives) / \(c.falsePositives + c.trueNegatives) |")
                }
                out.append("")
            }
        } else {
            out += ["No labelled evaluation was stored with this version.", ""]
        }

        out += ["## Threshold rule", "", thresholdRule, ""]
        out += ["## Training configuration", ""]
        if configuration.isEmpty {
            out += ["Not recorded.", ""]
        } else {
            out += ["| setting | value |", "|---|---|"] + configuration.map { "| \(Self.cell($0.key)) | \(Self.cell($0.value)) |" } + [""]
        }
        out += ["## Limitations", ""]
        var limitations = text.limitations ?? []
        limitations += [
            "Metrics hold for data like the evaluation data; a new site, category or seller population needs its own evaluation before the figures apply to it.",
            "Slices with few rows or one class have wide intervals or none; read them as indications, not measurements.",
            "The score is a probability only as far as the reliability diagram shows; it drifts when the input distribution does.",
        ]
        out += limitations.map { "- " + $0 } + [""]
        if !companions.isEmpty {
            out += ["## Files", "", companions.map { "`\($0)`" }.joined(separator: ", ") + " in this version directory, checksummed in `model.json` like every file.", ""]
        }
        return out.joined(separator: "\n")
    }
}

/// The human-readable files stored in a version directory next to `metrics.json`.
public enum VersionDocuments {
    public static let reportFileName = "report.html"
    public static let cardFileName = "MODEL_CARD.md"

    /// The HTML report (when there is an evaluation) and the model card, as bytes to write.
    public static func files(report: EvaluationReport?, card: ModelCard) -> [(name: String, bytes: [UInt8])] {
        var files: [(name: String, bytes: [UInt8])] = []
        if let report { files.append((reportFileName, Array(ReportHTML.render(report).utf8))) }
        files.append((cardFileName, Array(card.render().utf8)))
        return files
    }
}
