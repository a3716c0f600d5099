#if canImport(JSON)
import JSON
#endif
// fuzz/run.sh compiles this file with the JSON parser and value as one module: it depends on
// nothing else, so the decoder can be fuzzed without the rest of the service.

/// An Open Inference Protocol (V2) infer request, decoded and checked for structure: every
/// input's values flattened row-major, with their count matching their shape. Which inputs a
/// model needs, and whether their values fit its signature, is `V2Codec`'s to check.
struct V2InferRequest: Sendable, Equatable {
    /// Echoed in the response.
    var id: String?
    /// `parameters.binary_data_output`: answer every output as binary data (tritonclient
    /// asks for this when it selects no outputs). Default false.
    var binaryDataOutput = false
    var inputs: [V2Input]
    /// The outputs asked for, in order; nil: every output the model has.
    var outputs: [V2RequestedOutput]?
}

struct V2Input: Sendable, Equatable {
    var name: String
    var datatype: V2Datatype
    var shape: V2Shape
    var values: V2Values
    /// The batch size this input says: the first dimension.
    var count: Int { shape.rows }
}

/// An input's shape, `[N]` or `[N, 1]`: one element per listing. Kept as two words, not an array.
struct V2Shape: Sendable, Equatable, CustomStringConvertible {
    /// N, the first dimension.
    var rows: Int
    /// Whether a second dimension (of 1) follows.
    var column = false

    var dimensions: [Int] { column ? [rows, 1] : [rows] }
    /// As the client wrote it: `[2]`, `[2, 1]`.
    var description: String { column ? "[\(rows), 1]" : "[\(rows)]" }
}

/// Elements of one input, row-major. JSON `null` elements are `nil` (a missing value).
enum V2Values: Sendable, Equatable {
    case text([String?])
    case numbers([Double?])
    case bools([Bool?])
}

struct V2RequestedOutput: Sendable, Equatable {
    var name: String {
        didSet { kind = Kind(name) }
    }
    /// `parameters.binary_data`; nil: the request's `binary_data_output`.
    var binary: Bool?
    /// The output object's opening, `{"name":"<name>"`, written once for the outputs a
    /// version answers by default; nil: written per response.
    var opening: [UInt8]?
    /// What the output holds, told from its name once rather than by string comparisons in
    /// every response.
    private(set) var kind: Kind

    enum Kind: Sendable {
        case score, probabilities, label, predictedClass
        /// Any other name the signature accepts: the listings' ids.
        case ids

        init(_ name: String) {
            switch name {
            case OutputTensorNames.score: self = .score
            case OutputTensorNames.probabilities: self = .probabilities
            case OutputTensorNames.label: self = .label
            case OutputTensorNames.predictedClass: self = .predictedClass
            default: self = .ids
            }
        }
    }

    init(name: String, binary: Bool? = nil) {
        self.name = name
        self.binary = binary
        kind = Kind(name)
    }

    /// An output every response of a version may list, its opening written now.
    static func listedByDefault(_ name: String) -> V2RequestedOutput {
        var output = V2RequestedOutput(name: name)
        var writer = JSONWriter(capacity: 16 + name.utf8.count)
        writeOpening(of: name, to: &writer)
        output.opening = writer.bytes
        return output
    }

    /// An output object's opening, `{"name":"<name>"`.
    static func writeOpening(of name: String, to out: inout JSONWriter) {
        out.raw("{\"name\":")
        out.string(name)
    }

    static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.binary == b.binary }
}

/// Tensor element types of the protocol. Vigia takes the ones a listing field can hold.
enum V2Datatype: String, Sendable, Equatable, CaseIterable {
    case bool = "BOOL", uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", fp32 = "FP32", fp64 = "FP64", bf16 = "BF16", bytes = "BYTES"

    /// The datatype a request names, or nil: `init(rawValue:)` without its string
    /// comparisons. Every name is ASCII of at most 6 bytes, so one word holds it (and its
    /// length): equal words are equal names.
    static func named(_ name: String) -> V2Datatype? {
        key(name).flatMap(named(key:))
    }

