#if canImport(Glibc)
import Glibc
#endif
#if canImport(Inference)
import Inference
#endif
#if canImport(JSON)
import JSON
#endif

/// Decodes a V2 infer body that fits a model's signature straight into listings (JSON
/// elements, or binary tensor data after the JSON header):
/// each input's name is matched to its field on its bytes and its `data` elements are checked
/// and stored in the listings as they are read, with no `V2Input` columns in between. Built
/// once per loaded version (`ServingModel.v2Decoder`); V1's `ListingDecoder` is the same idea.
///
/// It accepts only what `V2RequestDecoder` and `V2Signature.listings` accept together, and
/// gives the same listings: the same parser walks read the bytes and each element must pass
/// the same checks. Whatever it is not sure of — binary data no input claims, an input the
/// signature does not name, a name with escapes, `data` before `name`, `datatype` or `shape`, nested
/// `data`, any error — gives nil, and the caller takes the general path, which answers with
/// the exact 400. `Tests/ServiceTests/V2ListingDecoderTests.swift` and fuzz/V2Fuzz.swift
/// check this against the general path.
final class V2ListingDecoder: Sendable {
    let signature: V2Signature
    private let fieldNames: KnownMembers
    private let requiredMask: UInt64
    private let maxBatchSize: Int
    /// Per field, how a compact input for it begins, one opening per datatype it accepts (its
    /// own first): `{"name":"<field>","datatype":"<datatype>","shape":` (none for a name that
    /// would need escaping). Clients often send a datatype the field accepts but does not
    /// name, INT64 for a number field whose values are whole. See `decodeCompactInput`.
    /// All in one array (`compactOpeningBytes`), per field a range of `compactOpenings`.
    private let compactOpenings: [CompactOpening]
    private let compactOpeningsOfField: [Range<Int>]
    private let compactOpeningBytes: [UInt8]

    private struct CompactOpening {
        let start: Int
        let count: Int
        let datatype: V2Datatype
    }

    /// `count` listings of `width` missing values each. By default new ones; the service
    /// passes `ReusedStorage.emptyListings`, rows and an array the thread used before.
    private let emptyListings: @Sendable (_ count: Int, _ width: Int) -> [[FeatureValue]]

    static let newListings: @Sendable (Int, Int) -> [[FeatureValue]] = { count, width in
        [[FeatureValue]](filledWith: [FeatureValue](filledWith: .missing, count: width), count: count)
    }

    /// The value of a string element, from its UTF-8 (valid, unescaped) as the body holds it.
    /// By default a new `String`; the service passes `ReusedStorage.textValue`, which copies
    /// a long one into a buffer the thread kept.
    private let textValue: @Sendable (UnsafeBufferPointer<UInt8>) -> FeatureValue

    static let newText: @Sendable (UnsafeBufferPointer<UInt8>) -> FeatureValue = { .string(String(decoding: $0, as: UTF8.self)) }

