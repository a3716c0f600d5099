import Inference
import Registry

/// Listings in, predictions out: the one scoring call behind every protocol. A protocol is
/// a codec on either side of it — it decodes its body into listings with the signature of
/// the version this call pinned, and encodes what comes back — so KServe V1, TF Serving's
/// columnar form and the Open Inference Protocol score, count and explain identically.
struct Scoring: Sendable {
    let registry: ModelRegistry<ServingModelLoader>
    /// How many raising and lowering features an explanation lists (`predict.explain_top_features`).
    let explainTopFeatures: Int

    /// One request's results, with the version that produced them kept alive until encoded.
    struct Batch<Result> {
        let handle: ServableHandle<ServingModel>
        /// Each listing's id (the signature's id field), in input order; nil where absent.
        let ids: [String?]
        let results: [Result]
        var serving: ServingModel { handle.servable }
    }

    /// The version `selector` names, held for the request, and the listings decoded with it.
    private func pinned(
        model: String, selector: VersionSelector, decode: (ServingModel) throws -> [[FeatureValue]]
    ) throws -> (ServableHandle<ServingModel>, [[FeatureValue]]) {
        let handle = try registry.handle(model: model, selector: selector)
        return (handle, try decode(handle.servable))
    }

    /// Pins the version `selector` names, decodes the listings with it, and scores them.
    /// Errors: the registry's (404, 503) and the decoder's (400, 422), thrown unchanged.
    func predict(
        model: String, selector: VersionSelector, decode: (ServingModel) throws -> [[FeatureValue]]
    ) throws -> Batch<Prediction> {
        let (handle, listings) = try pinned(model: model, selector: selector, decode: decode)
        let serving = handle.servable
        var tally = serving.metrics?.tally()  // nil: metrics off, nothing counted
        var predictions: [Prediction] = []
        predictions.reserveCapacity(listings.count)
        for listing in listings {
            let prediction = serving.model.predict(listing)
            tally?.add(prediction)
            predictions.append(prediction)
        }
        if let tally { serving.metrics?.record(tally) }
        return Batch(handle: handle, ids: listings.map(serving.id(of:)), results: predictions)
    }

    /// As `predict`, with the features that raised and lowered each score. Explanations are
    /// not counted in the prediction metrics (they are a debugging aid, not traffic).
    func explain(
        model: String, selector: VersionSelector, decode: (ServingModel) throws -> [[FeatureValue]]
    ) throws -> Batch<Explanation> {
        let (handle, listings) = try pinned(model: model, selector: selector, decode: decode)
        let serving = handle.servable
        let explanations = listings.map { serving.model.explain($0, top: explainTopFeatures) }
        return Batch(handle: handle, ids: listings.map(serving.id(of:)), results: explanations)
    }
}
