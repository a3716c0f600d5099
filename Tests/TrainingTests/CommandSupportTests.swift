import FoundationEssentials
import Inference
import Testing
@testable import Training

/// A published model from the small dataset, loaded back as the CLI would.
func publishedSmallModel(_ storage: URL) throws -> LoadedModel {
    let trained = try smallLogisticModel.get()
    let outcome = try Publisher(storage: storage, name: "small").publish(trained, force: false)
    return try LoadedModel.load(directory: outcome.directory.path)
}

@Suite(.timeLimit(.minutes(10))) struct CommandSupportTests {
    @Test func evaluatesAPublishedModelOnACSVExactlyAsTrainingMeasuredIt() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let model = try publishedSmallModel(storage)
        let schema = ModelEvaluator.schema(for: model.manifest, labelColumn: "is_prohibited")
        #expect(schema.column(named: "title")?.kind == .text)
        #expect(schema.column(named: "site_id")?.kind == .categorical)
        #expect(schema.column(named: "id")?.kind == .identifier)
        let dataset = try CSVDatasetLoader.load(text: smallListingsCSV(), schema: schema, name: "small")
        let (scores, metrics) = ModelEvaluator.evaluate(model, on: dataset)
        #expect(scores.count == 40)
        #expect(metrics.rocAUC == 1)
        #expect(metrics.threshold == model.threshold)
    }

    @Test func reportsTheLineOfInvalidUTF8() {
        var bytes = Array("id,title\nx,ok\n".utf8)
        bytes += [0x79, 0x2C, 0xC3, 0x28, 0x0A]  // "y," then a broken two-byte sequence
        #expect(throws: DatasetError(.unreadable("invalid UTF-8 byte 0xc3"), line: 3)) {
            try CSVDatasetLoader.decodeUTF8(bytes)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct SignatureTests {
    @Test func numericFieldsThatWereNeverNegativeGetAMinimumOfZero() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let fields = try publishedSmallModel(storage).signature.fields
        let price = try #require(fields.first { $0.name == "price_usd" })
        #expect(price.constraints?.minimum == 0)
    }
}