    /// The datatype whose name is exactly `bytes`, or nil.
    static func named(_ bytes: UnsafeBufferPointer<UInt8>) -> V2Datatype? {
        guard bytes.count <= 7 else { return nil }
        var key = UInt64(bytes.count) << 56
        for k in 0..<bytes.count { key |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        return named(key: key)
    }

    /// The datatype of a `key`: each name's bytes little-endian, its length in the top byte
    /// (`V2DecoderTests.datatypesAreKnownByTheirExactNames` checks every constant against its
    /// case's name).
    private static func named(key: UInt64) -> V2Datatype? {
        switch key {
        case 0x0400_0000_4c4f_4f42: .bool  // "BOOL"
        case 0x0500_0038_544e_4955: .uint8  // "UINT8"
        case 0x0600_3631_544e_4955: .uint16  // "UINT16"
        case 0x0600_3233_544e_4955: .uint32  // "UINT32"
        case 0x0600_3436_544e_4955: .uint64  // "UINT64"
        case 0x0400_0000_3854_4e49: .int8  // "INT8"
        case 0x0500_0036_3154_4e49: .int16  // "INT16"
        case 0x0500_0032_3354_4e49: .int32  // "INT32"
        case 0x0500_0034_3654_4e49: .int64  // "INT64"
        case 0x0400_0000_3631_5046: .fp16  // "FP16"
        case 0x0400_0000_3233_5046: .fp32  // "FP32"
        case 0x0400_0000_3436_5046: .fp64  // "FP64"
        case 0x0400_0000_3631_4642: .bf16  // "BF16"
        case 0x0500_0053_4554_5942: .bytes  // "BYTES"
        default: nil
        }
    }

    /// The bytes of a name of up to 7 bytes and its length in one word; nil when longer.
    private static func key(_ name: String) -> UInt64? {
        var key: UInt64 = 0
        var count: UInt64 = 0
        for byte in name.utf8 {
            guard count < 7 else { return nil }
            key |= UInt64(byte) << (8 * count)
            count += 1
        }
        return key | count << 56
    }

    /// Types an input may have: text, the numbers a JSON number holds exactly enough, bool.
    static let accepted: [V2Datatype] = [.bytes, .fp64, .fp32, .int64, .int32, .bool]

    /// Bytes per element in the binary extension (BYTES elements carry their own length).
    var width: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16, .bf16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: nil
        }
    }

    /// The number a binary element of this datatype (FP64, FP32, INT32; INT64 otherwise)
    /// holds: its `width` bytes at `index`, little-endian.
    func binaryNumber<Bytes: RandomAccessCollection>(in bytes: Bytes, at index: Int) -> Double
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let bits = littleEndian(bytes, at: index, width: width ?? 0)
        return switch self {
        case .fp64: Double(bitPattern: bits)
        case .fp32: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .int32: Double(Int32(truncatingIfNeeded: bits))
        default: Double(Int64(bitPattern: bits))
        }
    }
}

/// The `width` (≤ 8) bytes at `index`, little-endian: the binary extension's numbers and lengths.
func littleEndian<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int, width: Int) -> UInt64
where Bytes.Element == UInt8, Bytes.Index == Int {
    var value: UInt64 = 0
    for k in 0..<width { value |= UInt64(bytes[index + k]) << (8 * UInt64(k)) }
    return value
}

/// What is wrong with the layout of a BYTES tensor's binary data (`forEachBinaryText`).
enum BinaryTextLayoutError: Error {
    /// Element `element` has no room for its 4-byte length.
    case noLength(element: Int)
    /// Element `element` says it is `length` bytes long, past the end.
    case pastEnd(element: Int, length: Int)
    /// `bytes` are left after the last element.
    case leftOver(bytes: Int)
}

/// The BYTES elements of the binary extension, `count` of them filling `bytes[start..<end]`
/// exactly, each a 4-byte little-endian length and that many bytes: `element(i, bytes)` for
/// each in order (not yet checked to be UTF-8), `layoutError` for the first thing wrong with
/// the layout. The one reading of this layout, for the general decoder and the listing one.
func forEachBinaryText<Failure: Error>(
    in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, count: Int,
    _ element: (Int, UnsafeBufferPointer<UInt8>) throws(Failure) -> Void,
    layoutError: (BinaryTextLayoutError) -> Failure
) throws(Failure) {
    var cursor = start
    for i in 0..<count {
        guard end - cursor >= 4 else { throw layoutError(.noLength(element: i)) }
        let length = Int(littleEndian(bytes, at: cursor, width: 4))
        cursor += 4
        guard length <= end - cursor else { throw layoutError(.pastEnd(element: i, length: length)) }
        try element(i, UnsafeBufferPointer(rebasing: bytes[cursor..<cursor + length]))
        cursor += length
    }
    guard cursor == end else { throw layoutError(.leftOver(bytes: end - cursor)) }
}

