// fuzz/run.sh compiles this file with the V2 decoder: it depends on nothing.

/// The names of the tensors the protocols answer with, in one place for the signature that
/// lists them and the V2 decoder that tells them apart.
enum OutputTensorNames {
    static let id = "id", score = "score", label = "label"
    /// Named as MLServer's scikit-learn runtime names them (see `SignatureTensors.scikitLearnOutputs`).
    static let probabilities = "predict_proba", predictedClass = "predict"
}
