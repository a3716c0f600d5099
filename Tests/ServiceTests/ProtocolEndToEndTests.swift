import Foundation
import HTTPTestClient
import JSON
import Testing
@testable import Service

/// KServe V1, TF Serving REST and the Open Inference Protocol over real sockets: every
/// protocol scores through the same call, so each answers exactly V1 predict's scores.
@Suite(.timeLimit(.minutes(10))) struct ProtocolEndToEndTests {
    static let model = "prohibited-items"

    /// Two listings as columns, one per signature field.
    static let columns: [(name: String, datatype: String, values: String)] = [
        ("id", "BYTES", #"["L1","L2"]"#), ("site_id", "BYTES", #"["MLB","MLA"]"#),
        ("title", "BYTES", #"["Pistola 9mm glock com carregador extra","Pistola de silicona caliente 40w para manualidades"]"#),
        ("category_id", "BYTES", #"["MLB1234","MLA1234"]"#), ("price_usd", "FP64", "[850,12.5]"),
        ("seller_age_days", "INT64", "[3,900]"), ("seller_sales", "INT32", "[0,340]"),
        ("seller_reputation", "BYTES", #"["new","gold"]"#),
    ]

    static func v2Body(id: String? = "req-7", outputs: String? = nil, skipping: String? = nil) -> String {
        let inputs = columns.filter { $0.name != skipping }.map {
            #"{"name":"\#($0.name)","datatype":"\#($0.datatype)","shape":[2,1],"data":\#($0.values)}"#
        }
        var members = [#""inputs":[\#(inputs.joined(separator: ","))]"#]
        if let id { members.insert(#""id":"\#(id)""#, at: 0) }
        if let outputs { members.append(#""outputs":\#(outputs)"#) }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The scores V1 predict gives the same two listings.
    static func v1Scores(_ client: TestClient) throws -> [Double] {
        let response = try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#)
        return try #require(try json(response)["predictions"]?.arrayValue).compactMap { $0["score"]?.numberValue }
    }

    @Test func tensorFlowServingAndKServeV1RoutesAnswerTheirClientsShapes() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            #expect(try json(client.request("GET", "/"))["status"] == "alive")
            let status = try json(client.request("GET", "/v1/models/\(Self.model)"))
            #expect(status["ready"] == true)
            let versionStatus = try #require(status["model_version_status"]?.arrayValue?.first)
            #expect(versionStatus["version"] == "1")
            #expect(versionStatus["state"] == "AVAILABLE")
            #expect(versionStatus["status"]?["error_code"] == "OK")
            for path in ["/v1/models/\(Self.model)/metadata", "/v1/models/\(Self.model)/versions/1/metadata"] {
                let metadata = try client.request("GET", path)
                #expect(metadata.status == 200, "\(metadata.text)")
                let signature = try json(metadata)["metadata"]?["signature_def"]?["signature_def"]?["serving_default"]
                #expect(signature?["inputs"]?["title"]?["dtype"] == "DT_STRING")
                #expect(signature?["inputs"]?["price_usd"]?["dtype"] == "DT_DOUBLE")
                #expect(signature?["outputs"]?["score"]?["dtype"] == "DT_DOUBLE")
                #expect(try json(metadata)["model_spec"]?["version"] == "1")
            }
            #expect(try client.request("GET", "/v1/models/\(Self.model)/labels/nope/metadata").status == 404)

            let rows = try Self.v1Scores(client)
            let inputs = Self.columns.map { #""\#($0.name)":\#($0.values)"# }.joined(separator: ",")
            let columnar = try client.postJSON(predictPath, #"{"signature_name":"serving_default","inputs":{\#(inputs)}}"#)
            #expect(columnar.status == 200, "\(columnar.text)")
            let outputs = try json(columnar)["outputs"]
            #expect(outputs?["score"]?.arrayValue?.compactMap(\.numberValue) == rows)
            #expect(outputs?["id"] == ["L1", "L2"])
            #expect(outputs?["label"] == ["prohibited", "allowed"])
            let named = try client.postJSON(predictPath, #"{"signature_name":"x","instances":[\#(listingJSON)]}"#)
            #expect(named.status == 200, "\(named.text)")

            let oneTitle = inputs.replacingOccurrences(of: #""title":["Pistola 9mm glock com carregador extra","#, with: #""title":["#)
            let ragged = try client.postJSON(predictPath, #"{"inputs":{\#(oneTitle)}}"#)
            #expect(ragged.status == 422)
            #expect(ragged.text.contains("/inputs/title"), "\(ragged.text)")
            let negative = try client.postJSON(predictPath, #"{"inputs":{\#(inputs.replacingOccurrences(of: "[850,12.5]", with: "[850,-1]"))}}"#)
            #expect(negative.status == 422)
            #expect(negative.text.contains("/inputs/price_usd/1"), "\(negative.text)")
            let both = try client.postJSON(predictPath, #"{"instances":[\#(listingJSON)],"inputs":{"id":["a"]}}"#)
            #expect(both.status == 422)
        }
    }

    /// A service on version 1, a client and the V1 scores of the two listings.
    static func withVersionOne(_ body: (TestClient, [Double]) throws -> Void) throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            try body(client, try v1Scores(client))
        }
    }

    /// Little-endian FP64 elements of binary tensor data.
    static func doubles(_ data: [UInt8], count: Int) -> [Double] {
        (0..<count).map { i in
            Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[i * 8 + $1]) << (8 * UInt64($1)) })
        }
    }

    @Test func openInferenceProtocolScoresAsV1PredictDoes() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            #expect(try json(client.request("GET", "/v2/health/live")) == ["live": true])
            #expect(try client.request("GET", "/v2/health/ready").status == 200)
            #expect(try json(client.request("GET", "/v2"))["extensions"] == ["binary_tensor_data"])
            let ready = try client.request("GET", "/v2/models/\(Self.model)/versions/1/ready")
            #expect(ready.status == 200)
            #expect(try json(ready) == ["name": .string(Self.model), "ready": true])
            let metadata = try json(client.request("GET", "/v2/models/\(Self.model)"))
            #expect(metadata["versions"] == ["1"])
            let inputs = try #require(metadata["inputs"]?.arrayValue)
            #expect(inputs.count == Self.columns.count)
            #expect(inputs.first { $0["name"] == "title" }?["datatype"] == "BYTES")
            #expect(inputs.first { $0["name"] == "price_usd" }?["shape"] == [-1])
            #expect(metadata["outputs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["score", "label", "id"])

            let rows = try Self.v1Scores(client)
            let response = try client.postJSON("/v2/models/\(Self.model)/infer", Self.v2Body())
            #expect(response.status == 200, "\(response.text)")
            let body = try json(response)
            #expect(body["model_name"] == .string(Self.model))
            #expect(body["model_version"] == "1")
            #expect(body["id"] == "req-7")
            let outputs = try #require(body["outputs"]?.arrayValue)
            #expect(outputs.map { $0["name"] } == ["score", "label", "id"])
            #expect(outputs[0]["datatype"] == "FP64")
            #expect(outputs[0]["shape"] == [2])
            #expect(outputs[0]["data"]?.arrayValue?.compactMap(\.numberValue) == rows)
            #expect(outputs[1]["data"] == ["prohibited", "allowed"])
            #expect(outputs[2]["data"] == ["L1", "L2"])

            // Optional inputs may be left out; `outputs` selects and orders.
            let selected = try client.postJSON(
                "/v2/models/\(Self.model)/versions/1/infer",
                Self.v2Body(id: nil, outputs: #"[{"name":"label"}]"#, skipping: "seller_reputation"))
            #expect(selected.status == 200, "\(selected.text)")
            #expect(try json(selected)["outputs"]?.arrayValue?.map { $0["name"] } == ["label"])
            #expect(try json(selected)["id"] == nil)
        }
    }

    @Test func openInferenceProtocolBinaryTensorDataInAndOut() throws {
        try Self.withVersionOne { client, rows in
            // Titles as binary BYTES; everything else JSON; every output asked for as binary.
            let titles = V2DecoderTests.lengthPrefixed(
                ["Pistola 9mm glock com carregador extra", "Pistola de silicona caliente 40w para manualidades"])
            var json = Self.v2Body(skipping: "title")
            json.removeLast(2)  // "]}"
            json += #",{"name":"title","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":\#(titles.count)}}],"#
                + #""parameters":{"binary_data_output":true}}"#
            let header = Array(json.utf8)
            let response = try client.request(
                "POST", "/v2/models/\(Self.model)/infer",
                headers: [("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", String(header.count))],
                body: header + titles)
            #expect(response.status == 200, "\(response.text)")
            let length = try #require(response.header("Inference-Header-Content-Length").flatMap { Int($0) })
            let head = try JSONParser.parse(Array(response.body[..<length]))
            let outputs = try #require(head["outputs"]?.arrayValue)
            #expect(outputs[0]["parameters"]?["binary_data_size"] == 16)
            #expect(outputs[0]["data"] == nil)
            let data = Array(response.body[length...])
            #expect(data.count == 16 + outputs.dropFirst().compactMap { $0["parameters"]?["binary_data_size"]?.numberValue }.reduce(0, +).toInt)
            #expect(Self.doubles(data, count: 2) == rows)
            // Labels follow: a 4-byte length, then "prohibited".
            #expect(Array(data[16..<20]) == [10, 0, 0, 0])
            #expect(String(decoding: data[20..<30], as: UTF8.self) == "prohibited")
        }
    }

    /// A client written for MLServer's scikit-learn runtime asks for `predict_proba` and
    /// `predict`; both are answered from the same scores, in JSON and as binary data.
    @Test func openInferenceProtocolAnswersScikitLearnRuntimeOutputs() throws {
        try Self.withVersionOne { client, rows in
            let response = try client.postJSON(
                "/v2/models/\(Self.model)/infer",
                Self.v2Body(outputs: #"[{"name":"predict_proba"},{"name":"predict"}]"#))
            #expect(response.status == 200, "\(response.text)")
            let outputs = try #require(try json(response)["outputs"]?.arrayValue)
            #expect(outputs.map { $0["name"] } == ["predict_proba", "predict"])
            #expect(outputs[0]["datatype"] == "FP64")
            #expect(outputs[0]["shape"] == [2, 2])
            #expect(outputs[0]["data"]?.arrayValue?.compactMap(\.numberValue) == rows.flatMap { [1 - $0, $0] })
            #expect(outputs[1]["datatype"] == "BYTES")
            #expect(outputs[1]["data"] == .array(rows.map { .string($0 > 0.5 ? "prohibited" : "allowed") }))

            var body = Self.v2Body(outputs: #"[{"name":"predict_proba"}]"#)
            body.removeLast()
            body += #","parameters":{"binary_data_output":true}}"#
            let binary = try client.postJSON("/v2/models/\(Self.model)/infer", body)
            #expect(binary.status == 200, "\(binary.text)")
            let length = try #require(binary.header("Inference-Header-Content-Length").flatMap { Int($0) })
            let head = try JSONParser.parse(Array(binary.body[..<length]))
            #expect(head["outputs"]?.arrayValue?.first?["parameters"]?["binary_data_size"] == 32)
            let data = Array(binary.body[length...])
            #expect(Self.doubles(data, count: 4) == rows.flatMap { [1 - $0, $0] })
        }
    }

    @Test func openInferenceProtocolErrorsCarryAnErrorMemberAndTheRightStatus() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            let cases: [(path: String, body: String, status: Int, mentions: String)] = [
                ("/v2/models/\(Self.model)/infer", Self.v2Body(skipping: "title"), 400, "Input 'title' is missing"),
                ("/v2/models/\(Self.model)/infer", Self.v2Body().replacingOccurrences(of: "[850,12.5]", with: "[850,-3]"), 400,
                 "Input 'price_usd' element 1"),
                ("/v2/models/\(Self.model)/infer", Self.v2Body().replacingOccurrences(of: #""id","datatype":"BYTES""#, with: #""id","datatype":"FP64""#), 400,
                 "Input 'id' element 0 is string"),
                ("/v2/models/\(Self.model)/infer", Self.v2Body().replacingOccurrences(of: #""title","datatype":"BYTES""#, with: #""title","datatype":"BOOL""#), 400,
                 "Input 'title'"),
                ("/v2/models/\(Self.model)/infer", Self.v2Body(outputs: #"[{"name":"margin"}]"#), 400, "Output 'margin'"),
                ("/v2/models/\(Self.model)/infer", "{", 400, "not valid JSON"),
                ("/v2/models/nope/infer", Self.v2Body(), 404, "nope"),
                // A malformed body is refused before the model is looked up.
                ("/v2/models/nope/infer", "{", 400, "not valid JSON"),
                ("/v2/models/\(Self.model)/versions/9/infer", Self.v2Body(skipping: "title"), 404, "9"),
                ("/v2/models/\(Self.model)/versions/9/infer", Self.v2Body(), 404, "9"),
            ]
            for (path, body, status, mentions) in cases {
                let response = try client.postJSON(path, body)
                #expect(response.status == status, "\(path) \(response.text)")
                let error = try json(response)["error"]?.stringValue
                #expect(error?.contains(mentions) == true, "\(response.text)")
            }
            let wrongType = try client.request("POST", "/v2/models/\(Self.model)/infer", headers: [("Content-Type", "text/plain")],
                                               body: Array(Self.v2Body().utf8))
            #expect(wrongType.status == 415)
            #expect(try json(client.request("GET", "/v2/models/nope/ready"))["error"] != nil)
            let badLength = try client.request("POST", "/v2/models/\(Self.model)/infer",
                                               headers: [("Inference-Header-Content-Length", "-4")], body: Array(Self.v2Body().utf8))
            #expect(badLength.status == 400)
        }
    }
}

private extension Double {
    var toInt: Int { Int(self) }
}
