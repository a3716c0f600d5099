import FoundationEssentials
import Testing
@testable import Inference

/// A manifest that breaks one rule is refused with the code and the exact message that names
/// the key; nothing loads half-valid.
@Suite(.timeLimit(.minutes(10))) struct ManifestValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let mutate: @Sendable (inout ModelManifest) -> Void
        let code: ArtifactError.Code
        let message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "three labels in format 1", mutate: { $0.labels = ["a", "b", "c"] }, code: .unsupportedFormatVersion,
             message: "3 labels (a multi-class model) needs format_version 4, the manifest declares 1"),
        Case(name: "one label", mutate: { $0.labels = ["a"] }, code: .invalidManifest,
             message: "labels must hold 2 names [negative, positive] or the names of 3 or more classes, got 1"),
        Case(name: "the same label twice", mutate: { $0.labels = ["same", "same"] }, code: .invalidManifest,
             message: "labels must be different non-empty names, got [\"same\", \"same\"]"),
        Case(name: "an empty label", mutate: { $0.labels = ["", "prohibited"] }, code: .invalidManifest,
             message: "labels must be different non-empty names, got [\"\", \"prohibited\"]"),
        Case(name: "threshold above 1", mutate: { $0.threshold = 1.5 }, code: .invalidManifest,
             message: "threshold must be in [0, 1], got 1.5"),
        Case(name: "threshold below 0", mutate: { $0.threshold = -0.01 }, code: .invalidManifest,
             message: "threshold must be in [0, 1], got -0.01"),
        Case(name: "threshold NaN", mutate: { $0.threshold = .nan }, code: .invalidManifest,
             message: "threshold must be in [0, 1], got nan"),
        Case(name: "version 0", mutate: { $0.version = 0 }, code: .invalidManifest,
             message: "version must be a positive integer, got 0"),
        Case(name: "version -3", mutate: { $0.version = -3 }, code: .invalidManifest,
             message: "version must be a positive integer, got -3"),
        Case(name: "a field listed twice", mutate: { $0.signature.fields.append($0.signature.fields[1]) }, code: .invalidSignature,
             message: "signature.fields[5]: \"title\" is listed twice"),
        Case(name: "a category listed twice",
             mutate: { $0.pipeline.transformers[1] = .categorical(CategoricalSpec(field: "category_id", categories: ["MLB1", "MLX2001", "MLB1"], missingSlot: true)) },
             code: .invalidPipeline, message: "pipeline.transformers[1].categories[2]: \"MLB1\" is listed twice"),
        Case(name: "a NaN weight",
             mutate: { $0.model = .logisticRegression(weights: .inline(Fixture.weights.enumerated().map { $0.offset == 4 ? .nan : $0.element }), intercept: Fixture.intercept) },
             code: .invalidModel, message: "model.weights[4] is not finite"),
        Case(name: "an infinite intercept",
             mutate: { $0.model = .logisticRegression(weights: .inline(Fixture.weights), intercept: .infinity) },
             code: .invalidModel, message: "model.intercept must be finite"),
        Case(name: "an infinite idf",
             mutate: { $0.pipeline.transformers[0] = .text(Fixture.titleSpec(idf: .inline([1.2, 1.5, .infinity, 1.1, 2.5, 1.3]))) },
             code: .invalidPipeline, message: "pipeline.transformers[0].vectorizer.idf[2] is not finite"),
    ]

    @Test(arguments: cases)
    func aManifestBreakingOneRuleIsRefusedNamingIt(_ rule: Case) {
        var manifest = Fixture.manifest()
        rule.mutate(&manifest)
        do {
            _ = try LoadedModel(manifest: manifest)
            Issue.record("\(rule.name): accepted")
        } catch {
            #expect(error.code == rule.code, "\(error)")
            #expect(error.message == rule.message)
        }
    }

    @Test func theUnchangedFixtureIsValid() throws {
        _ = try LoadedModel(manifest: Fixture.manifest())
    }

    /// Non-finite values can only reach an artifact through weights.bin (JSON has no NaN):
    /// the loader refuses them there too.
    @Test func aNonFiniteWeightInWeightsBinIsRefusedOnLoad() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        var builder = WeightsBuilder()
        let idf = builder.append(Fixture.idf)
        var weights = Fixture.weights
        weights[7] = -.infinity
        let stored = builder.append(weights)
        let manifest = Fixture.manifest(
            model: .logisticRegression(weights: stored, intercept: Fixture.intercept), pipeline: Fixture.pipeline(idf: idf))
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: manifest, weights: builder.values, to: directory)
        do {
            _ = try LoadedModel.load(directory: directory)
            Issue.record("loaded a weights.bin holding -inf")
        } catch {
            #expect(error.code == .invalidModel, "\(error)")
            #expect(error.message == "model.weights[7] is not finite")
        }
    }
}
