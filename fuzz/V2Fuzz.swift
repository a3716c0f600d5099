// libFuzzer entry point for the Open Inference Protocol (V2) infer decoder, the JSON header
// and the binary tensor data after it. Built by fuzz/run.sh together with
// Sources/Service/Protocols/V2InferRequest.swift, Sources/JSON (parser, cursor, value, writer) and the
// reference decoder (Tests/ServiceTests/V2ReferenceDecoder.swift) as one module.
//
// Input layout: two bytes little-endian, the Inference-Header-Content-Length (0xFFFF: none,
// the body is all JSON), then the body.
//
// Invariants checked on every input (a violation traps, which libFuzzer reports as a crash):
// - decode never crashes: every malformed input is a V2RequestError with a message;
// - the one-pass decoder and the tree-walking reference give the same request or message;
// - a decoded request is well-formed: 1...maxInputs inputs with distinct names, a shape
//   (`V2Shape`: [N] or [N, 1] by its type) with 1 <= N <= the batch limit, exactly N values,
//   at most maxOutputs outputs;
// - the request written back as all-JSON (binary data inline) decodes to the same request;
// - the signature-aware decoder (Sources/Service/Protocols/V2ListingDecoder.swift), for the
//   signature below, decodes only bodies that the general path (the decoder, then
//   `V2Signature.listings`) accepts, into the same listings and request members.

private let batchLimit = 8

/// A signature like a listing model's: a required string, an optional non-negative number,
/// an optional integer and an optional boolean (the names the seeds use).
private let signature: V2Signature = {
    func field(_ name: String, _ typeName: String, required: Bool = false,
               conformsText: (@Sendable (UnsafeBufferPointer<UInt8>) -> Bool)? = nil,
               _ conforms: @escaping @Sendable (JSONValue) -> Bool) -> V2Signature.Field {
        let datatypes: [V2Datatype] =
            switch typeName {
            case "string": [.bytes]
            case "boolean": [.bool]
            default: [.fp64, .fp32, .int64, .int32]
            }
        return V2Signature.Field(
            name: name, required: required, typeName: typeName, datatype: datatypes[0], accepted: datatypes,
            conforms: conforms, problem: { _ in "does not conform" }, conformsText: conformsText)
    }
    return V2Signature(
        fields: [
            // Its string elements checked on their bytes by the signature-aware decoder, as a
            // String by the general path: the two checks must agree.
            field("title", "string", required: true, conformsText: { $0.count <= 40 }) {
                if case .string(let text) = $0 { text.utf8.count <= 40 } else { false }
            },
            field("price_usd", "number") {
                switch $0 {
                case .null: true
                case .number(let n): n >= 0
                default: false
                }
            },
            field("seller_sales", "integer") {
                switch $0 {
                case .null: true
                case .number(let n): n.rounded() == n
                default: false
                }
            },
            field("b", "boolean") {
                switch $0 {
                case .null, .bool: true
                default: false
                }
            },
        ],
        outputNames: ["score", "label", "predict_proba", "predict"])
}()

private let listingDecoder = V2ListingDecoder(signature: signature, maxBatchSize: batchLimit)!

/// The signature-aware decoder agrees with the general path wherever it decodes.
private func checkListingDecoder(_ body: [UInt8], headerLength: Int?) {
    guard let fast = listingDecoder.decode(body, headerLength: headerLength) else { return }
    do {
        var request = try V2RequestDecoder.decode(body, headerLength: headerLength, maxBatchSize: batchLimit)
        let listings = try signature.listings(request)
        request.inputs = []
        invariant(fast.request == request, "the signature-aware decoder reads the request members differently")
        invariant(fast.listings == listings, "the signature-aware decoder gives other listings")
    } catch {
        invariant(false, "the signature-aware decoder decodes a body the general path refuses: \(error.message)")
    }
}

private func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("v2 invariant broken: \(message())") }
}

private func count(_ values: V2Values) -> Int {
    switch values {
    case .text(let list): list.count
    case .numbers(let list): list.count
    case .bools(let list): list.count
    }
}

/// The request as JSON with every tensor inline.
private func inlineJSON(_ request: V2InferRequest) -> [UInt8] {
    var root = JSONObject()
    if let id = request.id { root.append("id", .string(id)) }
    if request.binaryDataOutput { root.append("parameters", ["binary_data_output": true]) }
    root.append("inputs", .array(request.inputs.map { input in
        let data: [JSONValue] =
            switch input.values {
            case .text(let list): list.map { $0.map(JSONValue.string) ?? .null }
            case .numbers(let list): list.map { $0.map(JSONValue.number) ?? .null }
            case .bools(let list): list.map { $0.map(JSONValue.bool) ?? .null }
            }
        return [
            "name": .string(input.name), "datatype": .string(input.datatype.rawValue),
            "shape": .array(input.shape.dimensions.map { .number(Double($0)) }), "data": .array(data),
        ]
    }))
    if let outputs = request.outputs {
        root.append("outputs", .array(outputs.map { output in
            var object: JSONObject = ["name": .string(output.name)]
            if let binary = output.binary { object.append("parameters", ["binary_data": .bool(binary)]) }
            return .object(object)
        }))
    }
    return JSONWriter.encode(.object(root))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func v2FuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let declared = Int(bytes[0]) | Int(bytes[1]) << 8
    let body = Array(bytes[2...])
    let headerLength = declared == 0xFFFF ? nil : declared
    checkListingDecoder(body, headerLength: headerLength)
    let request: V2InferRequest
    do {
        request = try V2RequestDecoder.decode(body, headerLength: headerLength, maxBatchSize: batchLimit)
    } catch {
        invariant(!error.message.isEmpty, "an error without a message")
        do {
            _ = try V2ReferenceDecoder.decode(body, headerLength: headerLength, maxBatchSize: batchLimit)
            invariant(false, "refused (\(error.message)) but the reference decodes it")
        } catch let reference {
            invariant(reference == error, "refused with \(error.message) but the reference says \(reference.message)")
        }
        return 0
    }
    do {
        let reference = try V2ReferenceDecoder.decode(body, headerLength: headerLength, maxBatchSize: batchLimit)
        invariant(reference == request, "the reference decodes it differently")
    } catch {
        invariant(false, "decoded but the reference refuses it: \(error.message)")
    }
    invariant((1...V2RequestDecoder.maxInputs).contains(request.inputs.count), "\(request.inputs.count) inputs")
    invariant(Set(request.inputs.map(\.name)).count == request.inputs.count, "duplicate input names")
    invariant((request.outputs?.count ?? 0) <= V2RequestDecoder.maxOutputs, "too many outputs")
    for input in request.inputs {
        invariant((1...batchLimit).contains(input.count), "batch \(input.count)")
        invariant(count(input.values) == input.count, "\(count(input.values)) values for shape \(input.shape)")
    }
    let again: V2InferRequest
    do {
        again = try V2RequestDecoder.decode(inlineJSON(request), headerLength: nil, maxBatchSize: batchLimit)
    } catch {
        fatalError("v2 invariant broken: the inline form of a decoded request is refused: \(error)")
    }
    invariant(again == request, "the inline form decodes differently")
    return 0
}