/// Why a V2 request cannot be decoded; answered 400 with the message as `error`.
struct V2RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }
    init(_ message: String) { self.message = message }
}

/// Decodes the JSON header and the binary tensor data that may follow it (the binary data
/// extension: `Inference-Header-Content-Length` says where the JSON ends). Pure: bytes in,
/// a request or a 400 out; fuzzed by fuzz/V2Fuzz.swift.
enum V2RequestDecoder {
    /// More inputs or outputs than this is a malformed request, not a big one (a listing has
    /// about ten fields; a model has three outputs).
    static let maxInputs = 256
    static let maxOutputs = 16
    /// Input-level `parameters.content_type` values MLServer's codecs send that need no
    /// conversion here: `str` (StringCodec), `np` (NumpyCodec). Base64 and datetimes are refused.
    static let inputContentTypes = ["str", "np"]
    /// Request-level: `pd` (PandasCodec: one input per DataFrame column).
    static let requestContentTypes = ["pd"]

    /// - Parameters:
    ///   - headerLength: `Inference-Header-Content-Length`, or nil when the body is all JSON.
    ///   - maxBatchSize: the most elements an input may have (`predict.max_batch_size`).
    static func decode(_ body: [UInt8], headerLength: Int?, maxBatchSize: Int) throws(V2RequestError) -> V2InferRequest {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd >= 0, jsonEnd <= body.count else {
            throw V2RequestError("Inference-Header-Content-Length is \(jsonEnd) but the body has \(body.count) bytes.")
        }
        let root: RootMembers
        do { root = try RootMembers.parse(body, end: jsonEnd, maxBatchSize: maxBatchSize) } catch {
            throw V2RequestError("The inference request is not valid JSON: \(error.description).")
        }
        guard root.isObject else { throw V2RequestError("The inference request must be a JSON object.") }
        var request = V2InferRequest(inputs: [])
        if let id = root.id {
            guard case .string(let text) = id else { throw V2RequestError("The request id must be a string.") }
            request.id = text
        }
        let parameters = try Self.parameters(root.parameters, of: "the request")
        if let type = try Self.contentType(parameters, of: "the request"), !requestContentTypes.contains(type) {
            throw V2RequestError("The request's content_type '\(type)' is not supported; send 'pd' or none.")
        }
        if let flag = parameters?.binaryDataOutput {
            guard case .bool(let binary) = flag else { throw V2RequestError("parameters.binary_data_output must be a boolean.") }
            request.binaryDataOutput = binary
        }
        guard root.hasInputs else {
            throw V2RequestError("The request needs an 'inputs' array: one input per signature field.")
        }
        guard root.inputCount >= 1, root.inputCount <= maxInputs else {
            throw V2RequestError("The request has \(root.inputCount) inputs; send 1 to \(maxInputs).")
        }
        if let error = root.inputError { throw error }
        request.inputs = root.inputs
        guard root.binary.offset == body.count else {
            throw V2RequestError("\(body.count - root.binary.offset) bytes of binary data follow the inputs without an input claiming them (binary_data_size).")
        }
        if let outputs = root.outputs {
            request.outputs = try Self.outputs(outputs)
        }
        return request
    }

    /// Input `position` decoded and added to `inputs`, its binary data (if any) read from `binary`.
    fileprivate static func add(
        _ object: inout InputMembers, position: Int, to inputs: inout [V2Input], binary: inout BinaryReader, maxBatchSize: Int
    ) throws(V2RequestError) {
        let decoded = try Self.input(&object, position: position, binary: &binary, maxBatchSize: maxBatchSize)
        guard !inputs.contains(where: { $0.name == decoded.name }) else {
            throw V2RequestError("Input '\(decoded.name)' appears twice.")
        }
        inputs.append(decoded)
    }

