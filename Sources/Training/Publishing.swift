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

    /// The evaluation report (`EvaluationReport` JSON) stored next to `model.json`.
    public static let metricsFileName = "metrics.json"

    /// An already published version measured on `trained`'s test split (the same rows the
    /// candidate is measured on), scoring through the published artifact itself: its PR-AUC
    /// and its slices (at its own threshold, without intervals).
    public func publishedEvaluation(version: Int, on trained: TrainedModel) throws(ArtifactError) -> (prAUC: Double?, slices: [SliceMetrics]) {
        let published = try LoadedModel.load(directory: directory(of: version).path)
        let names = trained.manifest.signature.fields.map(\.name)
        let scores = trained.testInputs.map { values in
            var input: [String: FeatureValue] = [:]
            for (name, value) in zip(names, values) { input[name] = value }
            return published.predict(input).score
        }
        let slices = Slicing.metrics(dimensions: trained.config.slices, keys: trained.testSliceKeys, scores: scores,
                                     labels: trained.testLabels, threshold: published.threshold, bootstrapResamples: 0)
        return (RankingMetrics.averagePrecision(scores: scores, labels: trained.testLabels), slices)
    }

    /// Publishes `trained` as the next version unless it is worse than the latest published
    /// version on the same test split — lower PR-AUC, or a guarded slice (`config.sliceGuard`,
    /// by default each site) lower by more than the tolerance; `force` publishes anyway. A
    /// latest version that no longer loads is reported through `log` and not compared against.
    /// Next to the artifact go `dataset.json`, `metrics.json` (the evaluation report) and the
    /// `documents` rendered from the report with its final version (the HTML report, the model
    /// card), all checksummed in `files`. The artifact is written with `ArtifactWriter` into the
    /// temporary dot-directory and loaded back with `LoadedModel.load` (checksums, example)
    /// before the rename makes it visible.
    public func publish(
        _ trained: TrainedModel, force: Bool,
        documents: (EvaluationReport, ModelManifest) -> [(name: String, bytes: [UInt8])] = { _, _ in [] },
        log: (String) -> Void = { _ in }
    ) throws(TrainingError) -> PublishOutcome {
        try removeStaleTemporaryDirectories()
        var previous: (version: Int, prAUC: Double)?
        var previousSlices: (version: Int, slices: [SliceMetrics])?
        if let latest = try publishedVersions().last {
            do {
                let evaluation = try publishedEvaluation(version: latest, on: trained)
                if let prAUC = evaluation.prAUC { previous = (latest, prAUC) }
                previousSlices = (latest, evaluation.slices)
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
        if let previousSlices {
            let regressions = trained.config.sliceGuard.regressions(candidate: trained.report.slices, previous: previousSlices.slices)
            for regression in regressions { log("slice regression against version \(previousSlices.version): \(regression)") }
            if !regressions.isEmpty, !force { throw .sliceRegression(regressions, version: previousSlices.version) }
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
            var report = trained.report
            report.model.version = version
            let files = [(name: Self.metricsFileName, bytes: [UInt8](try report.jsonData()))] + documents(report, manifest)
            for file in files {
                try Data(file.bytes).write(to: directory.appending(path: file.name))
                manifest.files[file.name] = SHA256.hex(file.bytes)
            }
            try ArtifactWriter.write(manifest: manifest, weights: trained.weights, to: directory.path)
            _ = try LoadedModel.load(directory: directory.path, checkLocation: false)
        }
        return PublishOutcome(version: result.version, directory: result.directory, previous: previous)
    }
}
