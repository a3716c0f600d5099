import ArgumentParser
import FoundationEssentials
import Inference
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

    @Option(help: "The listings CSV (header: id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family).")
    var data: String

    @Option(help: "The storage directory; versions go to <storage>/<name>/<version>.")
    var storage: String = "models"

    @Option(help: "The model name.")
    var name: String = "prohibited-items"

    @Option(help: "logistic_regression, linear_svm or multinomial_nb (overrides the config file).")
    var algorithm: String?

    @Option(help: "A training config: a JSON file, or a YAML parameters file whose train member holds the same keys (e.g. params.yaml).")
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
        let clock = ContinuousClock()
        let start = clock.now
        let progress: @Sendable (String) -> Void = { message in
            let elapsed = (clock.now - start).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            Console.error("[\(formatSeconds(seconds))] \(message)")
        }

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
            trained = try Trainer(config: trainConfig, progress: progress).train(dataset, name: name)
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
            let outcome = try publisher.publish(trained, force: force, log: progress)
            progress("published \(outcome.directory.path)")
            print("published \(name) version \(outcome.version) at \(outcome.directory.path)")
        } catch {
            throw Console.fail("\(error)")
        }
    }
}

/// Seconds with one decimal, for progress lines.
func formatSeconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)s"
}