    /// `object` is left without its `data` (moved out, not copied).
    private static func input(_ object: inout InputMembers, position: Int, binary: inout BinaryReader, maxBatchSize: Int) throws(V2RequestError) -> V2Input {
        guard object.isObject else { throw V2RequestError("Input \(position) must be a JSON object.") }
        guard case .string(let name)? = object.name, !name.isEmpty else {
            throw V2RequestError("Input \(position) needs a non-empty string 'name'.")
        }
        // A known datatype's name is its raw value, byte for byte.
        let datatype: V2Datatype
        switch object.datatype {
        case .named(let named)?: datatype = named
        case .other(.string(let typeName))?: throw V2RequestError("Input '\(name)' has the unknown datatype '\(typeName)'.")
        default: throw V2RequestError("Input '\(name)' needs a string 'datatype'.")
        }
        let typeName = datatype.rawValue
        guard V2Datatype.accepted.contains(datatype) else {
            throw V2RequestError("Input '\(name)' has datatype \(typeName); send BYTES, FP64, FP32, INT64, INT32 or BOOL.")
        }
        let shape = try Self.shape(object.shape, name: name, maxBatchSize: maxBatchSize)
        let parameters = try Self.parameters(object.parameters, of: "input '\(name)'")
        if let type = try Self.contentType(parameters, of: "input '\(name)'") {
            guard inputContentTypes.contains(type) else {
                throw V2RequestError("Input '\(name)' has content_type '\(type)'; send 'str' or 'np' or none.")
            }
            if type == "str", datatype != .bytes { throw V2RequestError("Input '\(name)' has content_type 'str' but datatype \(typeName).") }
        }
        let values: V2Values
        if let size = parameters?.binaryDataSize {
            guard object.data == nil else { throw V2RequestError("Input '\(name)' has both 'data' and binary_data_size.") }
            guard case .number(let n) = size, n >= 0, n.rounded() == n, n <= Double(binary.remaining) else {
                throw V2RequestError("Input '\(name)' has binary_data_size \(Self.text(size)) but \(binary.remaining) bytes of binary data remain.")
            }
            values = try binary.values(of: datatype, count: shape.rows, size: Int(n), name: name)
        } else {
            let column: DataColumn
            switch object.data.take() {
            case nil: throw V2RequestError("Input '\(name)' needs 'data' (or parameters.binary_data_size).")
            case .notArray?: throw V2RequestError("Input '\(name)' needs 'data' as an array.")
            case .column(let read)?: column = read
            case .tree(let tree)?:
                // `data` came before a known `datatype`: its elements are read now, from the tree.
                column = DataColumn(datatype: datatype, tree: tree)
            }
            values = try column.values(shape: shape, name: name)
        }
        return V2Input(name: name, datatype: datatype, shape: shape, values: values)
    }

    /// `[N]` or `[N, 1]`, N from 1 to `maxBatchSize`.
    static func shape(_ value: ShapeMember?, name: String, maxBatchSize: Int) throws(V2RequestError) -> V2Shape {
        guard let value, value.isArray, value.count == 1 || value.count == 2 else {
            throw V2RequestError("Input '\(name)' needs a shape [N] or [N, 1] (one element per listing).")
        }
        var dims = (0, 0)
        for k in 0..<value.count {
            let dim = k == 0 ? value.first : value.second
            guard case .number(let n) = dim, n.rounded() == n else {
                throw V2RequestError("Input '\(name)' has a shape dimension that is not an integer.")
            }
            guard n >= 0 else { throw V2RequestError("Input '\(name)' has the negative shape dimension \(Int64(max(n, -1e18))).") }
            guard n <= Double(maxBatchSize) else {
                throw V2RequestError("Input '\(name)' has shape dimension \(Self.text(dim)), over the batch limit of \(maxBatchSize) listings (predict.max_batch_size).")
            }
            if k == 0 { dims.0 = Int(n) } else { dims.1 = Int(n) }
        }
        guard dims.0 >= 1 else { throw V2RequestError("Input '\(name)' has no elements; send at least one listing.") }
        guard value.count == 1 || dims.1 == 1 else {
            throw V2RequestError("Input '\(name)' has shape [\(dims.0), \(dims.1)]; send [N] or [N, 1] (one element per listing).")
        }
        return V2Shape(rows: dims.0, column: value.count == 2)
    }

    /// Whether `n` fits `datatype`: an integer within range for INT types, anything otherwise.
    static func fits(_ n: Double, _ datatype: V2Datatype) -> Bool {
        switch datatype {
        case .int32: n.rounded() == n && (-2_147_483_648...2_147_483_647).contains(n)
        case .int64: n.rounded() == n && (-9.223_372_036_854_775_808e18...9.223_372_036_854_775_807e18).contains(n)
        default: true
        }
    }

