import Inference
import JSON
import Testing
@testable import Service

/// A scored item's label and threshold come from the version's precomputed bytes when the
/// prediction's label is the model's label at its position, and are written out otherwise;
/// either way the item reads the same.
@Suite(.timeLimit(.minutes(1))) struct ScoredItemTests {
    let serving: ServingModel

    init() throws {
        serving = ServingModel(model: try defaultModel.get(), maxBatchSize: 3)
    }

    private func item(_ prediction: Prediction) throws -> JSONValue {
        var out = JSONWriter()
        out.beginScoredItem(id: "L1", prediction, answeredBy: serving)
        out.raw("}")
        return try JSONParser.parse(out.bytes)
    }

    @Test func writesTheLabelAndThresholdOfEitherClass() throws {
        let labels = serving.model.labels
        for (index, label) in labels.enumerated() {
            let value = try item(Prediction(score: 0.25, label: label, isPositive: index == 1))
            #expect(value["id"] == .string("L1") && value["score"] == .number(0.25))
            #expect(value["label"] == .string(label))
            #expect(value["threshold"] == .number(serving.model.threshold))
        }
    }

    @Test func writesALabelThatIsNotTheOneAtItsPositionAsItIs() throws {
        // Positive, with a label other than labels[1] (and one that needs escaping).
        let value = try item(Prediction(score: 0.9, label: "other \"class\"", isPositive: true))
        #expect(value["label"] == .string("other \"class\""))
        #expect(value["threshold"] == .number(serving.model.threshold))
    }
}

/// Runs kept end to end come back one by one, empty ones included.
@Suite(.timeLimit(.minutes(1))) struct JoinedRunsTests {
    private func run(_ runs: JoinedRuns, _ index: Int) -> [UInt8] {
        runs.withRun(index) { Array($0) }
    }

    @Test func eachRunComesBackAsItWasGiven() {
        let given: [[UInt8]] = [Array(",\"label\":\"ok\"".utf8), [], Array("é,\"threshold\":0.5".utf8), [0x7B]]
        let runs = JoinedRuns(given)
        #expect(runs.count == given.count)
        for (index, bytes) in given.enumerated() {
            #expect(run(runs, index) == bytes)
        }
    }

    @Test func noRunsAtAll() {
        #expect(JoinedRuns([]).count == 0)
    }
}
