/// One input value as the pipeline sees it. JSON null and absent keys are `.missing`;
/// JSON integers are `.number`.
public enum FeatureValue: Sendable, Equatable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case missing
}

extension FeatureValue: Codable {
    /// Decodes a JSON scalar: null → `.missing`, true/false → `.bool`, number → `.number`,
    /// string → `.string`. Arrays and objects are rejected.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .missing
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a string, number, boolean or null")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .missing: try c.encodeNil()
        }
    }
}
