import FoundationEssentials
import Inference
import Testing
@testable import Training

@Suite(.timeLimit(.minutes(10))) struct RobustTrainingTests {
    @Test func theConfigReadsNormalisationCharNGramsAndAugmentation() throws {
        let json = #"""
        {"text": {"normalize": ["repeats", "homoglyphs"], "char_ngrams": {"min": 3, "max": 5, "min_df": 1, "max_features": 500}},
         "augmentation": {"fraction": 0.25, "kinds": ["leetspeak", "split"]}}
        """#
        let config = try TrainConfig.decode(Data(json.utf8))
        #expect(config.normalization == TextNormalization([.homoglyphs, .repeats]))
        #expect(config.charNGrams?.min == 3 && config.charNGrams?.max == 5 && config.charNGrams?.minDF == 1 && config.charNGrams?.maxFeatures == 500)
        #expect(config.augmentation?.fraction == 0.25 && config.augmentation?.kinds == [.leetspeak, .split])
        // Absent keys: nothing of it.
        let plain = try TrainConfig.decode(Data("{}".utf8))
        #expect(plain.normalization == .none && plain.charNGrams == nil && plain.augmentation == nil)
    }

    @Test func theConfigRejectsUnknownStepsAndKindsAndBadRanges() {
        let cases: [(String, String)] = [
            (#"{"text": {"normalize": ["soundex"]}}"#, "text.normalize: unknown step \"soundex\""),
            (#"{"augmentation": {"kinds": ["pig_latin"]}}"#, "augmentation.kinds: unknown disguise \"pig_latin\""),
            (#"{"augmentation": {"fraction": 0}}"#, "augmentation.fraction must lie in (0, 1]"),
            (#"{"augmentation": {"kinds": []}}"#, "augmentation.kinds must name at least one disguise"),
            (#"{"text": {"char_ngrams": {"min": 4, "max": 3}}}"#, "text.char_ngrams: min and max"),
            (#"{"text": {"char_ngrams": {"max": 7}}}"#, "text.char_ngrams: min and max"),
        ]
        for (json, message) in cases {
            do {
                _ = try TrainConfig.decode(Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch let error as TrainingError {
                #expect("\(error)".contains(message), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func charNGramsAddASecondBlockAndTheStepsReachTheArtifact() throws {
        var config = smallConfig(.logisticRegression)
        config.normalization = .all
        config.charNGrams = CharNGramConfig()
        config.charNGrams?.minDF = 1
        let trained = try Trainer(config: config).train(try smallDataset(), name: "small")
        let texts = trained.manifest.pipeline.transformers.compactMap { transformer -> TextSpec? in
            if case .text(let text) = transformer { return text }
            return nil
        }
        #expect(texts.map(\.analyzer) == [.word, .charWB])
        #expect(texts.map(\.name) == ["title", "title~chars"])
        #expect(texts.allSatisfy { $0.normalization == .all })
        #expect(trained.manifest.formatVersion == 3)
        let model = try LoadedModel(manifest: trained.manifest, weights: trained.weights)
        let values = { (title: String) in model.signature.fields.map { $0.name == "title" ? FeatureValue.string(title) : .missing } }
        // The normaliser undoes the disguise before either block sees the text.
        #expect(model.predict(values("p.i.s.t.o.l.a airsoft")).score == model.predict(values("pistola airsoft")).score)
        #expect(model.predict(values("p1st0la a1rs0ft")).score == model.predict(values("pistola airsoft")).score)
    }

    @Test func augmentationIsSeededAndAddsCopiesOnlyToTraining() throws {
        let dataset = try smallDataset()
        var augmentation = AugmentationConfig()
        augmentation.fraction = 0.5
        let first = Augmenter.copies(of: dataset.rows, schema: dataset.schema, config: augmentation, seed: 9)
        let second = Augmenter.copies(of: dataset.rows, schema: dataset.schema, config: augmentation, seed: 9)
        #expect(first.map(\.source) == second.map(\.source) && first.map(\.row) == second.map(\.row))
        #expect(first.count > 8 && first.count < 32, "\(first.count) copies of 40 rows at 0.5")
        let title = dataset.schema.columns.firstIndex { $0.name == "title" }!
        for copy in first {
            #expect(copy.row.values[title] != dataset.rows[copy.source].values[title])
            #expect(copy.row.values.indices.filter { $0 != title }.allSatisfy { copy.row.values[$0] == dataset.rows[copy.source].values[$0] })
        }
        augmentation.fraction = 1
        #expect(Augmenter.copies(of: dataset.rows, schema: dataset.schema, config: augmentation, seed: 9).count == 40)

        var config = smallConfig(.logisticRegression)
        config.augmentation = AugmentationConfig()
        let plain = try smallLogisticModel.get()
        let augmented = try Trainer(config: config).train(dataset, name: "small")
        let again = try Trainer(config: config).train(dataset, name: "small")
        #expect(augmented.weights.map(\.bitPattern) == again.weights.map(\.bitPattern))
        #expect(augmented.testInputs == plain.testInputs && augmented.testLabels == plain.testLabels)  // the same held-out rows
        #expect(augmented.weights != plain.weights)
    }
}
