import Inference
import JSON

/// Decodes a predict body, `{"instances":[listing, …]}`, straight into pipeline input: one
/// `[FeatureValue]` per listing in signature order, without the `JSONValue` tree, the
/// request-schema pass and the name lookups of the general path. Built once per loaded
/// version.
///
/// It accepts only what the general path accepts: the same parser primitives read the bytes
/// and each field's value must `conform` to the same listing schema. Whatever it is not sure
/// of (malformed JSON, a problem, a duplicate name, an unexpected member, a nested value in
/// a known field) gives nil, and the caller takes the general path, which answers with the
/// exact 400 or 422.
struct ListingDecoder: Sendable {
    /// The listing schema's properties, in signature order (the pipeline's input order).
    private let fields: [(name: String, schema: Schema)]
    private let requiredMask: UInt64
    private let maxBatchSize: Int

    /// nil for a listing schema of more than 64 fields (the general path serves those).
    init?(listing: Schema, maxBatchSize: Int) {
        guard listing.properties.count <= 64 else { return nil }
        fields = listing.properties
        var mask: UInt64 = 0
        for (i, field) in listing.properties.enumerated() where listing.required.contains(field.name) {
            mask |= 1 << UInt64(i)
        }
        requiredMask = mask
        self.maxBatchSize = maxBatchSize
    }

    func decode(_ body: [UInt8]) -> [[FeatureValue]]? {
        body.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer: buffer, maxDepth: JSONParser.defaultMaxDepth)
            return (try? decodeRequest(&parser)) ?? nil
        }
    }

    private func decodeRequest(_ parser: inout JSONParser) throws(JSONParseError) -> [[FeatureValue]]? {
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: "{")) else { return nil }
        parser.skipWhitespace()
        guard parser.next == UInt8(ascii: "\""), try parser.parseString() == "instances" else { return nil }
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: ":")) else { return nil }
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: "[")) else { return nil }
        var listings: [[FeatureValue]] = []
        while true {
            parser.skipWhitespace()
            guard listings.count < maxBatchSize, let listing = try decodeListing(&parser) else { return nil }
            listings.append(listing)
            parser.skipWhitespace()
            if parser.consume(UInt8(ascii: ",")) { continue }
            guard parser.consume(UInt8(ascii: "]")) else { return nil }
            break
        }
        parser.skipWhitespace()
        // A second member (unknown, or "instances" again) is the general path's to answer.
        guard parser.consume(UInt8(ascii: "}")) else { return nil }
        parser.skipWhitespace()
        return parser.index == parser.buffer.count ? listings : nil
    }

    private func decodeListing(_ parser: inout JSONParser) throws(JSONParseError) -> [FeatureValue]? {
        guard parser.consume(UInt8(ascii: "{")) else { return nil }
        var values = [FeatureValue](repeating: .missing, count: fields.count)
        var seen: UInt64 = 0
        var otherNames: [String] = []
        parser.skipWhitespace()
        if !parser.consume(UInt8(ascii: "}")) {
            while true {
                parser.skipWhitespace()
                guard parser.next == UInt8(ascii: "\"") else { return nil }
                let name = try parser.parseString()
                parser.skipWhitespace()
                guard parser.consume(UInt8(ascii: ":")) else { return nil }
                parser.skipWhitespace()
                // Listing members sit at depth 3: request object, instances array, listing.
                if let i = fields.firstIndex(where: { $0.name == name }) {
                    let bit: UInt64 = 1 << UInt64(i)
                    guard seen & bit == 0, parser.next != UInt8(ascii: "{"), parser.next != UInt8(ascii: "[") else { return nil }
                    seen |= bit
                    let value = try parser.parseValue(depth: 3)
                    guard fields[i].schema.conforms(value) else { return nil }
                    switch value {
                    case .string(let text): values[i] = .string(text)
                    case .number(let number): values[i] = .number(number)
                    case .bool(let flag): values[i] = .bool(flag)
                    case .null: values[i] = .missing
                    case .array, .object: return nil
                    }
                } else {
                    // Accepted and ignored, as by the listing schema; still parsed strictly.
                    guard !otherNames.contains(name) else { return nil }
                    otherNames.append(name)
                    _ = try parser.parseValue(depth: 3)
                }
                parser.skipWhitespace()
                if parser.consume(UInt8(ascii: ",")) { continue }
                guard parser.consume(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        // A required field given as null has already failed `conforms` (its type has no null).
        return seen & requiredMask == requiredMask ? values : nil
    }
}
