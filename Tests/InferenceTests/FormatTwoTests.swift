import FoundationEssentials
import Testing
@testable import Inference

/// Format 2: the pieces scikit-learn pipelines need. Expected values were computed with
/// scikit-learn's own functions (noted next to each) or by hand.
@Suite(.timeLimit(.minutes(10))) struct FormatTwoTextTests {
    @Test func charAnalyzerCollapsesWhitespaceRunsAndTakesEveryWindow() {
        // CountVectorizer(analyzer="char", ngram_range=(1, 2)).build_analyzer()("Ab  c\td")
        let extractor = TermExtractor(analyzer: .char, ngramMin: 1, ngramMax: 2)
        #expect(extractor.terms(in: "Ab  c\td") == ["a", "b", " ", "c", "\t", "d", "ab", "b ", " c", "c\t", "\td"])
        #expect(extractor.terms(in: "") == [])
        // A window longer than the text is skipped.
        #expect(TermExtractor(analyzer: .char, ngramMin: 3, ngramMax: 5).terms(in: "abc") == ["abc"])
    }

    @Test func asciiStrippingDropsEverythingOutsideASCIIAfterNFKD() {
        // strip_accents_ascii("Coração ﬁ ß 東京 Ｆｕｌｌ") after lower()
        let extractor = TermExtractor(asciiOnly: true)
        #expect(TermExtractor.preprocess("Coração ﬁ ß 東京 Ｆｕｌｌ", asciiOnly: true) == "coracao fi   full")
        #expect(extractor.terms(in: "Coração ﬁ ß 東京 Ｆｕｌｌ") == ["coracao", "fi", "full"])
    }

    @Test func stopWordsAreRemovedBeforeNGramsAreFormed() {
        let extractor = TermExtractor(ngramMin: 1, ngramMax: 2, stopWords: ["de", "la"])
        #expect(extractor.terms(in: "Pistola de la policía") == ["pistola", "policia", "pistola policia"])
        // Compared by code points: the decomposed form of a stop word is another token.
        let decomposed = TermExtractor(stripAccents: false, stopWords: ["café"])
        #expect(decomposed.terms(in: "cafe\u{301} café") == ["cafe"])
    }

    @Test func binaryCountsAndL1NormMatchScikitLearn() throws {
        // TfidfVectorizer(binary=True, norm="l1") with idf [2, 3]: "aa aa bb" → [2, 3] / 5.
        let spec = TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(vocabulary: ["aa": 0, "bb": 1], idf: .inline([2, 3]),
                                                                         norm: .l1, binary: true)))
        let signature = Signature(fields: [FieldSpec(name: "title", type: .string)])
        let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(spec)]), signature: signature)
        let x = pipeline.transform([.string("aa aa bb")])
        #expect(x.indices == [0, 1])
        #expect(x.values == [0.4, 0.6])
    }

    @Test func stripAccentsDecodesBooleansAndScikitLearnSpellings() throws {
        func decode(_ value: String) throws -> TextSpec {
            let json = "{\"field\":\"t\",\"strip_accents\":\(value),\"vectorizer\":{\"type\":\"hashing\",\"n_features\":4}}"
            return try JSONDecoder().decode(TextSpec.self, from: Data(json.utf8))
        }
        #expect(try decode("true").stripAccents && !(try decode("true").asciiOnly))
        #expect(try decode("\"unicode\"").stripAccents)
        #expect(try decode("\"ascii\"").asciiOnly)
        #expect(!(try decode("null").stripAccents))
        #expect(!(try decode("false").stripAccents))
        #expect(throws: DecodingError.self) { try decode("\"latin\"") }
        // Round trip keeps the ASCII mode.
        let ascii = try decode("\"ascii\"")
        let again = try JSONDecoder().decode(TextSpec.self, from: try JSONEncoder().encode(ascii))
        #expect(again == ascii)
    }
}

