import HTTPServer
import Inference
import JSON

/// The Open Inference Protocol (V2) as a codec over the scoring call: a model's signature as
/// the decoders check it (`V2Signature`), and predictions as the `score`, `label` and `id`
/// output tensors, as JSON or as the binary tensor data extension.
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

    /// `signature` as the V2 decoders check requests against it: each field's datatypes, and
    /// its listing-schema property (from `listing`, in the same order) for the elements.
    static func signature(_ signature: Signature, listing: Schema, tensors: SignatureTensors) -> V2Signature {
        V2Signature(
            fields: signature.fields.enumerated().map { f, field in
                let schema = listing.properties[f].schema
                return V2Signature.Field(
                    name: field.name, required: field.required, typeName: field.type.rawValue,
                    datatype: V2Datatype(rawValue: SignatureTensors.Element(field.type).v2Datatype)!,
                    accepted: V2Datatype.accepted.filter { accepts(field.type, $0) },
                    conforms: { schema.conforms($0) },
                    problem: { schema.validate($0).first?.problem ?? "does not match the signature" },
                    conformsText: { schema.conforms(stringUTF8: $0) })
            },
            outputNames: tensors.outputs.map(\.name) + SignatureTensors.scikitLearnOutputs)
    }

    /// The response header (JSON) and the binary data after it (empty when every output is
    /// JSON), each in a body from `ResponseBodies.take(capacity:)` (the binary data's when
    /// there is some): the caller answers with them or gives them back.
    static func response(
        _ batch: Scoring.Batch<Prediction>, request: V2InferRequest
    ) -> (header: [UInt8], binary: [UInt8]) {
        let selected = request.outputs ?? batch.serving.v2DefaultOutputs
        // The class names when every listing was answered by a multi-class model with the same
        // classes (a canary with other classes makes `score` the one-column form for the request).
        let first = batch.results.first?.classScores?.classes
        let classes = first.flatMap { names in batch.results.allSatisfy { $0.classScores?.classes == names } ? names : nil }
        // A body the thread reused (`ResponseBodies`): the caller answers with it, or gives it back.
        let capacity = 160 + 48 * batch.results.count * selected.count
        var out = JSONWriter(appendingTo: ResponseBodies.take(capacity: capacity), capacity: capacity)
        var binary: [UInt8] = []
        out.raw("{\"model_name\":")
        out.string(batch.handle.model)
        out.raw(",\"model_version\":\"")  // a string, as the protocol has it
        out.number(batch.answeringVersion)
        out.raw("\"")
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
            if asBinary && binary.capacity == 0 { binary = ResponseBodies.take(capacity: 16 * batch.results.count + 64) }
            let start = binary.count
            var classNames: [String]?
            if let opening = output.opening {
                opening.withUnsafeBytes { out.raw(bytes: $0) }
            } else {
                V2RequestedOutput.writeOpening(of: output.name, to: &out)
            }
            switch output.kind {
            case .score, .probabilities:
                if let classes {
                    // A multi-class model: every class's probability, [N, K], names in parameters.
                    writeHead(fp64Head, rows: batch.results.count, columns: classes.count, to: &out)
                    writeDoubles(batch.results.lazy.flatMap { $0.classScores!.probabilities }, binary: asBinary, to: &out, data: &binary)
                    classNames = classes
                } else if output.kind == .score {
                    writeHead(fp64Head, rows: batch.results.count, to: &out)
                    writeDoubles(batch.results.lazy.map(\.score), binary: asBinary, to: &out, data: &binary)
                } else {
                    writeHead(fp64Head, rows: batch.results.count, columns: 2, to: &out)
                    writeDoubles(batch.results.lazy.flatMap { [1 - $0.score, $0.score] }, binary: asBinary, to: &out, data: &binary)
                }
            case .label:
                writeText(rows: batch.results.count, binary: asBinary, to: &out, data: &binary) { FeatureText(batch.results[$0].label) }
            case .predictedClass:
                // scikit-learn's predict: the most probable class (for a binary classifier,
                // classes_[1] when its probability is greater than one half).
                let labels = classes ?? batch.serving.model.labels
                let predicted = batch.results.map { prediction in
                    classes != nil ? prediction.classScores!.mostProbable : prediction.score > 0.5 ? 1 : 0
                }
                if let numbers = Self.integerLabels(labels) {
                    writeHead(int64Head, rows: batch.results.count, to: &out)
                    writeElements(
                        predicted.lazy.map { numbers[$0] }, binary: asBinary, to: &out, data: &binary,
                        json: { value, out in out.number(Int(value)) }, bytes: { value, data in appendLittleEndian(value, to: &data) })
                } else {
                    writeText(rows: predicted.count, binary: asBinary, to: &out, data: &binary) { FeatureText(labels[predicted[$0]]) }
                }
            case .ids:
                writeText(rows: batch.listings.count, binary: asBinary, to: &out, data: &binary) { batch.id(at: $0) }
            }
            if asBinary || classNames != nil {
                out.raw(",\"parameters\":{")
                if let classNames {
                    out.raw("\"classes\":[")
                    for (c, name) in classNames.enumerated() {
                        if c > 0 { out.raw(",") }
                        out.string(name)
                    }
                    out.raw("]")
                }
                if asBinary {
                    if classNames != nil { out.raw(",") }
                    out.raw("\"binary_data_size\":")
                    out.number(binary.count - start)
                }
                out.raw("}")
            }
            out.raw("}")
        }
        out.raw("]}")
        return (out.bytes, binary)
    }

    /// FP64 elements, row-major: a JSON `data` array, or 8-byte little-endian doubles.
    private static func writeDoubles(_ values: some Sequence<Double>, binary asBinary: Bool, to out: inout JSONWriter, data: inout [UInt8]) {
        writeElements(
            values, binary: asBinary, to: &out, data: &data,
            json: { value, out in out.number(value) }, bytes: { value, data in appendLittleEndian(value.bitPattern, to: &data) })
    }

    /// The start of a tensor's `datatype` and `shape` members for each datatype a response
    /// has, one literal each (one append, not three).
    private static let fp64Head: StaticString = ",\"datatype\":\"FP64\",\"shape\":["
    private static let int64Head: StaticString = ",\"datatype\":\"INT64\",\"shape\":["
    private static let bytesHead: StaticString = ",\"datatype\":\"BYTES\",\"shape\":["

    /// A tensor's `datatype` and `shape` members (`head`, one of the above): `[rows]`, or
    /// `[rows, columns]`.
    private static func writeHead(_ head: StaticString, rows: Int, columns: Int? = nil, to out: inout JSONWriter) {
        out.raw(head)
        out.number(rows)
        if let columns {
            out.raw(",")
            out.number(columns)
        }
        out.raw("]")
    }

    /// A tensor's elements: the JSON `data` member, or appended to the binary data.
    private static func writeElements<Values: Sequence>(
        _ values: Values, binary asBinary: Bool, to out: inout JSONWriter, data: inout [UInt8],
        json: (Values.Element, inout JSONWriter) -> Void, bytes: (Values.Element, inout [UInt8]) -> Void
    ) {
        if asBinary {
            for value in values { bytes(value, &data) }
            return
        }
        out.raw(",\"data\":[")
        for (i, value) in values.enumerated() {
            if i > 0 { out.raw(",") }
            json(value, &out)
        }
        out.raw("]")
    }

    /// The class labels as integers when every one is written as one (scikit-learn's classes
    /// from an integer column, which MLServer answers as INT64); nil otherwise (BYTES).
    static func integerLabels(_ labels: [String]) -> [Int64]? {
        let numbers = labels.compactMap { Int64($0) }
        return numbers.count == labels.count ? numbers : nil
    }

    /// A BYTES `[rows]` tensor of `text(row)` (nil: an empty string): JSON strings, or 4-byte
    /// little-endian lengths and UTF-8 bytes. `text` is called in place, not stored: a lazy
    /// map over the batch kept its closure, allocated on every request.
    private static func writeText(rows: Int, binary asBinary: Bool, to out: inout JSONWriter, data: inout [UInt8],
                                  _ text: (Int) -> FeatureText?) {
        writeHead(bytesHead, rows: rows, to: &out)
        writeElements(
            0..<rows, binary: asBinary, to: &out, data: &data,
            json: { row, out in out.string(text(row) ?? "") },
            bytes: { row, data in
                (text(row) ?? "").withUTF8 { utf8 in
                    appendLittleEndian(UInt32(utf8.count), to: &data)
                    data.append(contentsOf: utf8)
                }
            })
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
