import FoundationEssentials
import Inference
import Testing
@testable import Training

/// A published model from the small dataset, loaded back as the CLI would.
func publishedSmallModel(_ storage: URL) throws -> LoadedModel {
    let trained = try Trainer(config: smallConfig(.logisticRegression)).train(try smallDataset(), name: "small")
    let outcome = try Publisher(storage: storage, name: "small").publish(trained, force: false)
    return try LoadedModel.load(directory: outcome.directory.path)
}

@Suite struct CommandSupportTests {
    @Test func predictsJSONLinesWithIdScoreAndLabel() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let predictor = BatchPredictor(model: try publishedSmallModel(storage))
        let line = #"{"id":"a\"1","site_id":"MLB","title":"oferta pistola airsoft","category_id":"MLB1000","price_usd":20,"seller_age_days":300,"seller_sales":12,"seller_reputation":null}"#
        let output = try #require(try predictor.predict(line: line, number: 1))
        struct Row: Decodable { let id: String; let score: Double; let label: String }
        let row = try JSONDecoder().decode(Row.self, from: Data(output.utf8))
        #expect(row.id == "a\"1")
        #expect(row.label == "prohibited")
        #expect(row.score == predictor.model.predict(try JSONDecoder().decode([String: FeatureValue].self, from: Data(line.utf8))).score)
        #expect(try predictor.predict(line: "   ", number: 2) == nil)
    }

    @Test func namesTheLineOfABadInput() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let predictor = BatchPredictor(model: try publishedSmallModel(storage))
        #expect(throws: BatchPredictor.LineError(line: 7, problem: "not a JSON object of string, number, boolean or null values")) {
            try predictor.predict(line: "{not json", number: 7)
        }
        #expect(throws: BatchPredictor.LineError(line: 3, problem: "title is required")) {
            try predictor.predict(line: #"{"id":"x","site_id":"MLB","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}"#, number: 3)
        }
        #expect(throws: BatchPredictor.LineError(line: 4, problem: "price_usd must be a number")) {
            try predictor.predict(line: #"{"id":"x","site_id":"MLB","title":"t","category_id":"C","price_usd":"cheap","seller_age_days":1,"seller_sales":1}"#, number: 4)
        }
    }

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

@Suite struct SignatureTests {
    @Test func numericFieldsThatWereNeverNegativeGetAMinimumOfZero() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let predictor = BatchPredictor(model: try publishedSmallModel(storage))
        let price = try #require(predictor.model.signature.fields.first { $0.name == "price_usd" })
        #expect(price.constraints?.minimum == 0)
        #expect(throws: BatchPredictor.LineError(line: 5, problem: "price_usd must be ≥ 0")) {
            try predictor.predict(line: #"{"id":"x","site_id":"MLB","title":"t","category_id":"C","price_usd":-3,"seller_age_days":1,"seller_sales":1}"#, number: 5)
        }
    }
}
