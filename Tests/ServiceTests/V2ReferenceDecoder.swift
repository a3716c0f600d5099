// fuzz/run.sh also compiles this file into the V2 fuzzer (with -D V2_FUZZ, in one module with
// the decoder), which checks on every input that both decoders agree.
#if !V2_FUZZ
import JSON
@testable import Service
#endif

/// The V2 infer decoder written the plain way, as a reference for the one-pass decoder: the
/// whole JSON header parsed into a tree, then each input's members looked up, `data`
/// flattened into an array of JSON values and converted element by element. Only tests and
/// the fuzzer use it: both decoders must give the same request or the same message.
/// The checks the two share unchanged (shape dimensions, binary data, parameters, outputs)
/// are the decoder's.
enum V2ReferenceDecoder {
    static func decode(_ body: [UInt8], headerLength: Int?, maxBatchSize: Int) throws(V2RequestError) -> V2InferRequest {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd >= 0, jsonEnd <= body.count else {
            throw V2RequestError("Inference-Header-Content-Length is \(jsonEnd) but the body has \(body.count) bytes.")
        }
        let root: JSONValue
        do { root = try JSONParser.parse(Array(body[..<jsonEnd])) } catch {
            throw V2RequestError("The inference request is not valid JSON: \(error.description).")
        }
        guard case .object(let members) = root else { throw V2RequestError("The inference request must be a JSON object.") }
        var request = V2InferRequest(inputs: [])
        if let id = members["id"] {
            guard case .string(let text) = id else { throw V2RequestError("The request id must be a string.") }
            request.id = text
        }
        let parameters = try V2RequestDecoder.parameters(members["parameters"].map(ParameterMembers.init), of: "the request")
        if let type = try V2RequestDecoder.contentType(parameters, of: "the request"),
            !V2RequestDecoder.requestContentTypes.contains(type)
        {
            throw V2RequestError("The request's content_type '\(type)' is not supported; send 'pd' or none.")
        }
        if let flag = parameters?.binaryDataOutput {
            guard case .bool(let binary) = flag else { throw V2RequestError("parameters.binary_data_output must be a boolean.") }
            request.binaryDataOutput = binary
        }
        guard case .array(let inputs)? = members["inputs"] else {
            throw V2RequestError("The request needs an 'inputs' array: one input per signature field.")
        }
        guard inputs.count >= 1, inputs.count <= V2RequestDecoder.maxInputs else {
            throw V2RequestError("The request has \(inputs.count) inputs; send 1 to \(V2RequestDecoder.maxInputs).")
        }
        var binary = BinaryReader(bytes: body, offset: jsonEnd)
        for (position, input) in inputs.enumerated() {
            let decoded = try Self.input(input, position: position, binary: &binary, maxBatchSize: maxBatchSize)
            guard !request.inputs.contains(where: { $0.name == decoded.name }) else {
                throw V2RequestError("Input '\(decoded.name)' appears twice.")
            }
            request.inputs.append(decoded)
        }
        guard binary.offset == body.count else {
            throw V2RequestError("\(body.count - binary.offset) bytes of binary data follow the inputs without an input claiming them (binary_data_size).")
        }
        if let outputs = members["outputs"] {
            request.outputs = try V2RequestDecoder.outputs(outputs)
        }
        return request
    }

