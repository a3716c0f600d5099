import FoundationEssentials
import Inference
import Testing
@testable import Training

/// 40 listings (20 prohibited). Only the title tells the classes apart: every title has the
/// filler word "oferta" (the most frequent term), positives name weapons or medicines,
/// negatives clothes or shoes; site, category, price and seller columns carry no signal.
func smallListingsCSV() -> String {
    let positives = ["pistola airsoft", "remedio tarja preta", "revolver calibre", "receita controlada remedio"]
    let negatives = ["camiseta algodao", "tenis corrida", "camiseta estampada", "tenis casual couro"]
    let sites = ["MLB", "MLA", "MLM"]
    let reputations = ["gold", "silver", "", "platinum"]
    var lines = ["id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family"]
    for i in 0..<40 {
        let positive = i % 2 == 0
        let words = positive ? positives[(i / 2) % 4] : negatives[(i / 2) % 4]
        let title = "oferta \(words) \(["novo", "usado", "promo"][i % 3])"
        let pair = i / 2  // every column but the title and label depends on the pair only
        let site = sites[pair % 3]
        lines.append("L\(i),\(site),\"\(title), envio\",\(site)\(1000 + pair % 4),\(10 + (pair * 37) % 50).5,\(100 + (pair * 53) % 900),\((pair * 7) % 300),\(reputations[pair % 4]),\(positive ? 1 : 0),\(positive ? "weapons" : "benign")")
    }
    return lines.joined(separator: "\n") + "\n"
}

func smallDataset() throws -> Dataset {
    try CSVDatasetLoader.load(text: smallListingsCSV(), schema: .listings, name: "small", version: "1")
}

func smallConfig(_ algorithm: Algorithm) -> TrainConfig {
    var config = TrainConfig()
    config.algorithm = algorithm
    config.minDF = 1
    config.folds = 3
    config.testFraction = 0.25
    config.seed = 11
    // The fixture repeats titles by construction (4 word sets × 3 suffixes per class), so a
    // split by title would hold out whole word sets; these tests are about learning, and
    // DuplicateGroupTests covers the grouped split.
    config.splitGroupColumns = []
    return config
}

/// The small logistic model, trained once for the tests that only read it (training is
/// deterministic: `trainingTwiceGivesBitIdenticalWeightsAndScores`).
let smallLogisticModel = Result { try Trainer(config: smallConfig(.logisticRegression)).train(try smallDataset(), name: "small") }

func listing(_ title: String) -> [String: FeatureValue] {
    ["id": .string("new"), "site_id": .string("MLB"), "title": .string(title), "category_id": .string("MLB1000"),
     "price_usd": .number(20), "seller_age_days": .number(300), "seller_sales": .number(12),
     "seller_reputation": .string("gold")]
}

