import Inference

/// A model's signature as the tensor protocols see it: one batch-sized, one-dimensional
/// tensor per listing field in, and `id`, `score`, `label` out. TF Serving's metadata and the
/// Open Inference Protocol's both describe this one list, each with its own type names.
struct SignatureTensors: Sendable {
    /// An element type both protocols can name.
    enum Element: Sendable, Equatable {
        case text, double, int64, bool

        init(_ type: FieldType) {
            switch type {
            case .string: self = .text
            case .number: self = .double
            case .integer: self = .int64
            case .boolean: self = .bool
            }
        }

        /// The Open Inference Protocol's datatype.
        var v2Datatype: String {
            switch self {
            case .text: "BYTES"
            case .double: "FP64"
            case .int64: "INT64"
            case .bool: "BOOL"
            }
        }

        /// TensorFlow's DataType enum name.
        var tensorFlowDtype: String {
            switch self {
            case .text: "DT_STRING"
            case .double: "DT_DOUBLE"
            case .int64: "DT_INT64"
            case .bool: "DT_BOOL"
            }
        }
    }

    struct Tensor: Sendable, Equatable {
        var name: String
        var element: Element
    }

    let inputs: [Tensor]
    let outputs: [Tensor]
    /// A multi-class model's class names: its `score` tensor is `[N, K]` (nil: binary, `[N]`).
    let classes: [String]?

    /// Outputs named as MLServer's scikit-learn runtime names them, answered only when a
    /// request asks for them, so a client written for that runtime gets what it reads:
    /// `predict_proba` (FP64 `[N, 2]`, one column per class in `labels` order) and `predict`
    /// (scikit-learn's `predict`: the more probable class, not the model's threshold).
    static let scikitLearnOutputs = [OutputTensorNames.probabilities, OutputTensorNames.predictedClass]

    /// The shape of `tensor` with -1 for the batch: `[-1]`, or `[-1, K]` for a multi-class score.
    func shape(of tensor: Tensor) -> [Int] {
        if tensor.name == OutputTensorNames.score, let classes { return [-1, classes.count] }
        return [-1]
    }

    init(_ signature: Signature, classes: [String]? = nil) {
        self.classes = classes
        inputs = signature.fields.map { Tensor(name: $0.name, element: Element($0.type)) }
        // Binary models have one score per listing; a multi-class model's score tensor is
        // [N, K] with the class names in its parameters and keeps this name and type.
        // Listed in this order when a request selects none.
        var outputs = [Tensor(name: OutputTensorNames.score, element: .double), Tensor(name: OutputTensorNames.label, element: .text)]
        if signature.idField != nil { outputs.append(Tensor(name: OutputTensorNames.id, element: .text)) }
        self.outputs = outputs
    }
}