    /// A value as the client wrote it, for messages.
    static func text(_ value: JSONValue) -> String { String(decoding: JSONWriter.encode(value), as: UTF8.self) }

    // `subject` is only written into an error: not built for a request that has none.
    static func parameters(_ value: ParameterMembers?, of subject: @autoclosure () -> String) throws(V2RequestError) -> ParameterMembers? {
        guard let value else { return nil }
        guard value.isObject else { throw V2RequestError("The parameters of \(subject()) must be a JSON object.") }
        return value
    }

    static func contentType(_ parameters: ParameterMembers?, of subject: @autoclosure () -> String) throws(V2RequestError) -> String? {
        guard let value = parameters?.contentType else { return nil }
        guard case .string(let type) = value else { throw V2RequestError("The content_type of \(subject()) must be a string.") }
        return type
    }

    static func outputs(_ value: JSONValue) throws(V2RequestError) -> [V2RequestedOutput] {
        guard case .array(let list) = value, list.count <= maxOutputs else {
            throw V2RequestError("'outputs' must be an array of at most \(maxOutputs) outputs.")
        }
        var outputs: [V2RequestedOutput] = []
        for (position, item) in list.enumerated() {
            guard case .object(let object) = item, case .string(let name)? = object["name"] else {
                throw V2RequestError("Output \(position) needs a string 'name'.")
            }
            guard !outputs.contains(where: { $0.name == name }) else { throw V2RequestError("Output '\(name)' is asked for twice.") }
            var output = V2RequestedOutput(name: name)
            if let flag = try Self.parameters(object["parameters"].map(ParameterMembers.init), of: "output '\(name)'")?.binaryData {
                guard case .bool(let binary) = flag else { throw V2RequestError("Output '\(name)' has a binary_data that is not a boolean.") }
                output.binary = binary
            }
            outputs.append(output)
        }
        return outputs
    }
}

/// The members of a request object the decoder reads, parsed straight from the bytes: the
/// request and its inputs never become JSON object trees, nor do the inputs' `shape` and
/// `data` (see `InputMembers`); only small members (`id`, `parameters`, `outputs`) are JSON
/// values. The JSON rules are the parser's own: one value, no trailing data, no duplicate
/// member names, bounded nesting; a syntax error anywhere comes before any other error.
/// Each input is decoded as soon as its object is parsed (its members are never kept), and
/// the first that is wrong is kept to be answered once the whole body has parsed, after the
/// request-level checks, as if the inputs were decoded after them.
struct RootMembers {
    var isObject = true
    var id: JSONValue?
    var parameters: ParameterMembers?
    /// Whether `inputs` is an array (false: absent or something else).
    var hasInputs = false
    /// How many inputs the array has (counted past `maxInputs`, which are not decoded).
    var inputCount = 0
    /// The inputs decoded, in order, up to the first wrong one.
    var inputs: [V2Input] = []
    /// What is wrong with the first input that is.
    var inputError: V2RequestError?
    /// The binary tensor data after the JSON, read by the inputs in order.
    var binary: BinaryReader
    var outputs: JSONValue?

    private static let names = KnownMembers("id", "parameters", "outputs", "inputs")

    static func parse(_ body: [UInt8], end: Int, maxBatchSize: Int) throws(JSONParseError) -> RootMembers {
        try body.withUnsafeBufferPointer { whole throws(JSONParseError) in
            var parser = JSONParser(buffer: UnsafeBufferPointer(rebasing: whole[..<end]), maxDepth: JSONParser.defaultMaxDepth)
            var root = RootMembers(binary: BinaryReader(bytes: body, offset: end))
            parser.skipWhitespace()
            if parser.next == UInt8(ascii: "{") {
                try parser.members(depth: 1, known: Self.names, into: &root) { (name, parser, root) throws(JSONParseError) in
                    switch name {
                    case 0: root.id = try parser.parseValue(depth: 1)
                    case 1: root.parameters = try ParameterMembers.parse(&parser, depth: 1)
                    case 2: root.outputs = try parser.parseValue(depth: 1)
                    case 3 where parser.next == UInt8(ascii: "["):
                        root.hasInputs = true
                        root.inputs.reserveCapacity(16)
                        try parser.elements(depth: 2, into: &root) { (parser, root) throws(JSONParseError) in
                            let position = root.inputCount
                            root.inputCount += 1
                            var input = try InputMembers.parse(&parser)
                            guard root.inputError == nil, position < V2RequestDecoder.maxInputs else { return }
                            do throws(V2RequestError) {
                                try V2RequestDecoder.add(&input, position: position, to: &root.inputs, binary: &root.binary, maxBatchSize: maxBatchSize)
                            } catch {
                                root.inputError = error
                            }
                        }
                    default: _ = try parser.parseValue(depth: 1)
                    }
                }
            } else {
                _ = try parser.parseValue(depth: 0)
                root.isObject = false
            }
            parser.skipWhitespace()
            if parser.index != parser.buffer.count { throw parser.error("unexpected data after the JSON value") }
            return root
        }
    }
}