@Suite(.timeLimit(.minutes(10))) struct TrainerTests {
    @Test(arguments: TrainConfig.trainableAlgorithms)
    func eachAlgorithmLearnsTheSmallDatasetAndPublishesALoadableArtifact(_ algorithm: Algorithm) throws {
        let trained = try Trainer(config: smallConfig(algorithm)).train(try smallDataset(), name: "small")
        #expect(trained.testMetrics.count == 10)
        #expect(trained.testMetrics.rocAUC == 1)
        #expect(trained.testMetrics.accuracy == 1)

        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let outcome = try Publisher(storage: storage, name: "small").publish(trained, force: false)
        #expect(outcome.version == 1)
        let loaded = try LoadedModel.load(directory: outcome.directory.path)
        #expect(loaded.algorithm == algorithm)
        #expect(loaded.manifest.dataset.fingerprint == trained.dataset.fingerprint)
        #expect(loaded.predict(listing("pistola airsoft preta")).isPositive)
        #expect(!loaded.predict(listing("camiseta algodao azul")).isPositive)
    }

    /// The weights themselves, pinned: run-to-run equality cannot see a change that every run
    /// makes alike (an optimiser or pipeline change, a different build). Pinned from a debug
    /// build (the default model trained by a debug and by a release build is byte-identical);
    /// a deliberate change to training updates the digests here.
    @Test func theSmallModelsWeightsArePinnedAcrossBuilds() throws {
        let expected: [Algorithm: String] = [
            .logisticRegression: "62671ea313e29048ccc67b48aa41e8b8fdfd297c06420607f0154e33bd11282d",
            .linearSVM: "4417673b5e5dc589910e27f6e08c4356ea5121c557f3475774329a1b6a53f1eb",
            .multinomialNB: "19eb3b1b8cae635c817c1cf2c0f93515e6be89b9abccc434d447a0ed448dd16f",
        ]
        for algorithm in TrainConfig.trainableAlgorithms {
            let trained = try Trainer(config: smallConfig(algorithm)).train(try smallDataset(), name: "small")
            #expect(SHA256.hex(ArtifactWriter.encodeWeights(trained.weights)) == expected[algorithm], "\(algorithm)")
        }
    }

    @Test func trainingTwiceGivesBitIdenticalWeightsAndScores() throws {
        for algorithm in TrainConfig.trainableAlgorithms {
            let dataset = try smallDataset()
            let first = try Trainer(config: smallConfig(algorithm)).train(dataset, name: "small")
            let second = try Trainer(config: smallConfig(algorithm)).train(dataset, name: "small")
            #expect(first.weights.map(\.bitPattern) == second.weights.map(\.bitPattern))
            #expect(ArtifactWriter.encodeWeights(first.weights) == ArtifactWriter.encodeWeights(second.weights))
            #expect(try ArtifactWriter.encodeManifest(first.manifest) == ArtifactWriter.encodeManifest(second.manifest))
            #expect(first.testMetrics == second.testMetrics)
        }
    }

    @Test func aDifferentSeedGivesADifferentSplit() throws {
        var config = smallConfig(.logisticRegression)
        let dataset = try smallDataset()
        let first = try smallLogisticModel.get()
        config.seed = 12
        let second = try Trainer(config: config).train(dataset, name: "small")
        #expect(first.testInputs != second.testInputs)
    }

    @Test func refusesToPublishAWorseModelUnlessForced() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let publisher = Publisher(storage: storage, name: "small")
        let dataset = try smallDataset()
        let good = try smallLogisticModel.get()
        #expect(try publisher.publish(good, force: false).version == 1)

        // Keeping one term leaves only the filler word "oferta": the title signal is gone.
        var blind = smallConfig(.logisticRegression)
        blind.maxFeatures = 1
        let worse = try Trainer(config: blind).train(dataset, name: "small")
        let worsePR = try #require(worse.testMetrics.prAUC)
        #expect(worsePR < 0.9)
        #expect(throws: TrainingError.worseThanPublished(candidate: worsePR, published: 1, version: 1)) {
            try publisher.publish(worse, force: false)
        }
        #expect(try publisher.publishedVersions() == [1])
        let forced = try publisher.publish(worse, force: true)
        #expect(forced.version == 2)
        #expect(forced.previous?.version == 1)
        #expect(try publisher.publishedVersions() == [1, 2])
    }

    @Test func refusesAVersionThatRegressesOnAGuardedSliceUnlessForced() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let publisher = Publisher(storage: storage, name: "small")
        var good = try smallLogisticModel.get()
        good.config.sliceGuard.minimumPositives = 0
        #expect(try publisher.publish(good, force: false).version == 1)
        // The same model again is no regression on any site.
        #expect(try publisher.publish(good, force: false).version == 2)

        // A candidate whose report says one site fell: refused, naming the site.
        var worse = good
        let index = try #require(worse.report.slices.firstIndex { $0.dimension == "site" && $0.prAUC != nil })
        let site = worse.report.slices[index].key
        worse.report.slices[index].prAUC = 0.5
        do {
            _ = try publisher.publish(worse, force: false)
            Issue.record("published a version that regressed on site \(site)")
        } catch let error {
            guard case .sliceRegression(let regressions, let version) = error else { throw error }
            #expect(version == 2)
            #expect(regressions.map(\.key) == [site])
            #expect(error.description.contains("site=\(site): pr_auc 0.5000 against 1.0000"))
        }
        #expect(try publisher.publishedVersions() == [1, 2])
        // Another guarded dimension, or a wide tolerance, lets it through; so does --force.
        worse.config.sliceGuard.tolerance = 0.6
        #expect(try publisher.publish(worse, force: false).version == 3)
        worse.config.sliceGuard.tolerance = 0.02
        #expect(try publisher.publish(worse, force: true).version == 4)
    }

    @Test func publishingWritesTheReportAndTheDocumentsChecksummed() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let trained = try smallLogisticModel.get()
        let outcome = try Publisher(storage: storage, name: "small").publish(trained, force: false, documents: { report, manifest in
            [(name: "card.md", bytes: Array("\(manifest.name) \(report.model.version)".utf8))]
        })
        let loaded = try LoadedModel.load(directory: outcome.directory.path)
        #expect(Set(loaded.manifest.files.keys) == ["weights.bin", "dataset.json", "metrics.json", "card.md"])
        let card = try String(contentsOf: outcome.directory.appending(path: "card.md"), encoding: .utf8)
        #expect(card == "small 1")
        let report = try EvaluationReport.decode(Data(contentsOf: outcome.directory.appending(path: "metrics.json")))
        #expect(report.model.version == 1)
        #expect(report.overall.rows == trained.testMetrics.count)
        #expect(report.sliceDimensions.map(\.name) == ["site", "family", "seller_age"])
        // A changed byte in a document fails the checksum like a changed weight would.
        try Data("tampered".utf8).write(to: outcome.directory.appending(path: "card.md"))
        #expect(throws: ArtifactError.self) { try LoadedModel.load(directory: outcome.directory.path) }
    }

    @Test func anEqualModelIsNotWorse() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let publisher = Publisher(storage: storage, name: "small")
        let trained = try Trainer(config: smallConfig(.linearSVM)).train(try smallDataset(), name: "small")
        #expect(try publisher.publish(trained, force: false).version == 1)
        #expect(try publisher.publish(trained, force: false).version == 2)
    }

    @Test func thePrecisionTargetRuleRaisesTheThresholdToReachIt() throws {
        var config = smallConfig(.logisticRegression)
        config.thresholdRule = .precisionTarget(1.0)
        let trained = try Trainer(config: config).train(try smallDataset(), name: "small")
        #expect(trained.outOfFoldMetrics.precision == 1)
    }

    @Test func theFingerprintIgnoresQuotingAndLineEndingsButNotValues() throws {
        let base = try smallDataset()
        let crlf = try CSVDatasetLoader.load(text: smallListingsCSV().replacingOccurrences(of: "\n", with: "\r\n"), schema: .listings, name: "small")
        #expect(base.fingerprint == crlf.fingerprint)
        #expect(base.fingerprint.hasPrefix("sha256:"))
        let changed = try CSVDatasetLoader.load(text: smallListingsCSV().replacingOccurrences(of: "L3,", with: "L3x,"), schema: .listings, name: "small")
        #expect(base.fingerprint != changed.fingerprint)
    }

    @Test func theDatasetDescriptionRoundTripsThroughJSON() throws {
        let description = try smallDataset().datasetDescription
        let decoded = try DatasetDescription.decode(try description.jsonData())
        #expect(decoded == description)
        #expect(decoded.rows == 40 && decoded.positives == 20)
        #expect(decoded.datasetInfo == DatasetInfo(name: "small", version: "1", fingerprint: description.fingerprint))
    }

    @Test func readsTheConfigFileFormat() throws {
        let json = #"{"algorithm": "linear_svm", "seed": 7, "text": {"max_features": 100, "ngram_max": 1}, "precision_target": 0.9}"#
        let config = try TrainConfig.decode(Data(json.utf8))
        #expect(config.algorithm == .linearSVM)
        #expect(config.seed == 7)
        #expect(config.maxFeatures == 100)
        #expect(config.ngramMax == 1)
        #expect(config.thresholdRule == .precisionTarget(0.9))
        #expect(throws: TrainingError.invalidConfig("unknown algorithm \"forest\" (expected logistic_regression, linear_svm, multinomial_nb)")) {
            try TrainConfig.decode(Data(#"{"algorithm": "forest"}"#.utf8))
        }
        #expect(throws: TrainingError.invalidConfig("test_fraction must lie in (0, 1)")) {
            try TrainConfig.decode(Data(#"{"test_fraction": 1.5}"#.utf8))
        }
    }

    /// params.yaml (the DVC pipeline's parameters): its `train` member is the same config as the
    /// JSON file with the same keys; the other stages' members are not read.
    @Test func readsTheTrainMemberOfAParametersFile() throws {
        let yaml = """
            # comments and other stages' parameters are allowed
            train:
              algorithm: linear_svm
              seed: 7
              test_fraction: 0.25
              labels: [allowed, prohibited]
              text:
                max_df: 1.0
                max_features: 100
                normalize: [homoglyphs, repeats]
                char_ngrams: {min: 2, max: 4}
              logistic_c: 2
              balanced_classes: true
              augmentation:
                fraction: 0.5
                kinds: [leetspeak, split]
            evaluate:
              disguise_seed: 18
            """
        let json = #"""
            {"algorithm": "linear_svm", "seed": 7, "test_fraction": 0.25, "labels": ["allowed", "prohibited"],
             "text": {"max_df": 1.0, "max_features": 100, "normalize": ["homoglyphs", "repeats"], "char_ngrams": {"min": 2, "max": 4}},
             "logistic_c": 2, "balanced_classes": true, "augmentation": {"fraction": 0.5, "kinds": ["leetspeak", "split"]}}
            """#
        let fromYAML = try TrainConfig.decodeParameters(yaml: yaml)
        #expect(fromYAML == (try TrainConfig.decode(Data(json.utf8))))
        #expect(fromYAML.logisticC == 2 && fromYAML.testFraction == 0.25 && fromYAML.seed == 7)
        #expect(fromYAML != TrainConfig())
        // The same checks as the JSON file; a file without `train` or with a wrong type is refused.
        #expect(throws: TrainingError.invalidConfig("test_fraction must lie in (0, 1)")) {
            try TrainConfig.decodeParameters(yaml: "train:\n  test_fraction: 1.5\n")
        }
        #expect(throws: (any Error).self) { try TrainConfig.decodeParameters(yaml: "evaluate:\n  disguise_seed: 18\n") }
        #expect(throws: (any Error).self) { try TrainConfig.decodeParameters(yaml: "train:\n  seed: many\n") }
    }

    /// A config may declare the CSV's columns: a dataset of other columns trains a model whose
    /// signature has exactly those fields (here without seller columns, and an optional id).
    @Test func aDeclaredDatasetSchemaSelectsTheColumnsAndTheSignature() throws {
        let json = #"""
        {"dataset_schema": {"columns": [
            {"name": "id", "kind": "identifier", "required": false},
            {"name": "title", "kind": "text"}, {"name": "category_id", "kind": "categorical"},
            {"name": "price_usd", "kind": "numeric"}, {"name": "is_prohibited", "kind": "label"}]},
         "log1p_columns": ["price_usd"]}
        """#
        var config = try TrainConfig.decode(Data(json.utf8))
        #expect(config.datasetSchema.columns.map(\.name) == ["id", "title", "category_id", "price_usd", "is_prohibited"])
        let small = smallConfig(.logisticRegression)
        config.minDF = small.minDF
        config.folds = small.folds
        config.testFraction = small.testFraction
        // The small CSV has more columns (site_id, seller_*): a non-strict schema ignores them.
        let dataset = try CSVDatasetLoader.load(text: smallListingsCSV(), schema: config.datasetSchema, name: "small")
        let trained = try Trainer(config: config).train(dataset, name: "small")
        let fields = trained.manifest.signature.fields
        #expect(fields.map(\.name) == ["id", "title", "category_id", "price_usd"])
        #expect(fields.first?.required == false)

        #expect(throws: TrainingError.invalidConfig("log1p_columns: price_usd is not a numeric column of the dataset schema")) {
            try TrainConfig.decode(Data(#"{"dataset_schema": {"columns": [{"name": "t", "kind": "text"}, {"name": "y", "kind": "label"}]}}"#.utf8))
        }
        #expect(throws: TrainingError.invalidConfig("dataset_schema: exactly one column must be the label")) {
            try TrainConfig.decode(Data(#"{"dataset_schema": {"columns": [{"name": "t", "kind": "text"}]}, "log1p_columns": []}"#.utf8))
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct GroupReportTests {
    @Test func countsFlaggedTestRowsPerReportingGroup() throws {
        let trained = try smallLogisticModel.get()
        #expect(Set(trained.testGroups) == ["weapons", "benign"])
        let table = Trainer.flaggedByGroup(trained)
        // The small dataset is learnt perfectly: every weapons row is flagged, no benign row is.
        #expect(table.contains("benign                        5     0         0        0.0"))
        #expect(table.contains("weapons                       5     5         5        100.0"))
    }
}
