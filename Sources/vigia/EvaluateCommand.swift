import ArgumentParser
import Inference
import Training

/// `vigia evaluate`: the metrics of a published artifact on a labelled CSV.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a labelled CSV with a published model version and print its metrics at the model's threshold."
    )

    @Option(help: "A version directory, e.g. models/prohibited-items/1.")
    var model: String

    @Option(help: "A CSV with the model's input columns and the label column.")
    var data: String

    @Option(help: "The 0/1 label column.")
    var label: String = "is_prohibited"

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        let schema = ModelEvaluator.schema(for: loaded.manifest, labelColumn: label)
        let dataset: Dataset
        do {
            dataset = try CSVDatasetLoader.load(path: data, schema: schema, name: data)
        } catch {
            throw Console.fail("\(data): \(error)")
        }
        let (_, metrics) = ModelEvaluator.evaluate(loaded, on: dataset)
        print("\(loaded.name) version \(loaded.version) (\(loaded.algorithm.rawValue)) on \(data):")
        print(metrics.table)
    }
}