/// The members of one input object (see `RootMembers`). `shape` and `data` are read
/// without building arrays of JSON values: the shape's first two dimensions, and `data`'s
/// elements straight into the column its datatype needs when `datatype` came first (as every
/// client writes it).
struct InputMembers {
    var isObject = true
    var name: JSONValue?
    var datatype: DatatypeMember?
    var shape: ShapeMember?
    var parameters: ParameterMembers?
    var data: DataMember?

    private static let names = KnownMembers("name", "datatype", "parameters", "shape", "data")

    /// Parses the input at the cursor (depth 3: request, inputs array, input).
    static func parse(_ parser: inout JSONParser) throws(JSONParseError) -> InputMembers {
        var input = InputMembers()
        guard parser.next == UInt8(ascii: "{") else {
            _ = try parser.parseValue(depth: 2)
            input.isObject = false
            return input
        }
        try parser.members(depth: 3, known: Self.names, into: &input) { (name, parser, input) throws(JSONParseError) in
            switch name {
            case 0: input.name = try parser.parseValue(depth: 3)
            case 1: input.datatype = try DatatypeMember.parse(&parser)
            case 2: input.parameters = try ParameterMembers.parse(&parser, depth: 3)
            case 3: input.shape = try ShapeMember.parse(&parser)
            case 4:
                guard parser.next == UInt8(ascii: "[") else {
                    _ = try parser.parseValue(depth: 3)
                    input.data = .notArray
                    return
                }
                if case .named(let datatype)? = input.datatype, V2Datatype.accepted.contains(datatype) {
                    var column = DataColumn(datatype: datatype)
                    try column.read(&parser, depth: 4, top: true)
                    input.data = .column(column)
                } else {
                    input.data = .tree(try parser.parseValue(depth: 3))
                }
            default: _ = try parser.parseValue(depth: 3)
            }
        }
        return input
    }
}

/// An input's `datatype`: a datatype's exact name, or another value (a string naming none, or
/// not a string).
enum DatatypeMember {
    case named(V2Datatype)
    case other(JSONValue)

    /// Parses the value at the cursor (an input member: depth 3). A name without escapes is
    /// matched on its bytes; no string is made for it.
    static func parse(_ parser: inout JSONParser) throws(JSONParseError) -> DatatypeMember {
        if let plain = parser.plainString() {
            if let datatype = V2Datatype.named(plain) { return .named(datatype) }
            return .other(.string(String(decoding: plain, as: UTF8.self)))
        }
        let value = try parser.parseValue(depth: 3)
        if case .string(let name) = value, let datatype = V2Datatype.named(name) { return .named(datatype) }
        return .other(value)
    }
}

/// A `parameters` object as far as the decoder looks at it (request, input or output level):
/// whether it is an object, and the members the protocol gives a meaning; the others are
/// parsed (strictly) and dropped.
struct ParameterMembers {
    var isObject = true
    var contentType: JSONValue?
    /// Request level.
    var binaryDataOutput: JSONValue?
    /// Input level.
    var binaryDataSize: JSONValue?
    /// Output level.
    var binaryData: JSONValue?

    private static let names = KnownMembers("content_type", "binary_data_output", "binary_data_size", "binary_data")

    init() {}

    /// The same from a JSON tree.
    init(_ value: JSONValue) {
        guard case .object(let object) = value else {
            isObject = false
            return
        }
        contentType = object["content_type"]
        binaryDataOutput = object["binary_data_output"]
        binaryDataSize = object["binary_data_size"]
        binaryData = object["binary_data"]
    }

