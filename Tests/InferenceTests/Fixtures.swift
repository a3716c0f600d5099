import FoundationEssentials
import Testing
@testable import Inference

/// A small but complete listing model used across tests; the numbers in the tests were computed
/// by hand (with a calculator script) from these parameters.
enum Fixture {
    static let signature = Signature(
        fields: [
            FieldSpec(name: "id", type: .string, required: true, description: "listing id"),
            FieldSpec(name: "title", type: .string, required: true, constraints: FieldConstraints(minLength: 1, maxLength: 500)),
            FieldSpec(name: "category_id", type: .string),
            FieldSpec(name: "price_usd", type: .number, constraints: FieldConstraints(minimum: 0)),
            FieldSpec(name: "has_warranty", type: .boolean),
        ],
        idField: "id"
    )

    static let vocabulary = ["pistola": 0, "9mm": 1, "glock": 2, "replica": 3, "pistola 9mm": 4, "airsoft": 5]
    static let idf: [Double] = [1.2, 1.5, 1.8, 1.1, 2.5, 1.3]

    static func titleSpec(idf: StoredArray = .inline(Fixture.idf), vocabulary: [String: Int] = Fixture.vocabulary) -> TextSpec {
        TextSpec(field: "title", ngramMin: 1, ngramMax: 2, vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: idf)))
    }

    static let category = CategoricalSpec(field: "category_id", categories: ["MLB1", "MLX2001"], missingSlot: true)
    static let price = NumericSpec(field: "price_usd", log1p: true, mean: 3.0, scale: 2.0, imputeValue: 20, missingIndicator: true)
    static let warranty = BooleanSpec(field: "has_warranty")

    /// Columns: 0–5 title tf-idf, 6–8 category (+missing), 9–10 price (+missing), 11 warranty.
    static func pipeline(idf: StoredArray = .inline(Fixture.idf)) -> PipelineSpec {
        PipelineSpec(transformers: [.text(titleSpec(idf: idf)), .categorical(category), .numeric(price), .boolean(warranty)])
    }

    static let weights: [Double] = [0.8, 0.5, 1.1, -0.7, 1.6, -1.4, 0.3, 0.9, 0.2, -0.25, 0.4, -0.6]
    static let intercept = -0.5

    static let exampleInput: [String: FeatureValue] = [
        "id": .string("MLB123"), "title": .string("Pistola 9mm Glock, Réplica!"),
        "category_id": .string("MLX2001"), "price_usd": .number(99), "has_warranty": .bool(true),
    ]
    static let exampleValues: [FeatureValue] = [
        .string("MLB123"), .string("Pistola 9mm Glock, Réplica!"), .string("MLX2001"), .number(99), .bool(true),
    ]

    /// Hand-computed: margin of the example under logistic regression / SVM weights.
    static let exampleMargin = 1.4235673616321463
    static let exampleLogisticScore = 0.8058970570740981
    static let exampleSVMScore = 0.9397513256397492

    static func manifest(
        algorithm: Algorithm = .logisticRegression,
        model: ModelParameters = .logisticRegression(weights: .inline(Fixture.weights), intercept: Fixture.intercept),
        pipeline: PipelineSpec = Fixture.pipeline(),
        expectedScore: Double = Fixture.exampleLogisticScore,
        name: String = "prohibited-items", version: Int = 3
    ) -> ModelManifest {
        ModelManifest(
            name: name, version: version, created: "2026-11-23T14:00:00Z", algorithm: algorithm,
            signature: signature, pipeline: pipeline, model: model, threshold: 0.5,
            labels: ["allowed", "prohibited"],
            metrics: Metrics(values: ["roc_auc": 0.97, "f1": 0.91],
                             confusionMatrix: ConfusionMatrix(trueNegative: 90, falsePositive: 3, falseNegative: 2, truePositive: 25)),
            example: Example(input: exampleInput, expectedScore: expectedScore),
            dataset: DatasetInfo(name: "listings", version: "2026-11-01", fingerprint: "abc123")
        )
    }

    static func logisticModel() throws -> LoadedModel {
        try LoadedModel(manifest: manifest())
    }
}

/// A fresh directory under the system temporary directory, removed by `cleanUp()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/inference-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }

    func write(_ text: String, to relative: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + relative))
    }

    func read(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative)))
    }

    func writeBytes(_ bytes: [UInt8], to relative: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + relative))
    }
}

func isClose(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance }

/// Element-wise `isClose`, after checking the lengths (a zip over a short vector checks nothing).
func expectClose(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(actual) has \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for (index, (a, b)) in zip(actual, expected).enumerated() {
        #expect(isClose(a, b), "value \(index): \(a) ≠ \(b)", sourceLocation: sourceLocation)
    }
}