    private static func input(_ value: JSONValue, position: Int, binary: inout BinaryReader, maxBatchSize: Int) throws(V2RequestError) -> V2Input {
        guard case .object(let object) = value else { throw V2RequestError("Input \(position) must be a JSON object.") }
        guard case .string(let name)? = object["name"], !name.isEmpty else {
            throw V2RequestError("Input \(position) needs a non-empty string 'name'.")
        }
        guard case .string(let typeName)? = object["datatype"] else { throw V2RequestError("Input '\(name)' needs a string 'datatype'.") }
        guard let datatype = V2Datatype(rawValue: typeName) else {
            throw V2RequestError("Input '\(name)' has the unknown datatype '\(typeName)'.")
        }
        guard V2Datatype.accepted.contains(datatype) else {
            throw V2RequestError("Input '\(name)' has datatype \(typeName); send BYTES, FP64, FP32, INT64, INT32 or BOOL.")
        }
        let shape = try V2RequestDecoder.shape(object["shape"].map(ShapeMember.init), name: name, maxBatchSize: maxBatchSize)
        let parameters = try V2RequestDecoder.parameters(object["parameters"].map(ParameterMembers.init), of: "input '\(name)'")
        if let type = try V2RequestDecoder.contentType(parameters, of: "input '\(name)'") {
            guard V2RequestDecoder.inputContentTypes.contains(type) else {
                throw V2RequestError("Input '\(name)' has content_type '\(type)'; send 'str' or 'np' or none.")
            }
            if type == "str", datatype != .bytes { throw V2RequestError("Input '\(name)' has content_type 'str' but datatype \(typeName).") }
        }
        if let size = parameters?.binaryDataSize {
            guard object["data"] == nil else { throw V2RequestError("Input '\(name)' has both 'data' and binary_data_size.") }
            guard case .number(let n) = size, n >= 0, n.rounded() == n, n <= Double(binary.remaining) else {
                throw V2RequestError("Input '\(name)' has binary_data_size \(V2RequestDecoder.text(size)) but \(binary.remaining) bytes of binary data remain.")
            }
            let values = try binary.values(of: datatype, count: shape.rows, size: Int(n), name: name)
            return V2Input(name: name, datatype: datatype, shape: shape, values: values)
        }
        guard let data = object["data"] else { throw V2RequestError("Input '\(name)' needs 'data' (or parameters.binary_data_size).") }
        guard case .array(let elements) = data else { throw V2RequestError("Input '\(name)' needs 'data' as an array.") }
        var flat = elements
        if elements.contains(where: { if case .array = $0 { true } else { false } }) {
            flat = []
            try Self.flatten(data, into: &flat, limit: shape.rows, name: name)
        }
        guard flat.count == shape.rows else {
            throw V2RequestError("Input '\(name)' has \(flat.count) elements but its shape \(shape) says \(shape.rows).")
        }
        return V2Input(name: name, datatype: datatype, shape: shape, values: try Self.values(flat, of: datatype, name: name))
    }

    private static func flatten(_ value: JSONValue, into flat: inout [JSONValue], limit: Int, name: String) throws(V2RequestError) {
        guard case .array(let elements) = value else { throw V2RequestError("Input '\(name)' needs 'data' as an array.") }
        for element in elements {
            if case .array = element {
                try flatten(element, into: &flat, limit: limit, name: name)
            } else {
                guard flat.count < limit else { throw V2RequestError("Input '\(name)' has more elements than its shape says (\(limit)).") }
                flat.append(element)
            }
        }
    }

    private static func values(_ flat: [JSONValue], of datatype: V2Datatype, name: String) throws(V2RequestError) -> V2Values {
        func elements<T>(_ expected: String, _ read: (JSONValue) -> T?) throws(V2RequestError) -> [T?] {
            var out: [T?] = []
            for (i, element) in flat.enumerated() {
                if element == .null { out.append(nil); continue }
                guard let value = read(element) else {
                    throw V2RequestError("Input '\(name)' element \(i) is \(element.typeName); \(datatype.rawValue) needs \(expected).")
                }
                out.append(value)
            }
            return out
        }
        switch datatype {
        case .bytes:
            return .text(try elements("a string") { $0.stringValue })
        case .bool:
            return .bools(try elements("true or false") { if case .bool(let flag) = $0 { flag } else { nil } })
        default:
            let numbers = try elements("a number") { $0.numberValue }
            for (i, n) in numbers.enumerated() {
                if let n, !V2RequestDecoder.fits(n, datatype) {
                    throw V2RequestError("Input '\(name)' element \(i) is not an integer within \(datatype.rawValue)'s range.")
                }
            }
            return .numbers(numbers)
        }
    }
}
