import Foundation
import HTTPTestClient
import Inference
import JSON
import Testing
@testable import Service

/// A three-class model served over real sockets: V1 rows and columns, V2 JSON and binary,
/// explain with and without a class, metrics per class.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ClassesEndToEndTests {
    static let classes = ["allowed", "medicines", "weapons"]

    /// Publishes version `version` of a three-class model built on the default model's
    /// pipeline: its weights.bin keeps every array the pipeline references and gains one row
    /// per class. Returns the model as loaded from the published directory.
    @discardableResult
    static func publishClasses(_ storage: TestStorage, version: Int = 1) throws -> LoadedModel {
        let source = try defaultModelDirectory()
        var manifest = try LoadedModel.decodeManifest(Array(try Data(contentsOf: source.appending(path: "model.json"))))
        let bytes = [UInt8](try Data(contentsOf: source.appending(path: "weights.bin")))
        let base: [Double] = (0..<bytes.count / 8).map { i in
            Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i * 8 + $1]) << (8 * UInt64($1)) })
        }
        guard let reference = manifest.model.weights, let offset = reference.offset, let count = reference.count else {
            throw ClientError(description: "the default model's weights are not in weights.bin")
        }
        let binary = Array(base[offset ..< offset + count])
        var builder = WeightsBuilder()
        _ = builder.append(base)
        let rows = [binary.map { _ in 0.0 }, binary.map { 0.6 * $0 }, binary].map { builder.append($0) }
        let intercept = manifest.model.intercept ?? 0
        manifest.model = .softmax(classWeights: rows, classIntercepts: [0, intercept - 0.7, intercept])
        manifest.labels = classes
        manifest.positiveClasses = ["medicines", "weapons"]
        manifest.classThresholds = ["weapons": 0.4]
        manifest.threshold = 0.5
        manifest.formatVersion = 4
        manifest.version = version
        manifest.files = [:]
        manifest.profile = nil
        let draft = try LoadedModel(manifest: manifest, weights: builder.values, verifyExample: false)
        manifest.example.expectedScore = draft.predict(manifest.example.input).score
        let staging = storage.modelDirectory.appending(path: ".incoming-\(version)")
        try ArtifactWriter.write(manifest: manifest, weights: builder.values, to: staging.path)
        let final = storage.modelDirectory.appending(path: String(version))
        try FileManager.default.moveItem(at: staging, to: final)
        return try LoadedModel.load(directory: final.path)
    }

    static func values(_ listing: String) throws -> [String: FeatureValue] {
        var out: [String: FeatureValue] = [:]
        for member in try #require(try JSONParser.parse(Array(listing.utf8)).objectValue) {
            switch member.value {
            case .string(let s): out[member.key] = .string(s)
            case .number(let n): out[member.key] = .number(n)
            default: break
            }
        }
        return out
    }

    @Test func predictionsCarryEveryClassOnEveryProtocol() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        let model = try Self.publishClasses(storage)
        let expected = try [listingJSON, benignJSON].map { model.predict(try Self.values($0)) }
        #expect(expected.map(\.label) == ["weapons", "allowed"])
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            // V1 rows: score, label, threshold as before, plus scores per class.
            let response = try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#)
            #expect(response.status == 200, "\(response.text)")
            let predictions = try #require(try json(response)["predictions"]?.arrayValue)
            for (prediction, reference) in zip(predictions, expected) {
                let probabilities = try #require(reference.classScores?.probabilities)
                #expect(prediction["score"]?.numberValue == reference.score)
                #expect(prediction["label"]?.stringValue == reference.label)
                #expect(prediction["threshold"]?.numberValue == 0.5)
                let scores = try #require(prediction["scores"]?.objectValue)
                #expect(scores.keys == Self.classes)
                #expect(Self.classes.indices.map { scores[Self.classes[$0]]?.numberValue } == probabilities.map { $0 })
                #expect(abs(probabilities[1] + probabilities[2] - reference.score) < 1e-15)
            }
            // TF Serving columns: a scores output, one object per listing.
            let inputs = ProtocolEndToEndTests.columns.map { #""\#($0.name)":\#($0.values)"# }.joined(separator: ",")
            let columnar = try json(client.postJSON(predictPath, #"{"inputs":{\#(inputs)}}"#))
            #expect(columnar["outputs"]?["label"] == ["weapons", "allowed"])
            #expect(columnar["outputs"]?["scores"]?.arrayValue?.count == 2)
            #expect(columnar["outputs"]?["scores"]?.arrayValue?.first == predictions[0]["scores"])

            // V2 metadata and infer: score is [N, K] with the class names in its parameters.
            let metadata = try json(client.request("GET", "/v2/models/\(storage.model)"))
            let scoreTensor = metadata["outputs"]?.arrayValue?.first { $0["name"] == "score" }
            #expect(scoreTensor?["shape"] == [-1, 3])
            #expect(scoreTensor?["parameters"]?["classes"] == ["allowed", "medicines", "weapons"])
            let tfMetadata = try json(client.request("GET", "/v1/models/\(storage.model)/metadata"))
            let dims = tfMetadata["metadata"]?["signature_def"]?["signature_def"]?["serving_default"]?["outputs"]?["score"]?["tensor_shape"]?["dim"]
            #expect(dims?.arrayValue?.compactMap { $0["size"]?.stringValue } == ["-1", "3"])
            let body = ProtocolEndToEndTests.v2Body(outputs: #"[{"name":"score"},{"name":"label"},{"name":"predict_proba"},{"name":"predict"}]"#)
            let infer = try client.postJSON("/v2/models/\(storage.model)/infer", body)
            #expect(infer.status == 200, "\(infer.text)")
            let outputs = try #require(try json(infer)["outputs"]?.arrayValue)
            let flat = expected.flatMap { $0.classScores!.probabilities }
            #expect(outputs[0]["shape"] == [2, 3])
            #expect(outputs[0]["parameters"]?["classes"] == ["allowed", "medicines", "weapons"])
            #expect(outputs[0]["data"]?.arrayValue?.compactMap(\.numberValue) == flat)
            #expect(outputs[1]["data"] == ["weapons", "allowed"])
            #expect(outputs[2]["shape"] == [2, 3])
            #expect(outputs[2]["data"]?.arrayValue?.compactMap(\.numberValue) == flat)
            let mostProbable = expected.map { Self.classes[$0.classScores!.mostProbable] }
            #expect(outputs[3]["data"]?.arrayValue?.compactMap(\.stringValue) == mostProbable)
            // Binary output: 2 × 3 doubles, the classes still in the parameters.
            let binaryBody = ProtocolEndToEndTests.v2Body(outputs: #"[{"name":"score","parameters":{"binary_data":true}}]"#)
            let binary = try client.postJSON("/v2/models/\(storage.model)/infer", binaryBody)
            #expect(binary.status == 200, "\(binary.text)")
            let length = try #require(binary.header("Inference-Header-Content-Length").flatMap { Int($0) })
            let header = try JSONParser.parse(Array(binary.body[..<length]))
            #expect(header["outputs"]?.arrayValue?.first?["parameters"]?["binary_data_size"] == 48)
            #expect(header["outputs"]?.arrayValue?.first?["parameters"]?["classes"] == ["allowed", "medicines", "weapons"])
            #expect(ProtocolEndToEndTests.doubles(Array(binary.body[length...]), count: 6) == flat)

            // The status shows the class policy.
            let serving = try json(client.request("GET", "/v1/models/\(storage.model)"))["serving"]
            #expect(serving?["labels"] == ["allowed", "medicines", "weapons"])
            #expect(serving?["positive_classes"] == ["medicines", "weapons"])
            #expect(serving?["class_thresholds"] == ["weapons": 0.4])
        }
    }

    @Test func explainTakesTheLabelsClassOrTheOneAskedFor() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        let model = try Self.publishClasses(storage)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            let path = "/v1/models/\(storage.model):explain"
            let plain = try json(client.postJSON(path, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#))
            #expect(plain["margin_unit"] == "class_logit")
            #expect(plain["explanations"]?.arrayValue?.compactMap { $0["class"]?.stringValue } == ["weapons", "allowed"])
            #expect(plain["explanations"]?.arrayValue?.first?["scores"]?.objectValue?.keys == Self.classes)
            let asked = try json(client.postJSON(path, #"{"class":"medicines","instances":[\#(listingJSON)]}"#))
            let explanation = try #require(asked["explanations"]?.arrayValue?.first)
            #expect(explanation["class"] == "medicines")
            let reference = model.explain(try Self.values(listingJSON), top: 10, class: 1)
            #expect(explanation["margin"]?.numberValue == reference.margin)
            let listed = (explanation["raised_by"]?.arrayValue ?? []) + (explanation["lowered_by"]?.arrayValue ?? [])
            let total = listed.compactMap { $0["contribution"]?.numberValue }.reduce(0, +)
                + (explanation["bias"]?.numberValue ?? .nan) + (explanation["remainder"]?.numberValue ?? .nan)
            #expect(abs(total - reference.margin) < 1e-9)

            for bad in [#""class":"tobacco""#, #""class":3"#] {
                let response = try client.postJSON(path, #"{\#(bad),"instances":[\#(listingJSON)]}"#)
                #expect(response.status == 422, "\(response.text)")
                #expect(response.text.contains(#""pointer":"/class""#), "\(response.text)")
                #expect(response.text.contains("allowed, medicines, weapons"), "\(response.text)")
            }
            // A class does not make predict accept it.
            #expect(try client.postJSON(predictPath, #"{"class":"weapons","instances":[\#(listingJSON)]}"#).status == 422)
        }
    }

    @Test func aBinaryModelExplainsItsPositiveLabelOnly() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            let path = "/v1/models/\(storage.model):explain"
            let plain = try client.postJSON(path, #"{"instances":[\#(listingJSON)]}"#)
            let positive = try client.postJSON(path, #"{"class":"prohibited","instances":[\#(listingJSON)]}"#)
            #expect(positive.status == 200)
            #expect(try json(positive) == json(plain))
            #expect(try json(plain)["explanations"]?.arrayValue?.first?["class"] == nil)
            #expect(try json(plain)["explanations"]?.arrayValue?.first?["scores"] == nil)
            let negative = try client.postJSON(path, #"{"class":"allowed","instances":[\#(listingJSON)]}"#)
            #expect(negative.status == 422)
            #expect(negative.text.contains("a binary model explains its positive label"), "\(negative.text)")
        }
    }

    @Test func predictionsAreCountedPerClass() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try Self.publishClasses(storage)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            for _ in 0..<2 {
                #expect(try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON),\#(benignJSON)]}"#).status == 200)
            }
            let page = try client.request("GET", "/metrics").text
            let series = { (label: String) in #"vigia_predictions_total{model="prohibited-items",version="1",label="\#(label)"}"# }
            #expect(sample(page, series("weapons")) == 2)
            #expect(sample(page, series("allowed")) == 4)
            #expect(sample(page, series("medicines")) == 0)
            // Labels are the model's classes, nothing else.
            let labels = page.split(separator: "\n").filter { $0.hasPrefix("vigia_predictions_total{") }
            #expect(labels.count == 3, "\(labels)")
        }
    }
}
