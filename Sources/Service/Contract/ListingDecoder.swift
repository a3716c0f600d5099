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
    /// Each field's type and bounds as a value, so that a member is checked without retaining
    /// its schema, which every thread shares (a field with allowed strings is checked against
    /// the schema itself as well).
    private let checks: [ScalarCheck]
    /// The fields' names, matched on their bytes.
    private let fieldNames: KnownMembers
    private let requiredMask: UInt64
    private let maxBatchSize: Int

    /// nil for a listing schema of more than 64 fields or a field name that is not ASCII (the
    /// general path serves those).
    init?(listing: Schema, maxBatchSize: Int) {
        guard let names = KnownMembers(matching: listing.properties.map(\.name)) else { return nil }
        fields = listing.properties
        checks = listing.properties.map(\.schema.scalarCheck)
        fieldNames = names
        var mask: UInt64 = 0
        for (i, field) in listing.properties.enumerated() where listing.required.contains(field.name) {
            mask |= 1 << UInt64(i)
        }
        requiredMask = mask
        self.maxBatchSize = maxBatchSize
    }

    /// The listings, in rows and an array this thread used before when it has them
    /// (`ReusedStorage`).
    func decode(_ body: [UInt8]) -> [[FeatureValue]]? {
        ReusedStorage.perThread.withCurrent { storage in
            body.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(buffer: buffer, maxDepth: JSONParser.defaultMaxDepth)
                return (try? decodeRequest(&parser, storage: storage)) ?? nil
            }
        }
    }

    private func decodeRequest(_ parser: inout JSONParser, storage: ReusedStorage) throws(JSONParseError) -> [[FeatureValue]]? {
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: "{")) else { return nil }
        parser.skipWhitespace()
        guard parser.next == UInt8(ascii: "\""), try parser.parseString() == "instances" else { return nil }
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: ":")) else { return nil }
        parser.skipWhitespace()
        guard parser.consume(UInt8(ascii: "[")) else { return nil }
        var listings = storage.listings()
        while true {
            parser.skipWhitespace()
            guard listings.count < maxBatchSize,
                  let listing = try decodeListing(&parser, row: storage.row(width: checks.count), storage: storage)
            else { return nil }
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

    /// Thrown to leave the walk for the general path, which answers with the exact error.
    private static let decline = JSONParseError(offset: 0, reason: "left to the general decoder")

    /// `row`: as many missing values as there are fields, for this listing alone (a row of its
    /// own rather than a copy of a shared one, whose retain and release moved the shared row's
    /// reference count from core to core on every listing).
    private func decodeListing(_ parser: inout JSONParser, row: consuming [FeatureValue],
                               storage: ReusedStorage) throws(JSONParseError) -> [FeatureValue]? {
        guard parser.next == UInt8(ascii: "{") else { return nil }
        var listing = (values: consume row, seen: UInt64(0))
        // Listing members sit at depth 3: request object, instances array, listing. A repeated
        // name is refused by the walk. The closure reads the checks through a buffer, not
        // `self`, whose arrays it would retain.
        try checks.withUnsafeBufferPointer { checks throws(JSONParseError) in
            try parser.members(depth: 3, known: fieldNames, into: &listing) { (key, parser, listing) throws(JSONParseError) in
                guard let i = key else {
                    // Accepted and ignored, as by the listing schema; still parsed strictly.
                    _ = try parser.parseValue(depth: 3)
                    return
                }
                // Strings and numbers (nearly every field) are read and checked as themselves,
                // without a `JSONValue` made and taken apart.
                switch parser.next ?? 0 {  // 0: the end, which parseValue refuses
                case UInt8(ascii: "\""):
                    // Read in place and copied once: a small string, or a buffer this thread
                    // kept (`ReusedStorage.text`), so that a warm predict allocates no title.
                    listing.values[i] = try parser.withParsedString { utf8 throws(JSONParseError) in
                        guard checks[i].acceptsString(utf8: utf8) else { throw Self.decline }
                        if checks[i].hasEnum, !fields[i].schema.conforms(stringUTF8: utf8) { throw Self.decline }
                        return storage.text(utf8)
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let number = try parser.parseNumber()
                    guard checks[i].acceptsNumber(number) else { throw Self.decline }
                    if checks[i].hasEnum, !fields[i].schema.conforms(.number(number)) { throw Self.decline }
                    listing.values[i] = .number(number)
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    throw Self.decline
                default:
                    let value = try parser.parseValue(depth: 3)
                    guard checks[i].accepts(value) else { throw Self.decline }
                    if checks[i].hasEnum, !fields[i].schema.conforms(value) { throw Self.decline }
                    switch value {
                    case .bool(let flag): listing.values[i] = .bool(flag)
                    case .null: listing.values[i] = .missing
                    case .string, .number, .array, .object: throw Self.decline
                    }
                }
                listing.seen |= 1 << UInt64(i)
            }
        }
        // A required field given as null has already failed `conforms` (its type has no null).
        return listing.seen & requiredMask == requiredMask ? listing.values : nil
    }
}
