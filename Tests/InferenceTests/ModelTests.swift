import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct ModelTests {
    @Test func logisticRegressionScoresTheSigmoidOfTheMargin() throws {
        let model = try Fixture.logisticModel()
        #expect(isClose(model.margin(Fixture.exampleValues), Fixture.exampleMargin))
        let prediction = model.predict(Fixture.exampleValues)
        #expect(isClose(prediction.score, Fixture.exampleLogisticScore))
        #expect(prediction.label == "prohibited")
        #expect(prediction.isPositive)
    }

    @Test func dictionaryInputGivesTheSameScoreAsOrderedValues() throws {
        let model = try Fixture.logisticModel()
        #expect(model.predict(Fixture.exampleInput) == model.predict(Fixture.exampleValues))
    }

    @Test func missingInputsAreImputedAndCanFallBelowTheThreshold() throws {
        let model = try Fixture.logisticModel()
        // Empty title, missing category (slot 8), missing price (imputed + indicator 10), no warranty.
        let prediction = model.predict(["id": .string("x"), "title": .string("")])
        #expect(isClose(prediction.score, 0.5235911444478619))
        let low = model.predict(["title": .string("airsoft"), "has_warranty": .bool(true)])
        #expect(!low.isPositive)
        #expect(low.label == "allowed")
    }

    @Test func linearSVMAppliesPlattScalingToTheDecisionFunction() throws {
        let manifest = Fixture.manifest(
            algorithm: .linearSVM,
            model: .linearSVM(weights: .inline(Fixture.weights), intercept: Fixture.intercept, plattA: -2.0, plattB: 0.1),
            expectedScore: Fixture.exampleSVMScore)
        let model = try LoadedModel(manifest: manifest)
        #expect(isClose(model.predict(Fixture.exampleValues).score, Fixture.exampleSVMScore))  // 1/(1+e^(−2m+0.1))
        #expect(model.marginUnit == .decisionFunction)
        let explanation = model.explain(Fixture.exampleValues, top: 10)
        #expect(isClose(explanation.margin, Fixture.exampleMargin))
        #expect(explanation.up.contains { $0.feature == "title:pistola 9mm" })
    }

    @Test func linearSVMWithPositivePlattSlopeListsNegativeContributionsAsPushingUp() throws {
        let manifest = Fixture.manifest(
            algorithm: .linearSVM,
            model: .linearSVM(weights: .inline(Fixture.weights), intercept: Fixture.intercept, plattA: 2.0, plattB: 0),
            expectedScore: 1 / (1 + Math.exp(2 * Fixture.exampleMargin)))
        let model = try LoadedModel(manifest: manifest)
        let explanation = model.explain(Fixture.exampleValues, top: 10)
        #expect(explanation.up.allSatisfy { $0.contribution < 0 })
        #expect(explanation.down.allSatisfy { $0.contribution > 0 })
    }

    static let nbPipeline = PipelineSpec(transformers: [.text(Fixture.titleSpec()), .categorical(Fixture.category), .boolean(Fixture.warranty)])
    static let nbNegative: [Double] = [0.05, 0.10, 0.05, 0.20, 0.02, 0.28, 0.15, 0.05, 0.05, 0.05].map(Math.log)
    static let nbPositive: [Double] = [0.25, 0.15, 0.20, 0.05, 0.15, 0.02, 0.03, 0.10, 0.02, 0.03].map(Math.log)
    static let nbParameters = ModelParameters.multinomialNB(
        classLogPrior: [Math.log(0.7), Math.log(0.3)], featureLogProb: [.inline(nbNegative), .inline(nbPositive)])

    @Test func naiveBayesScoresThePosteriorOfThePositiveClass() throws {
        let manifest = Fixture.manifest(algorithm: .multinomialNB, model: Self.nbParameters, pipeline: Self.nbPipeline,
                                        expectedScore: 0.830360966756299)
        let model = try LoadedModel(manifest: manifest)
        // P(pos|x) = e^jll₊ / (e^jll₊ + e^jll₋), hand-computed.
        #expect(isClose(model.predict(Fixture.exampleValues).score, 0.830360966756299))
        let explanation = model.explain(Fixture.exampleValues, top: 3)
        #expect(isClose(explanation.margin, 1.5881876602353628))
        #expect(isClose(explanation.bias, -0.8472978603872037))  // ln 0.3 − ln 0.7
        // xᵢ · (log p₊ᵢ − log p₋ᵢ): "title:pistola 9mm" 1.3279, category 0.6931, glock 0.6578.
        #expect(explanation.up.map(\.feature) == ["title:pistola 9mm", "category_id=MLX2001", "title:glock"])
        #expect(isClose(explanation.up[0].contribution, 1.3278950733509474))
        #expect(explanation.down.map(\.feature) == ["has_warranty", "title:replica"])
        #expect(isClose(explanation.down[0].contribution, -0.5108256237659909))
    }

    @Test func naiveBayesRejectsPipelinesThatCanProduceNegativeValues() {
        let manifest = Fixture.manifest(
            algorithm: .multinomialNB,
            model: .multinomialNB(classLogPrior: [-0.5, -0.9], featureLogProb: [.inline(Array(repeating: -2, count: 12)), .inline(Array(repeating: -2, count: 12))]))
        #expect(throws: ArtifactError(.invalidPipeline, "")) { _ = try LoadedModel(manifest: manifest, verifyExample: false) }
    }

    @Test func explainContributionsAndBiasSumToTheMargin() throws {
        let model = try Fixture.logisticModel()
        let full = model.explain(Fixture.exampleValues, top: 100)
        let total = full.bias + full.up.reduce(0) { $0 + $1.contribution } + full.down.reduce(0) { $0 + $1.contribution }
        #expect(isClose(total, Fixture.exampleMargin))
        #expect(full.remainder == 0)
        #expect(full.unit == .logOdds)
        #expect(full.prediction == model.predict(Fixture.exampleValues))
        let short = model.explain(Fixture.exampleValues, top: 1)
        #expect(short.up.count == 1 && short.down.count == 1)
        let shortTotal = short.bias + short.up[0].contribution + short.down[0].contribution + short.remainder
        #expect(isClose(shortTotal, Fixture.exampleMargin))
    }

    @Test func explainRanksFeaturesByContributionWithHandComputedValues() throws {
        let model = try Fixture.logisticModel()
        let explanation = model.explain(Fixture.exampleValues, top: 3)
        #expect(explanation.up.map(\.feature) == ["title:pistola 9mm", "category_id=MLX2001", "title:glock"])
        #expect(isClose(explanation.up[0].contribution, 1.0544587484859296))  // 0.659037 × 1.6
        #expect(isClose(explanation.up[0].value, 0.659036717803706))
        #expect(explanation.down.map(\.feature) == ["has_warranty", "title:replica", "price_usd"])
        #expect(isClose(explanation.down[2].contribution, -0.20064627324851148))  // 0.802585 × −0.25
        #expect(isClose(explanation.bias, -0.5))
    }

    @Test func explainWithTopZeroKeepsEverythingInTheRemainder() throws {
        let model = try Fixture.logisticModel()
        let explanation = model.explain(Fixture.exampleValues, top: 0)
        #expect(explanation.up.isEmpty && explanation.down.isEmpty)
        #expect(isClose(explanation.bias + explanation.remainder, Fixture.exampleMargin))
    }

    @Test func scoresStayInTheUnitIntervalForExtremeMargins() {
        let huge = LinearModel(weights: [], bias: 1e6, link: .logistic)
        #expect(huge.score(margin: 1e6) == 1)
        #expect(huge.score(margin: -1e6) == 0)
        #expect(LinearModel(weights: [], bias: 0, link: .platt(a: -1, b: 0)).score(margin: 800) == 1)
    }

    @Test func rejectsWeightsOfTheWrongLengthOrMissingParameters() {
        let short = Fixture.manifest(model: .logisticRegression(weights: .inline([1, 2]), intercept: 0))
        #expect(throws: ArtifactError(.invalidModel, "")) { _ = try LoadedModel(manifest: short, verifyExample: false) }
        let noPlatt = Fixture.manifest(algorithm: .linearSVM)
        #expect {
            _ = try LoadedModel(manifest: noPlatt, verifyExample: false)
        } throws: { ($0 as? ArtifactError)?.message.contains("platt_a") == true }
    }

    @Test func signatureIdFieldMustNameAStringField() {
        var manifest = Fixture.manifest()
        manifest.signature.idField = "price_usd"
        #expect(throws: ArtifactError(.invalidSignature, "")) { _ = try LoadedModel(manifest: manifest) }
    }
}