    /// nil when the signature has more than 64 fields, or a name that is empty or not ASCII
    /// (the general path serves those).
    init?(signature: V2Signature, maxBatchSize: Int,
          emptyListings: @escaping @Sendable (_ count: Int, _ width: Int) -> [[FeatureValue]] = V2ListingDecoder.newListings,
          textValue: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> FeatureValue = V2ListingDecoder.newText) {
        self.emptyListings = emptyListings
        self.textValue = textValue
        guard !signature.fields.contains(where: \.name.isEmpty),
            let names = KnownMembers(matching: signature.fields.map(\.name))
        else { return nil }
        fieldNames = names
        var mask: UInt64 = 0
        for (f, field) in signature.fields.enumerated() where field.required { mask |= 1 << UInt64(f) }
        requiredMask = mask
        self.signature = signature
        self.maxBatchSize = maxBatchSize
        var openings: [CompactOpening] = []
        var bytes: [UInt8] = []
        compactOpeningsOfField = signature.fields.map { field in
            let first = openings.count
            guard field.name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
            else { return first..<first }
            let datatypes = (field.accepted.contains(field.datatype) ? [field.datatype] : [])
                + field.accepted.filter { $0 != field.datatype }
            for datatype in datatypes {
                let opening = Array(#"{"name":""#.utf8) + Array(field.name.utf8) + Array(#"","datatype":""#.utf8)
                    + Array(datatype.rawValue.utf8) + Array(#"","shape":"#.utf8)
                openings.append(CompactOpening(start: bytes.count, count: opening.count, datatype: datatype))
                bytes += opening
            }
            return first..<openings.count
        }
        compactOpenings = openings
        compactOpeningBytes = bytes
    }

    /// The request's own members and its listings; `request.inputs` stays empty.
    struct Decoded {
        var request: V2InferRequest
        var listings: [[FeatureValue]]
    }

    /// - Parameter headerLength: `Inference-Header-Content-Length`: the JSON header's length,
    ///   the binary tensor data after it (nil: all JSON). Inputs with `binary_data_size` read
    ///   their elements from it in input order, as tritonclient sends them by default.
    func decode(_ body: [UInt8], headerLength: Int?) -> Decoded? {
        let end = headerLength ?? body.count
        guard end >= 0, end <= body.count else { return nil }
        return body.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer: UnsafeBufferPointer(rebasing: buffer[..<end]), maxDepth: JSONParser.defaultMaxDepth)
            var state = RequestState(binary: buffer, binaryOffset: end)
            do {
                try decodeRequest(&parser, into: &state)
            } catch {
                return nil
            }
            // Binary data no input claimed: the general path's error.
            guard state.binaryOffset == buffer.count else { return nil }
            return state.finished(requiredMask: requiredMask)
        }
    }

    /// Thrown to leave the walk for the general path; never seen by a client.
    private static func decline(_ parser: JSONParser) -> JSONParseError {
        JSONParseError(offset: parser.index, reason: declined)
    }

    private static let declined = "left to the general decoder"

    private static let rootNames = KnownMembers("id", "parameters", "outputs", "inputs")
    private static let inputNames = KnownMembers("name", "datatype", "parameters", "shape", "data")

    /// What the walk has found so far.
    private struct RequestState {
        /// The whole body, and where the next input's binary data starts in it.
        let binary: UnsafeBufferPointer<UInt8>
        var binaryOffset: Int
        var request = V2InferRequest(inputs: [])
        var listings: [[FeatureValue]] = []
        /// Listings per input, from the first shape read (0: none yet).
        var rows = 0
        /// Fields an input has fed (none: no `inputs`, or an empty array).
        var seen: UInt64 = 0
        /// The field after the last input's.
        var nextField = 0

        /// The result when every input was complete and every required field was fed.
        func finished(requiredMask: UInt64) -> Decoded? {
            guard seen != 0, seen & requiredMask == requiredMask else { return nil }
            return Decoded(request: request, listings: listings)
        }
    }

    private func decodeRequest(_ parser: inout JSONParser, into state: inout RequestState) throws(JSONParseError) {
        parser.skipWhitespace()
        guard parser.next == UInt8(ascii: "{") else { throw Self.decline(parser) }
        // The depths are the general decoder's, so that nesting limits are met alike.
        try parser.members(depth: 1, known: Self.rootNames, into: &state) { (name, parser, state) throws(JSONParseError) in
            switch name {
            case 0:
                guard case .string(let id) = try parser.parseValue(depth: 1) else { throw Self.decline(parser) }
                state.request.id = id
            case 1:
                let parameters = try ParameterMembers.parse(&parser, depth: 1)
                guard parameters.isObject else { throw Self.decline(parser) }
                switch parameters.contentType {
                case nil: break
                case .string(let type)? where V2RequestDecoder.requestContentTypes.contains(type): break
                default: throw Self.decline(parser)
                }
                switch parameters.binaryDataOutput {
                case nil: break
                case .bool(let flag)?: state.request.binaryDataOutput = flag
                default: throw Self.decline(parser)
                }
            case 2:
                let value = try parser.parseValue(depth: 1)
                do throws(V2RequestError) {
                    let outputs = try V2RequestDecoder.outputs(value)
                    try signature.checkOutputs(outputs)
                    state.request.outputs = outputs
                } catch {
                    throw Self.decline(parser)
                }
            case 3:
                guard parser.next == UInt8(ascii: "[") else { throw Self.decline(parser) }
                try parser.elements(depth: 2, into: &state) { (parser, state) throws(JSONParseError) in
                    try decodeInput(&parser, into: &state)
                }
            default:
                _ = try parser.parseValue(depth: 1)
            }
        }
        parser.skipWhitespace()
        guard parser.index == parser.buffer.count else { throw Self.decline(parser) }
    }

