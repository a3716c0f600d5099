import ArgumentParser
import FoundationEssentials
import Inference
import Training

/// `vigia evaluate`: the metrics of a published artifact on a labelled CSV, optionally on the
/// training run's held-out split only, and how they hold when the titles are disguised.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a labelled CSV with a published model version and print its metrics at the model's threshold."
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

    @Option(help: "A CSV with the model's input columns and the label column.")
    var data: String

    @Option(help: "The 0/1 label column.")
    var label: String = "is_prohibited"

    @Option(help: "all: every row; test: the rows vigia train held out with --config (the evaluation split).")
    var split: Split = .all

    @Option(help: "The training config (JSON, or params.yaml) whose split --split test reproduces (default: the built-in defaults).")
    var config: String?

    @Flag(help: "Also score the rows with every longer word of the text fields disguised (leetspeak, separated letters, repeats, homoglyphs, split words) and print recall and false alarms per disguise.")
    var robustness = false

    @Option(help: "Seed of the disguises (--robustness).")
    var disguiseSeed: UInt64 = 18

    @Option(help: "Also write the metrics (and the robustness rows) as a JSON object to this file.")
    var metrics: String?

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        let schema = ModelEvaluator.schema(for: loaded.manifest, labelColumn: label)
        var dataset: Dataset
        do {
            dataset = try CSVDatasetLoader.load(path: data, schema: schema, name: data)
        } catch {
            throw Console.fail("\(data): \(error)")
        }
        var scope = data
        if split == .test {
            let trainConfig = try Console.loadTrainConfig(at: config)
            let held = Trainer.heldOutRows(of: dataset, config: trainConfig)
            dataset = dataset.subset(held)
            scope = "the held-out split of \(data) (seed \(trainConfig.seed), test fraction \(trainConfig.testFraction))"
            if let recorded = loaded.manifest.metrics.values["test_rows"], Int(recorded) != held.count {
                Console.error("warning: the model records \(Int(recorded)) test rows, this split has \(held.count): it was trained with another config or data")
            }
        }
        let (_, measured) = ModelEvaluator.evaluate(loaded, on: dataset)
        print("\(loaded.name) version \(loaded.version) (\(loaded.algorithm.rawValue)) on \(scope):")
        print(measured.table)
        var report: RobustnessReport?
        if robustness {
            let inputs = Trainer.inputs(of: dataset.rows, schema: dataset.schema, signature: loaded.signature)
            let measuredReport = RobustnessReport.measure(loaded, inputs: inputs, labels: dataset.labels, seed: disguiseSeed)
            print("")
            print("robustness (every word of 4+ letters disguised, seed \(disguiseSeed), threshold \(loaded.threshold)):")
            print(measuredReport.table)
            report = measuredReport
        }
        if let metrics {
            do {
                try MetricsFile(measured, robustness: report).encoded().write(to: URL(fileURLWithPath: metrics))
            } catch {
                throw Console.fail("cannot write \(metrics): \(error)")
            }
        }
    }
}
