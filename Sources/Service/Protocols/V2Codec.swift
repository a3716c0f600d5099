import Inference

/// The Open Inference Protocol (V2) as a codec over the scoring call: a decoded request's
/// columns become listings in signature order, and predictions become the `score`, `label`
/// and `id` output tensors, as JSON or as the binary tensor data extension.
enum V2Codec {
    /// Datatypes each signature field type takes. Numbers take any numeric datatype; an
    /// integer field takes floats too and the listing schema then checks each is whole.
    static func accepts(_ field: FieldType, _ datatype: V2Datatype) -> Bool {
        switch field {
        case .string: datatype == .bytes
        case .number, .integer: datatype == .fp64 || datatype == .fp32 || datatype == .int64 || datatype == .int32
        case .boolean: datatype == .bool
        }
    }

    /// One listing per element, values in signature order, each checked against the listing
    /// schema; inputs the signature does not name are ignored (as JSON listings' unknown
    /// members are). Also checks the requested outputs, so a bad request scores nothing.
    static func listings(_ request: V2InferRequest, for serving: ServingModel) throws(V2RequestError) -> [[FeatureValue]] {
        let count = request.inputs[0].count
        for input in request.inputs where input.count != count {
            throw V2RequestError("Input '\(input.name)' has \(input.count) elements but input '\(request.inputs[0].name)' has \(count); every input needs one per listing.")
        }
        for output in request.outputs ?? [] where !serving.tensors.outputs.contains(where: { $0.name == output.name }) {
            throw V2RequestError("Output '\(output.name)' is not one of this model's outputs: \(serving.tensors.outputs.map(\.name).joined(separator: ", ")).")
        }
        let fields = serving.model.signature.fields
        var listings = [[FeatureValue]](repeating: [FeatureValue](repeating: .missing, count: fields.count), count: count)
        for (f, field) in fields.enumerated() {
            let schema = serving.listingSchema.properties[f].schema
            guard let input = request.inputs.first(where: { $0.name == field.name }) else {
                if field.required {
                    throw V2RequestError("Input '\(field.name)' is missing: the signature requires it (\(SignatureTensors.Element(field.type).v2Datatype), shape [\(count)]).")
                }
                continue
            }
            guard accepts(field.type, input.datatype) else {
                throw V2RequestError("Input '\(field.name)' has datatype \(input.datatype.rawValue); the field is \(field.type.rawValue): send \(SignatureTensors.Element(field.type).v2Datatype).")
            }
            for i in 0..<count {
                let value: JSONValue
                switch input.values {
                case .text(let texts): value = texts[i].map(JSONValue.string) ?? .null
                case .numbers(let numbers): value = numbers[i].map(JSONValue.number) ?? .null
                case .bools(let flags): value = flags[i].map(JSONValue.bool) ?? .null
                }
                guard schema.conforms(value) else {
                    let problem = schema.validate(value).first?.problem ?? "does not match the signature"
                    throw V2RequestError("Input '\(field.name)' element \(i): \(problem).")
                }
                switch value {
                case .string(let text): listings[i][f] = .string(text)
                case .number(let number): listings[i][f] = .number(number)
                case .bool(let flag): listings[i][f] = .bool(flag)
                default: break  // null: an optional field's missing value
                }
            }
        }
        return listings
    }

    /// The response header (JSON) and the binary data after it (empty when every output is JSON).
    static func response(
        _ batch: Scoring.Batch<Prediction>, request: V2InferRequest
    ) -> (header: [UInt8], binary: [UInt8]) {
        let selected = request.outputs ?? batch.serving.tensors.outputs.map { V2RequestedOutput(name: $0.name) }
        var out = JSONWriter(capacity: 160 + 48 * batch.results.count * selected.count)
        var binary: [UInt8] = []
        out.raw("{\"model_name\":")
        out.string(batch.handle.model)
        out.raw(",\"model_version\":")
        out.string(String(batch.answeringVersion))
        if let id = request.id {
            out.raw(",\"id\":")
            out.string(id)
        }
        if batch.byCanary != nil {
            // Split with a canary: the version that answered each listing, in input order.
            out.raw(",\"parameters\":{\"model_versions\":[")
            for i in batch.results.indices {
                if i > 0 { out.raw(",") }
                out.number(batch.version(at: i))
            }
            out.raw("]}")
        }
        out.raw(",\"outputs\":[")
        for (k, output) in selected.enumerated() {
            if k > 0 { out.raw(",") }
            let asBinary = output.binary ?? request.binaryDataOutput
            let start = binary.count
            out.raw("{\"name\":")
            out.string(output.name)
            switch output.name {
            case SignatureTensors.scoreOutput:
                // A multi-class model writes [N, K] here, with its class names in parameters.
                out.raw(",\"datatype\":\"FP64\",\"shape\":[")
                out.number(batch.results.count)
                out.raw("]")
                if asBinary {
                    for prediction in batch.results { appendLittleEndian(prediction.score.bitPattern, to: &binary) }
                } else {
                    out.raw(",\"data\":[")
                    for (i, prediction) in batch.results.enumerated() {
                        if i > 0 { out.raw(",") }
                        out.number(prediction.score)
                    }
                    out.raw("]")
                }
            case SignatureTensors.labelOutput:
                writeText(batch.results.map(\.label), binary: asBinary, to: &out, data: &binary)
            default:
                writeText(batch.ids.map { $0 ?? "" }, binary: asBinary, to: &out, data: &binary)
            }
            if asBinary {
                out.raw(",\"parameters\":{\"binary_data_size\":")
                out.number(binary.count - start)
                out.raw("}")
            }
            out.raw("}")
        }
        out.raw("]}")
        return (out.bytes, binary)
    }

    /// A BYTES `[N]` tensor: JSON strings, or 4-byte little-endian lengths and UTF-8 bytes.
    private static func writeText(_ texts: [String], binary asBinary: Bool, to out: inout JSONWriter, data: inout [UInt8]) {
        out.raw(",\"datatype\":\"BYTES\",\"shape\":[")
        out.number(texts.count)
        out.raw("]")
        if asBinary {
            for text in texts {
                appendLittleEndian(UInt32(text.utf8.count), to: &data)
                data.append(contentsOf: text.utf8)
            }
            return
        }
        out.raw(",\"data\":[")
        for (i, text) in texts.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(text)
        }
        out.raw("]")
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
