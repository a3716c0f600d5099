import FoundationEssentials
import Inference

/// JSON Lines scoring for `vigia predict`: one listing object a line in, one
/// `{"id":…,"score":…,"label":…}` a line out. Pure: a line in, an output line or an error out.
public struct BatchPredictor: Sendable {
    public let model: LoadedModel

    public init(model: LoadedModel) { self.model = model }

    /// Why one input line could not be scored; `description` starts with the line number.
    public struct LineError: Error, Equatable, CustomStringConvertible, Sendable {
        public var line: Int
        public var problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    /// Scores one line (1-based `number` for errors). Blank lines give `nil`.
    public func predict(line: String, number: Int) throws(LineError) -> String? {
        if line.allSatisfy(\.isWhitespace) { return nil }
        let input: [String: FeatureValue]
        do {
            input = try JSONDecoder().decode([String: FeatureValue].self, from: Data(line.utf8))
        } catch {
            throw LineError(line: number, problem: "not a JSON object of string, number, boolean or null values")
        }
        // The same checks the service answers 422 with (types, required, constraints).
        let problems = model.signature.problems(in: input)
        if !problems.isEmpty {
            throw LineError(line: number, problem: problems.map { "\($0.field) \($0.problem)" }.joined(separator: "; "))
        }
        let prediction = model.predict(input)
        var id = "null"
        if let idField = model.signature.idField, case .string(let text)? = input[idField] { id = Self.jsonString(text) }
        return #"{"id":\#(id),"score":\#(prediction.score),"label":\#(Self.jsonString(prediction.label))}"#
    }

    /// A JSON string literal (RFC 8259 escaping).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