@Suite(.timeLimit(.minutes(10))) struct FormatTwoCategoricalTests {
    let signature = Signature(fields: [FieldSpec(name: "category_id", type: .string)])

    @Test func layoutSendsInfrequentUnknownAndMissingValuesToTheirColumns() throws {
        // OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=…, drop=["A"]):
        // "A" dropped, "B" → 0, "C" and "D" infrequent → 1, unknown → 1, missing → 2.
        let spec = CategoricalSpec(field: "category_id", categories: ["A", "B", "C", "D"],
                                   layout: CategoricalLayout(width: 3, columns: [nil, 0, 1, 1], unknownColumn: 1, missingColumn: 2))
        let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.categorical(spec)]), signature: signature)
        #expect(pipeline.dimension == 3)
        #expect(pipeline.transform([.string("A")]).indices == [])
        #expect(pipeline.transform([.string("B")]).indices == [0])
        #expect(pipeline.transform([.string("D")]).indices == [1])
        #expect(pipeline.transform([.string("Z")]).indices == [1])
        #expect(pipeline.transform([.missing]).indices == [2])
        #expect(pipeline.featureName(at: 1) == "category_id=C|D|<other>")
    }

    @Test func layoutColumnsOutsideTheBlockAreRejected() {
        let bad = CategoricalSpec(field: "category_id", categories: ["B"], layout: CategoricalLayout(width: 1, columns: [1]))
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            try FeaturePipeline(spec: PipelineSpec(transformers: [.categorical(bad)]), signature: signature)
        }
        let both = CategoricalSpec(field: "category_id", categories: ["B"], missingSlot: true,
                                   layout: CategoricalLayout(width: 1, columns: [0]))
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            try FeaturePipeline(spec: PipelineSpec(transformers: [.categorical(both)]), signature: signature)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct FormatTwoModelTests {
    /// One numeric column x (identity), so margins are easy to compute by hand.
    let signature = Signature(fields: [FieldSpec(name: "x", type: .number)])
    let pipeline = PipelineSpec(transformers: [.numeric(NumericSpec(field: "x"))])

    func manifest(_ algorithm: Algorithm, _ model: ModelParameters, expected: Double, formatVersion: Int = 2) -> ModelManifest {
        ModelManifest(formatVersion: formatVersion, name: "m", version: 1, created: "2026-12-03T00:00:00Z", algorithm: algorithm,
                      signature: signature, pipeline: pipeline, model: model, threshold: 0.5, labels: ["0", "1"],
                      example: Example(input: ["x": .number(0.5)], expectedScore: expected),
                      dataset: DatasetInfo(name: "d", version: "1", fingerprint: "f"))
    }

    @Test func modifiedHuberClipsTheDecisionFunction() throws {
        let model = try LoadedModel(manifest: manifest(.modifiedHuber, ModelParameters(weights: .inline([2]), intercept: -0.5),
                                                       expected: 0.75))
        #expect(model.predict(["x": .number(0.5)]).score == 0.75)  // d = 0.5
        #expect(model.predict(["x": .number(10)]).score == 1)
        #expect(model.predict(["x": .number(-10)]).score == 0)
        #expect(model.marginUnit == .decisionFunction)
    }

    @Test func bernoulliNaiveBayesBinarisesAndAddsTheAbsentFeatureTerms() throws {
        // BernoulliNB: feature_log_prob [[log .2], [log .6]], priors log .5 each, binarize 0.
        let flp = [[Math.log(0.2)], [Math.log(0.6)]]
        let parameters = ModelParameters(classLogPrior: [Math.log(0.5), Math.log(0.5)],
                                         featureLogProb: flp.map { .inline($0) }, binarize: 0)
        // x > 0: P(pos) = .6·.5 / (.6·.5 + .2·.5) = 0.75; x ≤ 0: .4 / (.4 + .8) = 1/3.
        let model = try LoadedModel(manifest: manifest(.bernoulliNB, parameters, expected: 0.75))
        #expect(abs(model.predict(["x": .number(3)]).score - 0.75) < 1e-12)
        #expect(abs(model.predict(["x": .number(-1)]).score - 1.0 / 3) < 1e-12)
        let explanation = model.explain(["x": .number(3)], top: 5)
        #expect(explanation.up.map(\.value) == [1])  // the binarised value
        let total = explanation.bias + explanation.up.reduce(0) { $0 + $1.contribution }
        #expect(abs(total - explanation.margin) < 1e-12)
    }

    @Test func calibratedMembersAreAveragedAndIsotonicInterpolates() throws {
        let sigmoid = CalibratedMember(weights: .inline([1]), intercept: 0, calibration: .sigmoid(a: -2, b: 0))
        let isotonic = CalibratedMember(weights: .inline([1]), intercept: 0,
                                        calibration: .isotonic(x: [-1, 0, 1], y: [0.1, 0.4, 0.9]))
        let parameters = ModelParameters(members: [sigmoid, isotonic])
        // d = 0.5: sigmoid(1) = 0.7310585786300049; isotonic 0.4 + 0.5·0.5 = 0.65.
        let expected = (1 / (1 + Math.exp(-1)) + 0.65) / 2
        let model = try LoadedModel(manifest: manifest(.calibratedLinear, parameters, expected: expected))
        #expect(abs(model.predict(["x": .number(0.5)]).score - expected) < 1e-15)
        // Outside the isotonic points the end value holds (clip).
        let far = (1 / (1 + Math.exp(-20)) + 0.9) / 2
        #expect(abs(model.predict(["x": .number(10)]).score - far) < 1e-15)
        #expect(CalibratedEnsemble.Member.interpolate(-5, x: [-1, 0, 1], y: [0.1, 0.4, 0.9]) == 0.1)
        #expect(CalibratedEnsemble.Member.interpolate(0, x: [-1, 0, 1], y: [0.1, 0.4, 0.9]) == 0.4)
    }

    @Test func calibratedMembersAreValidated() {
        let unsorted = CalibratedMember(weights: .inline([1]), intercept: 0, calibration: .isotonic(x: [1, 0], y: [0, 1]))
        #expect(throws: ArtifactError(.invalidModel, "")) {
            try LoadedModel(manifest: manifest(.calibratedLinear, ModelParameters(members: [unsorted]), expected: 0.5))
        }
        #expect(throws: ArtifactError(.invalidModel, "")) {
            try LoadedModel(manifest: manifest(.calibratedLinear, ModelParameters(members: []), expected: 0.5))
        }
    }

    @Test func formatOneManifestsCannotUseFormatTwoFeatures() {
        let m = manifest(.modifiedHuber, ModelParameters(weights: .inline([2]), intercept: -0.5), expected: 0.75, formatVersion: 1)
        #expect(m.requiredFormat.version == 2)
        #expect(throws: ArtifactError(.unsupportedFormatVersion, "")) { try LoadedModel(manifest: m) }
        #expect(Fixture.manifest().requiredFormat.version == 1)
    }

    @Test func formatOneArtifactsStillLoadAndUnknownFormatsAreRejected() throws {
        var v1 = Fixture.manifest()
        v1.formatVersion = 1
        _ = try LoadedModel(manifest: v1)
        var v5 = Fixture.manifest()
        v5.formatVersion = 5
        #expect(throws: ArtifactError(.unsupportedFormatVersion, "")) { try LoadedModel(manifest: v5) }
    }
}
