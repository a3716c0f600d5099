import Foundation
import Testing
@testable import Inference

/// A three-class model over the fixture pipeline (12 columns).
enum ClassFixture {
    static let classes = ["allowed", "medicines", "weapons"]
    static let weights: [[Double]] = [
        [-0.4, -0.3, -0.2, 0.1, -0.5, 0.6, 0.1, -0.2, 0.0, 0.1, -0.1, 0.2],
        [0.1, -0.2, -0.3, 0.2, -0.1, -0.4, 0.5, 0.1, 0.0, 0.3, 0.0, -0.1],
        [0.9, 0.7, 1.2, -0.6, 1.4, -1.1, -0.2, 0.6, 0.1, -0.3, 0.2, -0.5],
    ]
    static let intercepts = [0.6, -0.4, -0.3]

    /// P(class) computed here, independently of `ClassModel`: dense dot products and a softmax
    /// written out with `exp`.
    static func expected(_ values: [FeatureValue], pipeline: FeaturePipeline) -> [Double] {
        let x = pipeline.transform(values)
        var dense = [Double](repeating: 0, count: pipeline.dimension)
        for k in 0..<x.count { dense[Int(x.indices[k])] = x.values[k] }
        let z = (0..<3).map { c in intercepts[c] + zip(weights[c], dense).map { $0 * $1 }.reduce(0, +) }
        let e = z.map { Foundation.exp($0) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    static func manifest(
        algorithm: Algorithm = .logisticRegression, model: ModelParameters? = nil, positive: [String]? = ["medicines", "weapons"],
        thresholds: [String: Double]? = nil, expectedScore: Double = 0, formatVersion: Int? = nil
    ) -> ModelManifest {
        var manifest = Fixture.manifest(
            algorithm: algorithm,
            model: model ?? .softmax(classWeights: weights.map { .inline($0) }, classIntercepts: intercepts),
            expectedScore: expectedScore)
        manifest.labels = classes
        manifest.positiveClasses = positive
        manifest.classThresholds = thresholds
        manifest.formatVersion = formatVersion ?? manifest.requiredFormat.version
        return manifest
    }

    /// The model with the stored example's score filled in.
    static func model(thresholds: [String: Double]? = nil) throws -> LoadedModel {
        var manifest = manifest(thresholds: thresholds)
        let draft = try LoadedModel(manifest: manifest, verifyExample: false)
        manifest.example.expectedScore = draft.predict(Fixture.exampleInput).score
        return try LoadedModel(manifest: manifest)
    }
}

@Suite(.timeLimit(.minutes(10))) struct ClassModelTests {
    @Test func probabilitiesAreTheSoftmaxOfTheClassScores() throws {
        let model = try ClassFixture.model()
        for title in ["Pistola 9mm Glock", "replica airsoft", "pistola", "nada"] {
            let values: [FeatureValue] = [.string("X"), .string(title), .string("MLB1"), .number(40), .bool(false)]
            let prediction = model.predict(values)
            let expected = ClassFixture.expected(values, pipeline: model.pipeline)
            let scores = try #require(prediction.classScores)
            #expect(scores.classes == ClassFixture.classes)
            expectClose(scores.probabilities, expected)
            #expect(isClose(prediction.score, expected[1] + expected[2]))
            #expect(isClose(scores.probabilities.reduce(0, +), 1))
        }
    }

    @Test func labelIsTheMostProbablePositiveClassAtTheThresholdElseTheMostProbableNegative() throws {
        let policy = try ClassPolicy(classes: ["allowed", "a", "b", "ok"], positiveClasses: ["a", "b"], classThresholds: ["b": 0.2], threshold: 0.5)
        // score 0.6 ≥ 0.5: the most probable positive class.
        var p = policy.prediction([0.3, 0.35, 0.25, 0.1])
        #expect((p.label, p.isPositive, p.classScores?.labelIndex) == ("a", true, 1))
        #expect(isClose(p.score, 0.6))
        // score 0.3 < 0.5 and b below its own threshold: the most probable negative class.
        p = policy.prediction([0.3, 0.15, 0.15, 0.4])
        #expect((p.label, p.isPositive) == ("ok", false))
        // score 0.35 < 0.5 but b reaches its own 0.2: b is flagged, a (0.1) is not.
        p = policy.prediction([0.4, 0.1, 0.25, 0.25])
        #expect((p.label, p.isPositive) == ("b", true))
        // b flagged by its threshold, a more probable but not flagged: still b.
        p = policy.prediction([0.35, 0.25, 0.22, 0.18])
        #expect((p.label, p.isPositive) == ("b", true))
    }

    @Test func policyRefusesBadClassLists() {
        func message(_ positive: [String]?, _ thresholds: [String: Double]? = nil) -> String {
            do {
                _ = try ClassPolicy(classes: ["x", "y", "z"], positiveClasses: positive, classThresholds: thresholds, threshold: 0.5)
                return "accepted"
            } catch { return error.message }
        }
        #expect(message(nil).contains("positive_classes must name at least one"))
        #expect(message(["x", "y", "z"]).contains("at least one class must be negative"))
        #expect(message(["w"]).contains("\"w\" is not one of labels"))
        #expect(message(["y", "y"]).contains("listed twice"))
        #expect(message(["y"], ["x": 0.3]).contains("class_thresholds: \"x\" is not one of positive_classes"))
        #expect(message(["y"], ["y": 1.5]).contains("class_thresholds.y must be in [0, 1]"))
    }

    @Test func artifactRoundTripWithExternalWeights() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var builder = WeightsBuilder()
        let rows = ClassFixture.weights.map { builder.append($0) }
        var manifest = ClassFixture.manifest(model: .softmax(classWeights: rows, classIntercepts: ClassFixture.intercepts),
                                             thresholds: ["weapons": 0.3])
        let draft = try LoadedModel(manifest: manifest, weights: builder.values, verifyExample: false)
        manifest.example.expectedScore = draft.predict(Fixture.exampleInput).score
        let path = directory.path + "/prohibited-items/3"
        let written = try ArtifactWriter.write(manifest: manifest, weights: builder.values, to: path)
        #expect(written.formatVersion == 4)
        let loaded = try LoadedModel.load(directory: path)
        #expect(loaded.manifest == written)
        #expect(loaded.isMulticlass)
        #expect(loaded.manifest.positiveClasses == ["medicines", "weapons"])
        #expect(loaded.manifest.classThresholds == ["weapons": 0.3])
        #expect(loaded.predict(Fixture.exampleValues) == draft.predict(Fixture.exampleValues))
        let json = String(decoding: try directory.read("prohibited-items/3/model.json"), as: UTF8.self)
        #expect(json.contains("\"class_weights\""))
        #expect(json.contains("\"positive_classes\""))
    }

    @Test func theCommittedBinaryArtifactReencodesByteForByte() throws {
        // Binary manifests gain no member: decoding the default model and encoding it again
        // gives the file as committed.
        var directory = #filePath
        for _ in 0..<3 { directory = String(directory[..<directory.lastIndex(of: "/")!]) }
        let path = directory + "/models/prohibited-items/1/model.json"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let manifest = try LoadedModel.decodeManifest(bytes)
        #expect(!manifest.isMulticlass)
        #expect(try ArtifactWriter.encodeManifest(manifest) == bytes)
        let fixture = String(decoding: try ArtifactWriter.encodeManifest(Fixture.manifest()), as: UTF8.self)
        for key in ["positive_classes", "class_thresholds", "class_weights", "class_intercepts"] { #expect(!fixture.contains(key)) }
    }

    @Test func formatAndAlgorithmChecks() throws {
        func failure(_ manifest: ModelManifest) -> ArtifactError? {
            do { _ = try LoadedModel(manifest: manifest, verifyExample: false); return nil } catch { return error }
        }
        let old = try #require(failure(ClassFixture.manifest(formatVersion: 3)))
        #expect(old.code == .unsupportedFormatVersion)
        #expect(old.message.contains("3 labels (a multi-class model) needs format_version 4"))
        let svm = try #require(failure(ClassFixture.manifest(algorithm: .linearSVM)))
        #expect(svm.message.contains("linear_svm is binary only"))
        let short = try #require(failure(ClassFixture.manifest(
            model: .softmax(classWeights: ClassFixture.weights.prefix(2).map { .inline($0) }, classIntercepts: ClassFixture.intercepts))))
        #expect(short.message.contains("model.class_weights must hold 3 arrays"))
        let narrow = try #require(failure(ClassFixture.manifest(
            model: .softmax(classWeights: ClassFixture.weights.map { .inline(Array($0.prefix(11))) }, classIntercepts: ClassFixture.intercepts))))
        #expect(narrow.message.contains("class_weights[0] has 11 values; the pipeline has 12 columns"))
        var binary = Fixture.manifest()
        binary.positiveClasses = ["prohibited"]
        let stray = try #require(failure(binary))
        #expect(stray.message.contains("positive_classes is for multi-class models"))
    }

    @Test func explanationsAreExactPerClassAndSoftmaxOfTheirMarginsIsTheProbabilities() throws {
        let model = try ClassFixture.model()
        let values = Fixture.exampleValues
        let prediction = model.predict(values)
        var margins: [Double] = []
        for c in 0..<3 {
            let explanation = model.explain(values, top: 2, class: c)
            #expect(explanation.explainedClass == ClassFixture.classes[c])
            #expect(explanation.unit == .classLogit)
            #expect(explanation.prediction == prediction)
            let listed = (explanation.up + explanation.down).reduce(0) { $0 + $1.contribution }
            #expect(isClose(explanation.bias + listed + explanation.remainder, explanation.margin))
            #expect(explanation.up.allSatisfy { $0.contribution > 0 } && explanation.down.allSatisfy { $0.contribution < 0 })
            margins.append(explanation.margin)
        }
        expectClose(Softmax.probabilities(margins), prediction.classScores!.probabilities)
        #expect(isClose(margins.reduce(0, +), 0))  // centred
        // Without a class: the label's class.
        #expect(model.explain(values, top: 2).explainedClass == prediction.label)
    }

    @Test func multinomialNaiveBayesWithThreeClasses() throws {
        let rows: [[Double]] = (0..<3).map { c in (0..<6).map { j in Foundation.log(Double((j + c) % 5 + 1) / 40) } }
        let priors = [Foundation.log(0.5), Foundation.log(0.3), Foundation.log(0.2)]
        var manifest = ClassFixture.manifest(algorithm: .multinomialNB,
                                             model: .multinomialNB(classLogPrior: priors, featureLogProb: rows.map { .inline($0) }))
        manifest.pipeline = PipelineSpec(transformers: [.text(Fixture.titleSpec())])
        let model = try LoadedModel(manifest: manifest, verifyExample: false)
        let values: [FeatureValue] = [.string("X"), .string("pistola 9mm glock")]
        let x = model.features(values)
        let joint = (0..<3).map { c in priors[c] + (0..<x.count).reduce(0.0) { $0 + rows[c][Int(x.indices[$1])] * x.values[$1] } }
        let largest = joint.max()!
        let logTotal = largest + Foundation.log(joint.map { Foundation.exp($0 - largest) }.reduce(0, +))
        expectClose(model.predict(values).classScores!.probabilities, joint.map { Foundation.exp($0 - logTotal) })
    }
}
