#if Training
import ArgumentParser
import FoundationEssentials
import Inference
import JSON
import Reporting
import Service
import Training

/// `vigia evaluate`: the metrics of a published artifact on a labelled CSV, optionally on the
/// training run's held-out split only, how they hold when the titles are disguised, and the
/// full evaluation report (HTML with inline SVG, and JSON).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a labelled CSV with a published model version and print its metrics at the model's threshold.",
        discussion: """
            --report writes a self-contained HTML page (ROC and PR curves, reliability diagram with Brier \
            score and calibration error, confusion matrix, score histograms by class, a slice table by \
            site, family and seller age with 95 % intervals, and recall and false alarms per disguise as \
            --robustness prints them); --json writes the same figures as JSON.
            """
    )

    /// Which rows of the CSV are scored.
    enum Split: String, ExpressibleByArgument, CaseIterable {
        /// Every row.
        case all
        /// The rows `vigia train` held out with the training config (`--config`).
        case test
    }

    @Option(help: "A version directory, e.g. models/prohibited-items/1.")
    var model: String

    @Option(help: "A CSV with the model's input columns and the label column, or a JSON Lines file (.jsonl) of listings, each with the label member.")
    var data: String

    @Option(help: "The 0/1 label column (JSON Lines: member, 0/1 or false/true).")
    var label: String = "is_prohibited"

    @Option(help: "all: every row; test: the rows vigia train held out with --config (the evaluation split).")
    var split: Split = .all

    @Option(help: "The training config whose split --split test reproduces (default: the built-in defaults).")
    var config: String?

    @Flag(help: "Also score the rows with every longer word of the text fields disguised (leetspeak, separated letters, repeats, homoglyphs, split words) and print recall and false alarms per disguise.")
    var robustness = false

    @Option(help: "Seed of the disguises (--robustness, and the report's robustness section).")
    var disguiseSeed: UInt64 = RobustnessReport.defaultSeed

    @Option(help: ArgumentHelp("Write the evaluation report as HTML to this file.", valueName: "file"),
            completion: .file(extensions: ["html"]))
    var report: String?

    @Option(help: ArgumentHelp("Write the evaluation report as JSON to this file.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var json: String?

    @Option(help: ArgumentHelp("Also write the metrics (and the robustness rows) as a JSON object with sorted keys to this file (the pipeline's metrics file).", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var metrics: String?

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        let dimensions = SliceDimension.defaults
        let evaluation: EvaluationReport
        if data.hasSuffix(".jsonl") {
            guard split == .all else { throw Console.fail("--split test reads a CSV, not JSON Lines") }
            let (measured, report, inputs, labels) = try jsonLines(loaded, dimensions: dimensions)
            print("\(loaded.name) version \(loaded.version) (\(loaded.algorithm.rawValue)) on \(data):")
            print(measured.table)
            var withRobustness = report
            withRobustness.robustness = measureRobustness(loaded, inputs: { inputs }, labels: labels)
            evaluation = withRobustness
            try writeMetrics(measured, robustness: robustness ? evaluation.robustness : nil)
        } else {
            let trainConfig = try Console.loadTrainConfig(at: config)
            // A multi-class config's class column (e.g. family) is read too: its split and the
            // per-class figures use each row's class.
            var reportingColumns = dimensions.map(\.column)
            if let column = trainConfig.classes?.column, !reportingColumns.contains(column) { reportingColumns.append(column) }
            let schema = ModelEvaluator.schema(for: loaded.manifest, labelColumn: label, reportingColumns: reportingColumns)
            var dataset: Dataset
            do {
                dataset = try CSVDatasetLoader.load(path: data, schema: schema, name: data)
            } catch {
                throw Console.fail("\(data): \(error)")
            }
            var scope = data
            if split == .test {
                let held: [Int]
                do {
                    held = try Trainer.heldOutRows(of: dataset, config: trainConfig)
                } catch {
                    throw Console.fail("\(config ?? "the default config"): \(error)")
                }
                dataset = dataset.subset(held)
                scope = "the held-out split of \(data) (seed \(trainConfig.seed), test fraction \(trainConfig.testFraction))"
                if let recorded = loaded.manifest.metrics.values["test_rows"], Int(recorded) != held.count {
                    Console.error("warning: the model records \(Int(recorded)) test rows, this split has \(held.count): it was trained with another config or data")
                }
            }
            let (_, measured) = ModelEvaluator.evaluate(loaded, on: dataset)
            print("\(loaded.name) version \(loaded.version) (\(loaded.algorithm.rawValue)) on \(scope):")
            print(measured.table)
            if loaded.manifest.positiveClasses != nil {
                print("")
                if let classes = trainConfig.classes {
                    do {
                        print(try ClassMetrics.measure(loaded, on: dataset, classes: classes).summary)
                    } catch {
                        throw Console.fail("\(error)")
                    }
                } else {
                    print("per-class figures: give --config with the training config (its classes say each row's class)")
                }
            }
            let measuredRobustness = measureRobustness(
                loaded, inputs: { Trainer.inputs(of: dataset.rows, schema: dataset.schema, signature: loaded.signature) },
                labels: dataset.labels)
            try writeMetrics(measured, robustness: robustness ? measuredRobustness : nil)
            guard report != nil || json != nil else { return }
            evaluation = ModelEvaluator.report(loaded, on: dataset, data: scope, dimensions: dimensions, robustness: measuredRobustness)
        }
        if let report { try Console.write(Array(ReportHTML.render(evaluation).utf8), to: report) }
        if let json { try Console.write([UInt8](try evaluation.jsonData()), to: json) }
    }

    /// Recall and false alarms per disguise on `inputs`, measured once when `--robustness` prints
    /// them or a report (`--report`, `--json`) shows them; nil otherwise.
    func measureRobustness(_ loaded: LoadedModel, inputs: () -> [[FeatureValue]], labels: [Int]) -> RobustnessReport? {
        guard robustness || report != nil || json != nil else { return nil }
        let measured = RobustnessReport.measure(loaded, inputs: inputs(), labels: labels, seed: disguiseSeed)
        if robustness {
            print("")
            print("robustness (every word of 4+ letters disguised, seed \(disguiseSeed), threshold \(loaded.threshold)):")
            print(measured.table)
        }
        return measured
    }

    /// `--metrics`: the figures and the robustness rows as JSON (dvc metrics show reads it).
    func writeMetrics(_ measured: EvaluationMetrics, robustness: RobustnessReport?) throws {
        guard let metrics else { return }
        do {
            try MetricsFile(measured, robustness: robustness).encoded().write(to: URL(fileURLWithPath: metrics))
        } catch {
            throw Console.fail("cannot write \(metrics): \(error)")
        }
    }

    /// Listings a line each, checked against the listing schema as `vigia predict` checks them,
    /// scored, with the 0/1 label from the `label` member and slice keys from any member; also
    /// the listings' values (signature order) and labels, for the robustness rows.
    func jsonLines(_ loaded: LoadedModel, dimensions: [SliceDimension]) throws
        -> (EvaluationMetrics, EvaluationReport, inputs: [[FeatureValue]], labels: [Int])
    {
        guard let text = FileManager.default.contents(atPath: data) else { throw Console.fail("cannot read \(data)") }
        let predictor = BatchPredictor(model: loaded)
        var scores: [Double] = [], labels: [Int] = [], keys: [[String?]] = [], inputs: [[FeatureValue]] = []
        for (index, line) in [UInt8](text).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let parsed: (listing: JSONObject, values: [FeatureValue])?
            do {
                parsed = try predictor.listing(line: Array(line), number: index + 1)
            } catch {
                throw Console.fail("\(data): \(error)")
            }
            guard let (listing, values) = parsed else { continue }
            switch listing[label] {
            case .number(0), .bool(false): labels.append(0)
            case .number(1), .bool(true): labels.append(1)
            default: throw Console.fail("\(data): line \(index + 1): /\(label) must be 0, 1, false or true")
            }
            scores.append(loaded.predict(values).score)
            inputs.append(values)
            keys.append(dimensions.map { dimension in
                switch listing[dimension.column] {
                case .string(let text): dimension.key(of: .string(text))
                case .number(let number): dimension.key(of: .number(number))
                case .bool(let flag): dimension.key(of: .bool(flag))
                default: nil
                }
            })
        }
        guard !scores.isEmpty else { throw Console.fail("\(data): no listings") }
        return (EvaluationMetrics(scores: scores, labels: labels, threshold: loaded.threshold), EvaluationReport(
            model: .init(name: loaded.name, version: loaded.version, algorithm: loaded.algorithm.rawValue), data: data,
            labels: loaded.manifest.labels, scores: scores, rowLabels: labels, threshold: loaded.threshold,
            dimensions: dimensions, sliceKeys: keys), inputs, labels)
    }
}

/// `vigia model-card`: writes MODEL_CARD.md for a version from its manifest and, when given,
/// an evaluation report (`vigia evaluate --json`). Used by the scikit-learn exporter.
struct ModelCardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-card",
        abstract: "Write a version's model card (Markdown) from its manifest and an optional evaluation report JSON."
    )

    @Option(help: "A version directory, e.g. models/prohibited-items/1.")
    var model: String

    @Option(help: ArgumentHelp("An evaluation report written by `vigia evaluate --json`.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var metrics: String?

    @Option(help: "How the threshold was chosen, in words.")
    var thresholdRule: String = "Fixed at 0.5, the classifier's own decision rule (scikit-learn's predict)."

    @Option(help: "Where the training data comes from (say so when it is synthetic).")
    var dataNote: String?

    @Option(help: "A setting to list under training configuration, as key=value (repeatable).")
    var setting: [String] = []

    @Option(help: ArgumentHelp("The Markdown file to write.", valueName: "file"), completion: .file(extensions: ["md"]))
    var output: String

    func run() throws {
        // Checksums are not verified here: the caller is writing this version's files.
        let manifest: ModelManifest
        do {
            manifest = try LoadedModel.decodeManifest(Array(try Data(contentsOf: URL(fileURLWithPath: model + "/" + ModelManifest.fileName))))
        } catch {
            throw Console.fail("\(model)/model.json: \(error)")
        }
        var report: EvaluationReport?
        if let metrics {
            do {
                report = try EvaluationReport.decode(Data(contentsOf: URL(fileURLWithPath: metrics)))
            } catch {
                throw Console.fail("\(metrics): not an evaluation report: \(error)")
            }
        }
        var configuration: [(key: String, value: String)] = []
        for entry in setting {
            guard let equals = entry.firstIndex(of: "=") else { throw Console.fail("--setting \(entry): expected key=value") }
            configuration.append((String(entry[..<equals]), String(entry[entry.index(after: equals)...])))
        }
        let card = ModelCard(manifest: manifest, report: report, datasetRows: nil, thresholdRule: thresholdRule,
                             configuration: configuration, text: ModelCardText(data: dataNote),
                             companions: report == nil ? [] : [VersionDocuments.reportFileName, Publisher.metricsFileName])
        try Console.write(Array(card.render().utf8), to: output)
    }
}
#endif
