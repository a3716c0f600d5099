#if canImport(Inference)
import Inference
#endif
#if canImport(JSON)
import JSON
#endif
// fuzz/run.sh compiles this file with the V2 decoders, the JSON target and FeatureValue as one
// module: it depends on nothing else, so the two V2 decoders can be fuzzed against each other.

/// A model version's signature as the Open Inference Protocol checks requests against it:
/// which input feeds which listing field, the datatypes each field takes, and the listing
/// schema's check of each element. Built once per loaded version (`ServingModel.v2`).
struct V2Signature: Sendable {
    struct Field: Sendable {
        let name: String
        let required: Bool
        /// The signature's type name (`string`, `integer`, …), for messages.
        let typeName: String
        /// The datatype to send for it, for messages.
        let datatype: V2Datatype
        /// The datatypes it takes (`V2Codec.accepts`).
        let accepted: [V2Datatype]
        /// Whether an element (a JSON scalar; null for a missing value) conforms to the field's
        /// listing schema, and what is wrong with one that does not.
        let conforms: @Sendable (JSONValue) -> Bool
        let problem: @Sendable (JSONValue) -> String
        /// `conforms` of a string element given as its (valid) UTF-8, so that a decoder can
        /// check it where it lies in the body.
        let conformsText: @Sendable (UnsafeBufferPointer<UInt8>) -> Bool

        /// Without `conformsText`, a string element is checked by `conforms` (made a `String`).
        init(name: String, required: Bool, typeName: String, datatype: V2Datatype, accepted: [V2Datatype],
             conforms: @escaping @Sendable (JSONValue) -> Bool, problem: @escaping @Sendable (JSONValue) -> String,
             conformsText: (@Sendable (UnsafeBufferPointer<UInt8>) -> Bool)? = nil) {
            self.name = name
            self.required = required
            self.typeName = typeName
            self.datatype = datatype
            self.accepted = accepted
            self.conforms = conforms
            self.problem = problem
            self.conformsText = conformsText ?? { conforms(.string(String(decoding: $0, as: UTF8.self))) }
        }
    }

    /// In signature order: the pipeline's input order.
    let fields: [Field]
    /// Outputs a request may select.
    let outputNames: [String]
    /// A listing with every field missing, which each decoded listing starts as a copy of.
    let emptyRow: [FeatureValue]

    init(fields: [Field], outputNames: [String]) {
        self.fields = fields
        self.outputNames = outputNames
        emptyRow = [FeatureValue](repeating: .missing, count: fields.count)
    }

    /// `count` listings with every field missing: copies of `emptyRow`.
    func emptyListings(_ count: Int) -> [[FeatureValue]] {
        [[FeatureValue]](filledWith: emptyRow, count: count)
    }

    /// One listing per element, values in signature order, each checked against the listing
    /// schema; inputs the signature does not name are ignored (as JSON listings' unknown
    /// members are). Also checks the requested outputs, so a bad request scores nothing.
    func listings(_ request: V2InferRequest) throws(V2RequestError) -> [[FeatureValue]] {
        let count = request.inputs[0].count
        for input in request.inputs where input.count != count {
            throw V2RequestError("Input '\(input.name)' has \(input.count) elements but input '\(request.inputs[0].name)' has \(count); every input needs one per listing.")
        }
        try checkOutputs(request.outputs)
        let inputs = request.inputs
        var listings = emptyListings(count)
        for f in fields.indices {  // by index: the fields are read in place, not copied
            let name = fields[f].name
            // Names are distinct (the decoder refuses a repeat), so at most one input matches;
            // clients send them in signature order, so the input at the field's position is
            // tried first.
            let position = f < inputs.count && inputs[f].name == name ? f : inputs.firstIndex { $0.name == name }
            guard let position else {
                if fields[f].required {
                    throw V2RequestError("Input '\(name)' is missing: the signature requires it (\(fields[f].datatype.rawValue), shape [\(count)]).")
                }
                continue
            }
            let input = inputs[position]
            guard fields[f].accepted.contains(input.datatype) else {
                throw V2RequestError("Input '\(name)' has datatype \(input.datatype.rawValue); the field is \(fields[f].typeName): send \(fields[f].datatype.rawValue).")
            }
            let conforms = fields[f].conforms, problem = fields[f].problem
            /// Checks each element against the field's schema (JSON scalars are not
            /// allocated) and stores it; null is an optional field's missing value.
            func fill<T>(_ column: [T?], _ json: (T) -> JSONValue, _ feature: (T) -> FeatureValue) throws(V2RequestError) {
                for (i, element) in column.enumerated() {
                    let value = element.map(json) ?? .null
                    guard conforms(value) else { throw V2RequestError("Input '\(name)' element \(i): \(problem(value)).") }
                    if let element { listings[i][f] = feature(element) }
                }
            }
            switch input.values {
            case .text(let texts): try fill(texts, JSONValue.string, FeatureValue.string)
            case .numbers(let numbers): try fill(numbers, JSONValue.number, FeatureValue.number)
            case .bools(let flags): try fill(flags, JSONValue.bool, FeatureValue.bool)
            }
        }
        return listings
    }

    /// Refuses a selected output the model does not have.
    func checkOutputs(_ outputs: [V2RequestedOutput]?) throws(V2RequestError) {
        guard let outputs else { return }
        for output in outputs where !outputNames.contains(output.name) {
            throw V2RequestError("Output '\(output.name)' is not one of this model's outputs: \(outputNames.joined(separator: ", ")).")
        }
    }
}
