import ArgumentParser
import Inference

/// `vigia validate`: loads a version directory exactly as the registry will (manifest,
/// checksums, pipeline and model consistency, the stored example) and reports the first problem.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check that a model version directory loads: manifest, checksums, example. Exits 1 with the precise error otherwise."
    )

    @Argument(help: "A version directory, e.g. models/prohibited-items/1.")
    var directory: String

    func run() throws {
        let model = try Console.loadModel(at: directory)
        let example = model.predict(model.manifest.example.input)
        print("ok: \(model.name) version \(model.version) (\(model.algorithm.rawValue)), \(model.pipeline.dimension) features, threshold \(model.threshold)")
        print("example scores \(example.score) (\(example.label)); expected \(model.manifest.example.expectedScore)")
        print("dataset \(model.manifest.dataset.name) v\(model.manifest.dataset.version) \(model.manifest.dataset.fingerprint)")
    }
}