    /// Parses the value at the cursor, a member of an object at nesting `depth`.
    static func parse(_ parser: inout JSONParser, depth: Int) throws(JSONParseError) -> ParameterMembers {
        var parameters = ParameterMembers()
        guard parser.next == UInt8(ascii: "{") else {
            _ = try parser.parseValue(depth: depth)
            parameters.isObject = false
            return parameters
        }
        try parser.members(depth: depth + 1, known: Self.names, into: &parameters) { (name, parser, parameters) throws(JSONParseError) in
            let value = try parser.parseValue(depth: depth + 1)
            switch name {
            case 0: parameters.contentType = value
            case 1: parameters.binaryDataOutput = value
            case 2: parameters.binaryDataSize = value
            case 3: parameters.binaryData = value
            default: break
            }
        }
        return parameters
    }
}

/// An input's `shape` as far as the decoder looks at it: whether it is an array, how many
/// dimensions it has, and the first two.
struct ShapeMember {
    var isArray = true
    var count = 0
    var first: JSONValue = .null
    var second: JSONValue = .null

    init() {}

    /// The same from a JSON tree.
    init(_ value: JSONValue) {
        guard case .array(let dims) = value else {
            isArray = false
            return
        }
        count = dims.count
        first = dims.first ?? .null
        second = dims.count > 1 ? dims[1] : .null
    }

    /// Parses the value at the cursor (an input member: depth 3).
    static func parse(_ parser: inout JSONParser) throws(JSONParseError) -> ShapeMember {
        var shape = ShapeMember()
        guard parser.next == UInt8(ascii: "[") else {
            _ = try parser.parseValue(depth: 3)
            shape.isArray = false
            return shape
        }
        try parser.elements(depth: 4) { (parser) throws(JSONParseError) in
            let dim = try parser.parseValue(depth: 4)
            switch shape.count {
            case 0: shape.first = dim
            case 1: shape.second = dim
            default: break
            }
            shape.count += 1
        }
        return shape
    }
}

/// An input's `data` member: not an array, its elements read into a column, or (when it came
/// before a known `datatype`) the JSON tree, read into a column once the datatype is known.
enum DataMember {
    case notArray
    case column(DataColumn)
    case tree(JSONValue)
}

/// The elements of `data`, row-major (nested arrays flattened), read into the array its
/// datatype needs. What is wrong with them is noted as they are read and answered by
/// `values(shape:name:)` in the order the checks have always had: count, then element type,
/// then integer range.
struct DataColumn {
    let datatype: V2Datatype
    private var texts: [String?] = []
    private var numbers: [Double?] = []
    private var flags: [Bool?] = []
    /// Elements read (leaves of nested arrays).
    private(set) var count = 0
    /// Whether an element of the top-level array is itself an array.
    private var nested = false
    /// The first element of the wrong JSON type: its index and type name.
    private var mismatch: (index: Int, typeName: String)?
    /// The first number outside the datatype's integers.
    private var outOfRange: Int?

    init(datatype: V2Datatype) {
        self.datatype = datatype
    }

    init(datatype: V2Datatype, tree: JSONValue) {
        self.datatype = datatype
        if case .array(let elements) = tree { add(elements, top: true) }
    }

    private mutating func add(_ elements: [JSONValue], top: Bool) {
        for element in elements {
            if case .array(let inner) = element {
                if top { nested = true }
                add(inner, top: false)
            } else {
                add(element)
            }
        }
    }

