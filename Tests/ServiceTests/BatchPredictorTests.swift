import Foundation
import HTTPTestClient
import Inference
import JSON
import Testing
@testable import Service

/// `vigia predict`'s line scoring, with the default model: the same listing schema and item
/// writer as `:predict`.
@Suite(.timeLimit(.minutes(10))) struct BatchPredictorTests {
    let predictor: BatchPredictor

    init() throws {
        predictor = BatchPredictor(model: try defaultModel.get())
    }

    @Test func scoresALineAsPredictScoresTheSameListing() throws {
        let line = #"{"id":"a\"1","site_id":"MLB","title":"Pistola 9mm glock com carregador extra","category_id":"MLB1234","price_usd":850,"seller_age_days":3,"seller_sales":0,"seller_reputation":null,"unknown":[1]}"#
        let output = try #require(try predictor.predict(line: line, number: 1))
        let row = try #require(try JSONParser.parse(Array(output.utf8)).objectValue)
        #expect(row["id"] == .string("a\"1"))
        #expect(row["label"] == .string("prohibited"))
        #expect(row.members.map(\.key) == ["id", "score", "label", "threshold"])

        // The same listing through the running service's `:predict` gets the same item.
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let response = try TestClient(port: port).postJSON(predictPath, #"{"instances":[\#(line)]}"#)
            #expect(response.status == 200, "\(response.text)")
            let answer = try JSONParser.parse(response.body)
            let item = try #require(answer["predictions"]?.arrayValue?.first?.objectValue)
            #expect(item == row, "vigia predict wrote \(output), :predict answered \(response.text)")
        }
    }

    @Test func blankLinesAreSkipped() throws {
        #expect(try predictor.predict(line: "", number: 1) == nil)
        #expect(try predictor.predict(line: " \t\r", number: 2) == nil)
    }

    @Test func aBadLineNamesItsNumberAndEveryProblemWithItsPointer() {
        #expect(throws: BatchPredictor.LineError(line: 7, problem: "not JSON: expected a member name in double quotes at byte 1")) {
            try predictor.predict(line: "{not json", number: 7)
        }
        #expect(throws: BatchPredictor.LineError(line: 8, problem: "expected a JSON object (one listing), got array")) {
            try predictor.predict(line: "[1]", number: 8)
        }
        #expect(throws: BatchPredictor.LineError(line: 3, problem: "/title is required")) {
            try predictor.predict(line: #"{"id":"x","site_id":"MLB","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}"#, number: 3)
        }
        #expect(throws: BatchPredictor.LineError(line: 4, problem: "/price_usd expected number, got string; /seller_sales must be ≥ 0")) {
            try predictor.predict(line: #"{"id":"x","site_id":"MLB","title":"t","category_id":"C","price_usd":"cheap","seller_age_days":1,"seller_sales":-1}"#, number: 4)
        }
    }
}

/// The listing schema a signature gives: types, required fields, constraints, null for
/// optional fields, and lengths counted as JSON Schema counts them.
@Suite(.timeLimit(.minutes(10))) struct ListingSchemaTests {
    let schema = ListingSchema.from(Signature(fields: [
        FieldSpec(name: "title", type: .string, required: true, constraints: FieldConstraints(minLength: 2, maxLength: 5)),
        FieldSpec(name: "site_id", type: .string, constraints: FieldConstraints(allowed: ["MLB", "MLA"])),
        FieldSpec(name: "price_usd", type: .number, constraints: FieldConstraints(minimum: 0, maximum: 1000)),
        FieldSpec(name: "seller_age_days", type: .integer),
        FieldSpec(name: "has_warranty", type: .boolean),
    ]))

    func problems(_ value: JSONValue) -> [String] {
        let problems = schema.validate(value).map { "\($0.pointer) \($0.problem)" }
        #expect(schema.conforms(value) == problems.isEmpty, "conforms and validate agree")
        return problems
    }

    @Test func acceptsValidListingsAndAbsentOrNullOptionalFields() {
        #expect(problems(["title": "ação", "price_usd": 0, "seller_age_days": 12, "has_warranty": false, "site_id": "MLB"]) == [])
        #expect(problems(["title": "ok"]) == [])
        #expect(problems(["title": "ok", "price_usd": nil, "site_id": nil, "extra": [1, 2]]) == [])
    }

    @Test func reportsMissingFieldsWrongTypesAndBrokenConstraints() {
        #expect(problems([:]) == ["/title is required"])
        #expect(problems(["title": nil]) == ["/title expected string, got null"])
        #expect(problems(["title": 1, "site_id": true, "price_usd": "3", "seller_age_days": 2.5, "has_warranty": "yes"]) == [
            "/title expected string, got integer", "/site_id expected string or null, got boolean",
            "/price_usd expected number or null, got string", "/seller_age_days expected integer or null, got number",
            "/has_warranty expected boolean or null, got string",
        ])
        #expect(problems(["title": "x", "site_id": "MLX", "price_usd": -1]) == [
            "/title must have at least 2 characters", "/site_id must be one of 2 allowed values: MLB, MLA", "/price_usd must be ≥ 0",
        ])
        #expect(problems(["title": "ok", "price_usd": 1000.5]) == ["/price_usd must be ≤ 1000"])
    }

    @Test func countsLengthsInCodePointsAsJSONSchemaDoes() {
        #expect(problems(["title": "ççççç"]) == [])  // five precomposed ç: 5 code points
        // Three c + combining cedilla: 3 characters on screen, 6 code points.
        #expect(problems(["title": "c\u{327}c\u{327}c\u{327}"]) == ["/title must have at most 5 characters"])
    }
}
