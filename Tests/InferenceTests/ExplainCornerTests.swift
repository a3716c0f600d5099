import Foundation
import Testing
@testable import Inference

/// `explain` where the ranking has nothing to rank, or has to break ties.
@Suite(.timeLimit(.minutes(10))) struct ExplainCornerTests {
    /// A title-only model over two terms of equal idf and weight, so their contributions tie.
    func twoTermModel(weights: [Double], intercept: Double) throws -> LoadedModel {
        let text = TextSpec(field: "title", ngramMin: 1, ngramMax: 1,
                            vectorizer: .tfidf(TfidfSpec(vocabulary: ["aa": 0, "bb": 1], idf: .inline([1, 1]))))
        let manifest = Fixture.manifest(
            model: .logisticRegression(weights: .inline(weights), intercept: intercept),
            pipeline: PipelineSpec(transformers: [.text(text)]))
        return try LoadedModel(manifest: manifest, verifyExample: false)
    }

    @Test func tiedContributionsAreOrderedByColumn() throws {
        let model = try twoTermModel(weights: [0.5, 0.5], intercept: 0)
        let explanation = model.explain(["title": .string("bb aa")], top: 1)
        #expect(explanation.up.map(\.feature) == ["title:aa"], "equal effects: the lower column first")
        #expect(isClose(explanation.up[0].contribution, 0.5 / 2.0.squareRoot()))
        #expect(isClose(explanation.remainder, 0.5 / 2.0.squareRoot()), "the tied one left out is in the remainder")
        #expect(model.explain(["title": .string("aa bb")], top: 5).up.map(\.feature) == ["title:aa", "title:bb"])
    }

    @Test func zeroWeightsOrNoKnownTermGiveNoFeaturesAndTheBiasAsTheMargin() throws {
        let zero = try twoTermModel(weights: [0, 0], intercept: -1)
        let explained = zero.explain(["title": .string("aa bb")], top: 3)
        #expect(explained.up.isEmpty && explained.down.isEmpty)
        #expect(explained.remainder == 0 && explained.margin == -1 && explained.bias == -1)
        #expect(isClose(explained.prediction.score, 1 / (1 + exp(1))))

        let weighted = try twoTermModel(weights: [2, -3], intercept: 0.25)
        let unknown = weighted.explain(["title": .string("zz yy")], top: 3)  // all-zero feature vector
        #expect(unknown.up.isEmpty && unknown.down.isEmpty && unknown.remainder == 0)
        #expect(unknown.margin == 0.25)
        #expect(unknown.prediction == weighted.predict(["title": .string("zz yy")]))
    }

    @Test func aNegativeTopShowsNothingAndKeepsEverythingInTheRemainder() throws {
        let model = try Fixture.logisticModel()
        let negative = model.explain(Fixture.exampleValues, top: -4)
        let zero = model.explain(Fixture.exampleValues, top: 0)
        #expect(negative.up.isEmpty && negative.down.isEmpty)
        #expect(negative.remainder == zero.remainder)
        #expect(isClose(negative.bias + negative.remainder, Fixture.exampleMargin))
    }
}
