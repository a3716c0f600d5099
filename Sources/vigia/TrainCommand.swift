#if Training
import ArgumentParser
import FoundationEssentials
import Inference
import ProgressDisplay
import Reporting
import Training
#if canImport(Glibc)
import Glibc
#endif

/// `vigia train`: dataset → split → fit → evaluate → publish the next version atomically.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a CSV and publish it as the next version in the storage directory."
    )

    @Option(help: ArgumentHelp("The listings CSV (header: id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family).", valueName: "file"),
            completion: .file(extensions: ["csv"]))
    var data: String

    @Option(help: ArgumentHelp("The storage directory; versions go to <storage>/<name>/<version>.", valueName: "directory"),
            completion: .directory)
    var storage: String = "models"

    @Option(help: "The model name.")
    var name: String = "prohibited-items"

    @Option(help: ArgumentHelp("\(TrainConfig.trainableAlgorithms.map(\.rawValue).joined(separator: ", ")) (overrides the config file).",
                               valueName: "algorithm"),
            completion: .list(TrainConfig.trainableAlgorithms.map(\.rawValue)))
    var algorithm: String?

    @Option(help: ArgumentHelp("A training config: a JSON file, or a YAML parameters file whose train member holds the same keys (e.g. params.yaml).", valueName: "file"),
            completion: .file(extensions: ["json", "yaml", "yml"]))
    var config: String?

    @Option(help: "Seed of the split, the folds and the SVM order (overrides the config file; default 42).")
    var seed: UInt64?

    @Option(help: "The dataset name recorded in the artifact (default: the CSV's base name).")
    var datasetName: String?

    @Option(help: "The dataset version recorded in the artifact.")
    var datasetVersion: String = "1"

    @Flag(help: "Publish even when the new model's PR-AUC is below the latest published version's.")
    var force = false

    func run() throws {
        let display = TerminalProgress(write: Console.raw)
        let progress: @Sendable (String) -> Void = { message in display.line(message) }

        var trainConfig = try Console.loadTrainConfig(at: config)
        if let algorithm {
            guard let parsed = Algorithm(rawValue: algorithm), TrainConfig.trainableAlgorithms.contains(parsed) else {
                let known = TrainConfig.trainableAlgorithms.map(\.rawValue).joined(separator: ", ")
                throw Console.fail("unknown algorithm \"\(algorithm)\" (expected \(known))")
            }
            trainConfig.algorithm = parsed
        }
        if let seed { trainConfig.seed = seed }

        progress("loading \(data)")
        let baseName = String(data.split(separator: "/").last ?? Substring(data)).replacingOccurrences(of: ".csv", with: "")
        let dataset: Dataset
        do {
            dataset = try CSVDatasetLoader.load(path: data, schema: trainConfig.datasetSchema, name: datasetName ?? baseName, version: datasetVersion)
        } catch {
            throw Console.fail("\(data): \(error)")
        }

        let trained: TrainedModel
        do {
            trained = try Trainer(config: trainConfig, progress: progress, advance: { display.update($0) },
                                  iterationLines: !display.isTerminal).train(dataset, name: name)
        } catch {
            throw Console.fail("\(error)")
        }
        progress("training done")
        print(Trainer.duplicateReport(rows: trained.duplicateRows, columns: trainConfig.groupColumns))
        print("held-out test split (\(trainConfig.algorithm.rawValue), seed \(trainConfig.seed)):")
        print(trained.testMetrics.table)
        print("")
        print(Trainer.flaggedByGroup(trained))

        let publisher = Publisher(storage: URL(fileURLWithPath: storage), name: name)
        do {
            let outcome = try publisher.publish(trained, force: force, documents: { report, manifest in
                let thresholdRule = switch trainConfig.thresholdRule {
                case .maximiseF1: "The score that maximises F1 on \(trainConfig.folds)-fold out-of-fold scores of the training split."
                case .precisionTarget(let target):
                    "The lowest score whose precision on \(trainConfig.folds)-fold out-of-fold scores of the training split reaches \(target) (the F1-maximising score when none does)."
                }
                let card = ModelCard(
                    manifest: manifest, report: report, datasetRows: (trained.dataset.rows, trained.dataset.positives),
                    thresholdRule: thresholdRule, configuration: trainConfig.summary, text: trainConfig.modelCard,
                    companions: [VersionDocuments.reportFileName, Publisher.metricsFileName])
                return VersionDocuments.files(report: report, card: card)
            }, log: progress)
            progress("published \(outcome.directory.path)")
            print("published \(name) version \(outcome.version) at \(outcome.directory.path)")
        } catch {
            throw Console.fail("\(error)")
        }
    }
}

extension Console {
    /// The training config at `path` (the defaults when nil); a problem ends the command.
    static func loadTrainConfig(at path: String?) throws -> TrainConfig {
        guard let path else { return TrainConfig() }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw fail("cannot read config \(path)") }
        do {
            if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                return try TrainConfig.decodeParameters(yaml: String(decoding: bytes, as: UTF8.self))
            }
            return try TrainConfig.decode(bytes)
        } catch let error as TrainingError {
            throw fail("\(path): \(error)")
        } catch {
            throw fail("\(path): not a valid training config: \(error)")
        }
    }
}
#endif