    /// What one input object has said so far.
    private struct InputState {
        var field: Int?
        var datatype: V2Datatype?
        var hasShape = false
        var hasData = false
        var contentType: String?
        /// `parameters.binary_data_size`: its elements are in the binary data.
        var binarySize: Int?
    }

    private func decodeInput(_ parser: inout JSONParser, into state: inout RequestState) throws(JSONParseError) {
        guard parser.next == UInt8(ascii: "{") else { throw Self.decline(parser) }
        if try decodeCompactInput(&parser, into: &state) { return }
        var input = InputState()
        try parser.members(depth: 3, known: Self.inputNames, into: &input) { (name, parser, input) throws(JSONParseError) in
            switch name {
            case 0:
                // Clients send the inputs in signature order: the field after the last one is tried first.
                guard let f = parser.knownMemberName(fieldNames, expecting: state.nextField) else { throw Self.decline(parser) }
                let bit: UInt64 = 1 << UInt64(f)
                guard state.seen & bit == 0 else { throw Self.decline(parser) }
                state.seen |= bit
                state.nextField = f + 1
                input.field = f
            case 1:
                guard let plain = parser.plainString(), let datatype = V2Datatype.named(plain) else { throw Self.decline(parser) }
                input.datatype = datatype
            case 2:
                let parameters = try ParameterMembers.parse(&parser, depth: 3)
                guard parameters.isObject else { throw Self.decline(parser) }
                switch parameters.binaryDataSize {
                case nil: break
                case .number(let n)? where n >= 0 && n.rounded() == n && n <= Double(state.binary.count - state.binaryOffset):
                    input.binarySize = Int(n)
                default: throw Self.decline(parser)
                }
                switch parameters.contentType {
                case nil: break
                case .string(let type)? where V2RequestDecoder.inputContentTypes.contains(type): input.contentType = type
                default: throw Self.decline(parser)
                }
            case 3:
                try decodeShape(&parser, into: &state)
                input.hasShape = true
            case 4:
                // A field's accepted datatypes are among those V2 infer takes (`V2Codec.signature`).
                guard let f = input.field, let datatype = input.datatype, input.hasShape, input.binarySize == nil,
                    signature.fields[f].accepted.contains(datatype)
                else { throw Self.decline(parser) }
                try decodeData(&parser, field: f, datatype: datatype, into: &state)
                input.hasData = true
            default:
                _ = try parser.parseValue(depth: 3)
            }
        }
        if let size = input.binarySize {
            guard let f = input.field, let datatype = input.datatype, input.hasShape, !input.hasData,
                signature.fields[f].accepted.contains(datatype)
            else { throw Self.decline(parser) }
            try decodeBinary(size: size, field: f, datatype: datatype, into: &state, parser)
            input.hasData = true
        }
        guard input.field != nil, input.hasData, input.contentType != "str" || input.datatype == .bytes else { throw Self.decline(parser) }
    }

