import FoundationEssentials
import Inference

/// What publishing did.
public struct PublishOutcome: Sendable {
    public var version: Int
    public var directory: URL
    /// The version compared against and its PR-AUC on this run's test split, if one was published.
    public var previous: (version: Int, prAUC: Double)?
}

extension Publisher {
    /// The dataset description (`DatasetDescription` JSON) stored next to `model.json`.
    public static let datasetFileName = "dataset.json"

    /// PR-AUC of an already published version on `trained`'s test split (the same rows the
    /// candidate is measured on), scoring through the published artifact itself.
    public func publishedPRAUC(version: Int, on trained: TrainedModel) throws(ArtifactError) -> Double? {
        let published = try LoadedModel.load(directory: directory(of: version).path)
        let names = trained.manifest.signature.fields.map(\.name)
        let scores = trained.testInputs.map { values in
            var input: [String: FeatureValue] = [:]
            for (name, value) in zip(names, values) { input[name] = value }
            return published.predict(input).score
        }
        return RankingMetrics.averagePrecision(scores: scores, labels: trained.testLabels)
    }

    /// Publishes `trained` as the next version unless it is worse (lower PR-AUC on the same test
    /// split) than the latest published version; `force` publishes anyway. A latest version that
    /// no longer loads is reported through `log` and not compared against. The artifact is
    /// written with `ArtifactWriter` into the temporary dot-directory and loaded back with
    /// `LoadedModel.load` (checksums, example) before the rename makes it visible.
    public func publish(
        _ trained: TrainedModel, force: Bool, log: (String) -> Void = { _ in }
    ) throws(TrainingError) -> PublishOutcome {
        try removeStaleTemporaryDirectories()
        var previous: (version: Int, prAUC: Double)?
        if let latest = try publishedVersions().last {
            do {
                if let prAUC = try publishedPRAUC(version: latest, on: trained) { previous = (latest, prAUC) }
            } catch {
                log("version \(latest) does not load (\(error)); not comparing against it")
            }
        }
        let candidate = trained.testMetrics.prAUC ?? 0
        if let previous {
            log("PR-AUC on this test split: candidate \(formatFixed(candidate, digits: 4)), version \(previous.version) \(formatFixed(previous.prAUC, digits: 4))")
            if candidate < previous.prAUC, !force {
                throw .worseThanPublished(candidate: candidate, published: previous.prAUC, version: previous.version)
            }
        }
        let created = Date.now.formatted(.iso8601)
        let result = try publish { directory, version in
            var manifest = trained.manifest
            manifest.version = version
            manifest.created = created
            // The full dataset description travels with the artifact, checksummed like weights.bin.
            let description = [UInt8](try trained.dataset.jsonData()) + [UInt8(ascii: "\n")]
            try Data(description).write(to: directory.appending(path: Self.datasetFileName))
            manifest.files[Self.datasetFileName] = SHA256.hex(description)
            try ArtifactWriter.write(manifest: manifest, weights: trained.weights, to: directory.path)
            _ = try LoadedModel.load(directory: directory.path, checkLocation: false)
        }
        return PublishOutcome(version: result.version, directory: result.directory, previous: previous)
    }
}