    /// Reads the array at the cursor (nesting `depth`), its elements at `depth` too.
    mutating func read(_ parser: inout JSONParser, depth: Int, top: Bool) throws(JSONParseError) {
        try parser.elements(depth: depth) { (parser) throws(JSONParseError) in
            switch parser.next ?? 0 {
            case UInt8(ascii: "["):
                if top { nested = true }
                try read(&parser, depth: depth + 1, top: false)
            // Strings and numbers, nearly every element, are read as what they are: no tree
            // value is made and taken apart again for each.
            case UInt8(ascii: "\""):
                add(text: try parser.parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                add(number: try parser.parseNumber())
            default:
                add(try parser.parseValue(depth: depth))
            }
        }
    }

    private mutating func add(_ element: JSONValue) {
        switch element {
        case .string(let text): add(text: text)
        case .number(let n): add(number: n)
        case .bool(let flag):
            let index = next()
            if datatype == .bool { flags.append(flag) } else { noteMismatch(index, element.typeName) }
        case .null:
            _ = next()
            switch datatype {
            case .bytes: texts.append(nil)
            case .bool: flags.append(nil)
            default: numbers.append(nil)
            }
        case .array, .object:
            noteMismatch(next(), element.typeName)
        }
    }

    private mutating func add(text: String) {
        let index = next()
        if datatype == .bytes { texts.append(text) } else { noteMismatch(index, "string") }
    }

    private mutating func add(number n: Double) {
        let index = next()
        switch datatype {
        case .bytes, .bool:
            noteMismatch(index, JSONValue.number(n).typeName)
        default:
            if outOfRange == nil, !V2RequestDecoder.fits(n, datatype) { outOfRange = index }
            numbers.append(n)
        }
    }

    /// The index of the element being added.
    private mutating func next() -> Int {
        defer { count += 1 }
        return count
    }

    private mutating func noteMismatch(_ index: Int, _ typeName: String) {
        if mismatch == nil { mismatch = (index, typeName) }
    }

    /// The elements, or the 400 for the first thing wrong with them.
    func values(shape: V2Shape, name: String) throws(V2RequestError) -> V2Values {
        if nested, count > shape.rows {
            throw V2RequestError("Input '\(name)' has more elements than its shape says (\(shape.rows)).")
        }
        guard count == shape.rows else {
            throw V2RequestError("Input '\(name)' has \(count) elements but its shape \(shape) says \(shape.rows).")
        }
        if let mismatch {
            let expected =
                switch datatype {
                case .bytes: "a string"
                case .bool: "true or false"
                default: "a number"
                }
            throw V2RequestError("Input '\(name)' element \(mismatch.index) is \(mismatch.typeName); \(datatype.rawValue) needs \(expected).")
        }
        if let outOfRange {
            throw V2RequestError("Input '\(name)' element \(outOfRange) is not an integer within \(datatype.rawValue)'s range.")
        }
        switch datatype {
        case .bytes: return .text(texts)
        case .bool: return .bools(flags)
        default: return .numbers(numbers)
        }
    }
}

/// Reads the binary tensor data after the JSON header, one input at a time, in input order.
struct BinaryReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    var remaining: Int { bytes.count - offset }

    init(bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    /// `count` elements in exactly `size` bytes: little-endian numbers, one byte per BOOL, and
    /// BYTES as 4-byte little-endian lengths each followed by that many UTF-8 bytes.
    mutating func values(of datatype: V2Datatype, count: Int, size: Int, name: String) throws(V2RequestError) -> V2Values {
        let end = offset + size
        defer { offset = end }
        if let width = datatype.width {
            guard size == count * width else {
                throw V2RequestError("Input '\(name)' has binary_data_size \(size); \(count) \(datatype.rawValue) elements take \(count * width) bytes.")
            }
            if datatype == .bool {
                var flags: [Bool?] = []
                for i in 0..<count {
                    let byte = bytes[offset + i]
                    guard byte <= 1 else { throw V2RequestError("Input '\(name)' element \(i) is the byte \(byte); BOOL is 0 or 1.") }
                    flags.append(byte == 1)
                }
                return .bools(flags)
            }
            var numbers: [Double?] = []
            numbers.reserveCapacity(count)
            for i in 0..<count {
                let n = datatype.binaryNumber(in: bytes, at: offset + i * width)
                guard n.isFinite else { throw V2RequestError("Input '\(name)' element \(i) is not a finite number.") }
                numbers.append(n)
            }
            return .numbers(numbers)
        }
        var texts: [String?] = []
        texts.reserveCapacity(count)
        try bytes.withUnsafeBufferPointer { bytes throws(V2RequestError) in
            try forEachBinaryText(in: bytes, from: offset, to: end, count: count) { (i, utf8) throws(V2RequestError) in
                guard let text = String(validUTF8: utf8) else { throw V2RequestError("Input '\(name)' element \(i) is not UTF-8 text.") }
                texts.append(text)
            } layoutError: { problem in
                switch problem {
                case .noLength(let i): V2RequestError("Input '\(name)' has binary data for \(i) BYTES elements; its shape says \(count).")
                case .pastEnd(let i, let length): V2RequestError("Input '\(name)' element \(i) is \(length) bytes long, past the end of its binary data.")
                case .leftOver(let left): V2RequestError("Input '\(name)' has \(left) bytes of binary data after its \(count) elements.")
                }
            }
        }
        return .text(texts)
    }
}