    /// An input's elements from the next `size` bytes of binary data, each checked as the
    /// general path (`BinaryReader`, then `V2Signature.listings`) checks it and stored in field
    /// `f` of its listing: little-endian numbers, a byte per BOOL, BYTES as a 4-byte
    /// little-endian length and that many bytes of UTF-8, copied once (`textValue`).
    private func decodeBinary(size: Int, field f: Int, datatype: V2Datatype, into state: inout RequestState,
                              _ parser: JSONParser) throws(JSONParseError) {
        let bytes = state.binary, start = state.binaryOffset, end = start + size, rows = state.rows
        let field = signature.fields[f]
        if let width = datatype.width {
            guard size == rows * width else { throw Self.decline(parser) }
            for row in 0..<rows {
                let value: FeatureValue
                if datatype == .bool {
                    let byte = bytes[start + row]
                    guard byte <= 1, field.conforms(.bool(byte == 1)) else { throw Self.decline(parser) }
                    value = .bool(byte == 1)
                } else {
                    let n = datatype.binaryNumber(in: bytes, at: start + row * width)
                    guard n.isFinite, field.conforms(.number(n)) else { throw Self.decline(parser) }
                    value = .number(n)
                }
                state.listings[row][f] = value
            }
        } else {
            try forEachBinaryText(in: bytes, from: start, to: end, count: rows) { (row, utf8) throws(JSONParseError) in
                guard JSONParser.isValidUTF8(utf8), field.conformsText(utf8) else { throw Self.decline(parser) }
                state.listings[row][f] = textValue(utf8)
            } layoutError: { _ in Self.decline(parser) }
        }
        state.binaryOffset = end
    }

    /// An input written compactly, as JSON encoders without spaces write it (Go, JavaScript,
    /// Java, orjson): `{"name":"<the expected field>","datatype":"<its datatype>","shape":…,
    /// "data":[…]}`, its opening compared in one go with the field's `compactOpenings`
    /// instead of walking four members. False, the cursor and the field bookkeeping as they
    /// were, when the input is not exactly that (other members, another order): the member
    /// walk then reads it, and reading its shape and elements again gives what they gave
    /// here. It checks what the member walk checks: field bookkeeping, shape and elements.
    private func decodeCompactInput(_ parser: inout JSONParser, into state: inout RequestState) throws(JSONParseError) -> Bool {
        let f = state.nextField
        guard f < compactOpeningsOfField.count, parser.maxDepth >= 4 else { return false }
        let start = parser.index
        let available = parser.buffer.count - start
        let at = parser.buffer.baseAddress! + start
        let found = compactOpeningBytes.withUnsafeBufferPointer { bytes in
            compactOpenings[compactOpeningsOfField[f]].firstIndex { opening in
                opening.count <= available && memcmp(at, bytes.baseAddress! + opening.start, opening.count) == 0
            }
        }
        guard let found else { return false }
        let opening = compactOpenings[found]
        let bit: UInt64 = 1 << UInt64(f)
        guard state.seen & bit == 0 else { throw Self.decline(parser) }
        let (seen, nextField) = (state.seen, state.nextField)
        func notCompact(_ parser: inout JSONParser, _ state: inout RequestState) -> Bool {
            (state.seen, state.nextField) = (seen, nextField)
            parser.index = start
            return false
        }
        state.seen |= bit
        state.nextField = f + 1
        parser.index = start + opening.count
        parser.skipWhitespace()
        try decodeShape(&parser, into: &state)
        parser.skipWhitespace()
        let dataMember: StaticString = #","data":"#
        guard parser.index + dataMember.utf8CodeUnitCount <= parser.buffer.count,
            memcmp(parser.buffer.baseAddress! + parser.index, dataMember.utf8Start, dataMember.utf8CodeUnitCount) == 0
        else { return notCompact(&parser, &state) }
        parser.index += dataMember.utf8CodeUnitCount
        parser.skipWhitespace()
        try decodeData(&parser, field: f, datatype: opening.datatype, into: &state)
        parser.skipWhitespace()
        guard parser.next == UInt8(ascii: "}") else { return notCompact(&parser, &state) }
        parser.index += 1
        return true
    }

