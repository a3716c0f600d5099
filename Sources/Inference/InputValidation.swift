/// One way an input breaks the signature, for a 422 response (`pointer` = `/<field>` under the instance).
public struct InputProblem: Sendable, Equatable, CustomStringConvertible {
    /// The field name.
    public let field: String
    /// What is wrong, in words (e.g. "must be a string", "is required", "must be ≥ 0").
    public let problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

extension Signature {
    /// Checks values given in `fields` order against each field's type, `required` flag and
    /// constraints. A missing trailing value counts as `.missing`. Returns [] when valid.
    /// Types: string ⇐ `.string`; number ⇐ finite `.number`; integer ⇐ integral `.number`;
    /// boolean ⇐ `.bool`. String lengths are counted in Unicode scalars (as JSON Schema's
    /// code points).
    public func problems(in values: [FeatureValue]) -> [InputProblem] {
        var problems: [InputProblem] = []
        for (k, field) in fields.enumerated() {
            let value = k < values.count ? values[k] : .missing
            if let problem = field.problem(with: value) { problems.append(InputProblem(field: field.name, problem: problem)) }
        }
        return problems
    }

    /// `problems(in:)` for a field-name → value dictionary. Keys that are not fields are not
    /// reported here (the service decides whether unknown keys are an error).
    public func problems(in dict: [String: FeatureValue]) -> [InputProblem] {
        problems(in: fields.map { dict[$0.name] ?? .missing })
    }
}

extension FieldSpec {
    /// Why `value` does not fit this field, or nil.
    func problem(with value: FeatureValue) -> String? {
        switch (type, value) {
        case (_, .missing):
            return required ? "is required" : nil
        case (.string, .string(let s)):
            let length = s.unicodeScalars.count
            if let min = constraints?.minLength, length < min { return "must be at least \(min) characters long" }
            if let max = constraints?.maxLength, length > max { return "must be at most \(max) characters long" }
            if let allowed = constraints?.allowed, !allowed.contains(s) {
                return "must be one of " + allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            }
            return nil
        case (.number, .number(let d)), (.integer, .number(let d)):
            guard d.isFinite else { return "must be a finite number" }
            if type == .integer && d != d.rounded() { return "must be an integer" }
            if let min = constraints?.minimum, d < min { return "must be ≥ \(Self.format(min))" }
            if let max = constraints?.maximum, d > max { return "must be ≤ \(Self.format(max))" }
            return nil
        case (.boolean, .bool):
            return nil
        default:
            return "must be \(type == .integer ? "an" : "a") \(type.rawValue)"
        }
    }

    static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }
}
