import FoundationEssentials
import Inference

/// What the artifact records about its training data, and what `vigia train` prints: the
/// dataset's name, version, row counts and content fingerprint. Serialised as JSON
/// (snake_case keys) so a run can be traced back to the exact bytes it learnt from.
public struct DatasetDescription: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// `sha256:` + lowercase hex of `Dataset.canonicalBytes()`.
    public var fingerprint: String
    public var rows: Int
    public var positives: Int
    public var schema: DatasetSchema

    enum CodingKeys: String, CodingKey {
        case name, version, fingerprint, rows, positives, schema
    }

    public init(name: String, version: String, fingerprint: String, rows: Int, positives: Int, schema: DatasetSchema) {
        self.name = name
        self.version = version
        self.fingerprint = fingerprint
        self.rows = rows
        self.positives = positives
        self.schema = schema
    }

    /// The manifest's `dataset` member.
    public var datasetInfo: DatasetInfo { DatasetInfo(name: name, version: version, fingerprint: fingerprint) }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> DatasetDescription {
        try JSONDecoder().decode(DatasetDescription.self, from: data)
    }
}

extension Dataset {
    /// The bytes the fingerprint is taken over: the schema's column names, then every row's
    /// values in schema order, each in a canonical text form (numbers in Swift's shortest
    /// round-trip form, booleans as `true`/`false`, missing as empty). Fields are separated by
    /// U+001F and records by U+001E, so the fingerprint ignores quoting, CRLF vs LF, column
    /// order in the file and undeclared columns — it changes exactly when the learnt-from data does.
    public func canonicalBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
        for (k, column) in schema.columns.enumerated() {
            if k > 0 { bytes.append(0x1F) }
            append(column.name)
        }
        bytes.append(0x1E)
        for row in rows {
            for (k, value) in row.values.enumerated() {
                if k > 0 { bytes.append(0x1F) }
                switch value {
                case .string(let text): append(text.string)
                case .number(let number): append("\(number)")
                case .bool(let flag): append(flag ? "true" : "false")
                case .missing: break
                }
            }
            bytes.append(0x1E)
        }
        return bytes
    }

    /// `sha256:<hex>` of `canonicalBytes()` (Inference's SHA-256).
    public var fingerprint: String { "sha256:" + SHA256.hex(canonicalBytes()) }

    public var datasetDescription: DatasetDescription {
        DatasetDescription(name: name, version: version, fingerprint: fingerprint, rows: rows.count,
                           positives: labels.reduce(0, +), schema: schema)
    }
}