    /// `[N]` or `[N, 1]`, N within the batch limit and the same for every input; the first
    /// makes the listings.
    private func decodeShape(_ parser: inout JSONParser, into state: inout RequestState) throws(JSONParseError) {
        guard parser.next == UInt8(ascii: "[") else { throw Self.decline(parser) }
        if let rows = Self.plainSingleDimension(&parser) {
            guard rows >= 1, rows <= maxBatchSize else { throw Self.decline(parser) }
            try setRows(rows, &parser, &state)
            return
        }
        var dims = (count: 0, first: 0.0, second: 0.0)
        try parser.elements(depth: 4, into: &dims) { (parser, dims) throws(JSONParseError) in
            guard let byte = parser.next, byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw Self.decline(parser)
            }
            let n = try parser.parseNumber()
            switch dims.count {
            case 0: dims.first = n
            case 1: dims.second = n
            default: throw Self.decline(parser)
            }
            dims.count += 1
        }
        let rows = dims.first
        guard dims.count >= 1, rows.rounded() == rows, rows >= 1, rows <= Double(maxBatchSize), dims.count == 1 || dims.second == 1 else {
            throw Self.decline(parser)
        }
        try setRows(Int(rows), &parser, &state)
    }

    /// The first shape makes the listings; every later one must agree with it.
    @inline(__always)
    private func setRows(_ rows: Int, _ parser: inout JSONParser, _ state: inout RequestState) throws(JSONParseError) {
        if state.rows == 0 {
            state.rows = rows
            state.listings = emptyListings(rows, signature.emptyRow.count)
        } else if state.rows != rows {
            throw Self.decline(parser)
        }
    }

    /// A shape written as clients mostly write it, `[N]` with N of one to four digits and no
    /// spaces: N, the cursor past the `]`, without the element walk; nil, the cursor unmoved,
    /// for anything else (which the walk reads, to the same result where this one answers).
    private static func plainSingleDimension(_ parser: inout JSONParser) -> Int? {
        let bytes = parser.buffer
        var at = parser.index + 1
        var value = 0
        while at < bytes.count, at - parser.index <= 4, bytes[at] &- UInt8(ascii: "0") < 10 {
            value = value * 10 + Int(bytes[at] &- UInt8(ascii: "0"))
            at += 1
        }
        let digits = at - parser.index - 1
        guard digits >= 1, at < bytes.count, bytes[at] == UInt8(ascii: "]"), parser.maxDepth >= 4,
            digits == 1 || bytes[parser.index + 1] != UInt8(ascii: "0")
        else { return nil }
        parser.index = at + 1
        return value
    }

    /// The elements of a flat `data` array, each checked as the general path checks it and
    /// stored in field `f` of its listing.
    private func decodeData(_ parser: inout JSONParser, field f: Int, datatype: V2Datatype, into state: inout RequestState) throws(JSONParseError) {
        guard parser.next == UInt8(ascii: "[") else { throw Self.decline(parser) }
        let conforms = signature.fields[f].conforms, conformsText = signature.fields[f].conformsText
        let textValue = self.textValue
        var row = 0
        try parser.elements(depth: 4, into: &state) { (parser, state) throws(JSONParseError) in
            guard row < state.rows else { throw Self.decline(parser) }
            let value: FeatureValue
            switch parser.next ?? 0 {
            case UInt8(ascii: "\""):
                guard datatype == .bytes else { throw Self.decline(parser) }
                // Checked and copied where the body holds it: a long text goes into a buffer
                // the thread kept, so that a warm infer allocates no title.
                let start = parser.index
                value = try parser.withParsedString { utf8 throws(JSONParseError) in
                    guard conformsText(utf8) else { throw JSONParseError(offset: start, reason: Self.declined) }
                    return textValue(utf8)
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard datatype != .bytes, datatype != .bool else { throw Self.decline(parser) }
                let n = try parser.parseNumber()
                guard V2RequestDecoder.fits(n, datatype), conforms(.number(n)) else { throw Self.decline(parser) }
                value = .number(n)
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let scalar = try parser.parseValue(depth: 4)
                switch scalar {
                case .bool(let flag) where datatype == .bool: value = .bool(flag)
                case .null: value = .missing
                default: throw Self.decline(parser)
                }
                guard conforms(scalar) else { throw Self.decline(parser) }
            default:
                throw Self.decline(parser)
            }
            state.listings[row][f] = value
            row += 1
        }
        guard row == state.rows else { throw Self.decline(parser) }
    }
}
