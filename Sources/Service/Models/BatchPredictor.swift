import Inference
import JSON

/// JSON Lines scoring for `vigia predict`: one listing object a line in, one
/// `{"id","score","label","threshold"}` a line out. A line goes through the same parser,
/// listing schema and item writer as a listing POSTed to `:predict`, so the command accepts
/// exactly what the service accepts and writes what it answers.
public struct BatchPredictor: Sendable {
    public let serving: ServingModel

    public init(model: LoadedModel) {
        serving = ServingModel(model: model, maxBatchSize: 1)
    }

    /// Why one input line could not be scored; `description` starts with the line number.
    public struct LineError: Error, Equatable, CustomStringConvertible, Sendable {
        public var line: Int
        public var problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    /// Scores one line (1-based `number` for errors). Blank lines give `nil`.
    public func predict(line: String, number: Int) throws(LineError) -> String? {
        try predict(line: Array(line.utf8), number: number)
    }

    /// Scores one line of raw bytes, as read: invalid UTF-8 is refused by the JSON parser as
    /// the service refuses it (400), never repaired into U+FFFD and scored.
    public func predict(line: [UInt8], number: Int) throws(LineError) -> String? {
        var out = JSONWriter(capacity: 128)
        let scored = try line.withUnsafeBufferPointer { bytes throws(LineError) in try predict(line: bytes, number: number, into: &out) }
        return scored ? String(decoding: out.bytes.dropLast(), as: UTF8.self) : nil
    }

    /// Scores one line (without its LF) into `out`: the output object and an LF. Returns false
    /// for a blank line, which writes nothing.
    public func predict(line: UnsafeBufferPointer<UInt8>, number: Int, into out: inout JSONWriter) throws(LineError) -> Bool {
        guard let (_, values) = try listing(line: line, number: number) else { return false }
        let model = serving.model
        out.beginScoredItem(id: serving.id(of: values), model.predict(values), answeredBy: serving)
        out.raw("}\n")
        return true
    }

    /// One line parsed and checked against the listing schema: the object (every member,
    /// also those the signature does not name) and the model's input. Blank lines give `nil`.
    public func listing(line: [UInt8], number: Int) throws(LineError) -> (listing: JSONObject, values: [FeatureValue])? {
        try line.withUnsafeBufferPointer { bytes throws(LineError) in try listing(line: bytes, number: number) }
    }

    /// `listing(line:number:)` for bytes the caller holds (a line of a larger buffer).
    public func listing(line: UnsafeBufferPointer<UInt8>, number: Int) throws(LineError) -> (listing: JSONObject, values: [FeatureValue])? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw LineError(line: number, problem: "not JSON: \(error)")
        }
        guard let listing = value.objectValue else {
            throw LineError(line: number, problem: "expected a JSON object (one listing), got \(value.typeName)")
        }
        guard serving.listingSchema.conforms(value) else {
            let problems = serving.listingSchema.validate(value)
            throw LineError(line: number, problem: problems.map { "\($0.pointer) \($0.problem)" }.joined(separator: "; "))
        }
        return (listing, serving.featureValues(listing))
    }
}
