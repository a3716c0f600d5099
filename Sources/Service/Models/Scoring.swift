import Inference
import Monitoring
import Registry

/// Listings in, predictions out: the one scoring call behind every protocol. A protocol is
/// a codec on either side of it — it decodes its body into listings with the signature of
/// the version this call pinned, and encodes what comes back — so KServe V1, TF Serving's
/// columnar form and the Open Inference Protocol score, count and explain identically.
struct Scoring: Sendable {
    let registry: ModelRegistry<ServingModelLoader>
    /// How many raising and lowering features an explanation lists (`predict.explain_top_features`).
    let explainTopFeatures: Int
    /// Shadow scoring, comparisons, input skew and payload sampling, off the response path
    /// (nil: none of them).
    var monitor: LiveMonitor? = nil

    /// One request's results, with the version that produced them kept alive until encoded.
    struct Batch<Result> {
        let handle: ServableHandle<ServingModel>
        /// The listings, in input order (their ids are read as the answer is written).
        fileprivate(set) var listings: [[FeatureValue]]
        fileprivate(set) var results: [Result]
        /// Whether a monitor job holds the listings and results too (then the job gives them
        /// back to the thread's storage, once the worker is done with them).
        fileprivate(set) var monitored = false
        /// The canary version, when this request's listings were split (see `byCanary`).
        var canary: ServableHandle<ServingModel>? = nil
        /// Per listing, whether the canary answered it; nil when the request was not split.
        var byCanary: [Bool]? = nil
        var serving: ServingModel { handle.servable }

        /// Listing `i`'s id (the serving signature's id field); nil where absent.
        func id(at i: Int) -> FeatureText? { serving.id(of: listings[i]) }

        /// The version that answered listing `i`.
        func version(at i: Int) -> Int {
            if let canary, byCanary?[i] == true { return canary.version }
            return handle.version
        }

        /// The version that answered listing `i`.
        func serving(at i: Int) -> ServingModel {
            if let canary, byCanary?[i] == true { return canary.servable }
            return serving
        }

        /// The version that answered every listing, or the serving version when they differ.
        var answeringVersion: Int {
            guard let canary, let byCanary, !byCanary.isEmpty, byCanary.allSatisfy({ $0 }) else { return handle.version }
            return canary.version
        }
    }

    /// The version `selector` names, held for the request, and the listings decoded with it.
    private func pinned(
        model: String, selector: VersionSelector, decode: (ServingModel) throws -> [[FeatureValue]]
    ) throws -> (ServableHandle<ServingModel>, [[FeatureValue]]) {
        let handle = try registry.handle(model: model, selector: selector)
        return (handle, try decode(handle.servable))
    }

    /// Pins the version `selector` names, decodes the listings with it, and scores them.
    /// Requests for the serving version are split with the canary, listing by listing (by a
    /// hash of the listing id); version- and label-pinned requests never are. The listings and
    /// answers then go to the monitor (shadow, comparisons, skew, payload sampling) without
    /// waiting for it. Errors: the registry's (404, 503) and the decoder's (400, 422), unchanged.
    func predict(
        model: String, selector: VersionSelector, requestID: String? = nil,
        decode: (ServingModel) throws -> [[FeatureValue]]
    ) throws -> Batch<Prediction> {
        guard let snapshot = registry.snapshot(model: model) else { throw RegistryError.unknownModel(model) }
        let handle = try snapshot.handle(selector)
        let listings = try decode(handle.servable)
        let serving = handle.servable
        let routing = selector == .serving ? snapshot.rollout : nil
        let canary = routing?.canary.flatMap { canary in snapshot.handle(version: canary.version).map { (canary.weight, $0) } }
        // Tallies are made whether or not metrics are on (counted only when they are): as
        // optionals, each was copied whole (about 330 bytes) when made, added to and recorded.
        let metrics = serving.metrics, canaryMetrics = canary?.1.servable.metrics
        var tally = PredictionTally(labelCount: serving.model.labels.count)
        var canaryTally = PredictionTally(labelCount: canary?.1.servable.model.labels.count ?? 0)
        // Arrays this thread used for earlier requests, when the monitor or those requests
        // gave them back (`ReusedStorage`, lent: a retained reference cost two atomic operations).
        let storage = ReusedStorage.perThread
        var predictions = storage.withCurrent { $0.predictions(capacity: listings.count) }
        var byCanary: [Bool]?
        // Term counts for input skew, made by the scoring pass (listings the serving version answers).
        let fields = serving.model.signature.fields.count
        var termCounts: [TermCount?]? = monitor?.countsTerms(of: serving) == true
            ? storage.withCurrent { $0.termCounts(count: listings.count * fields) } : nil
        func predictServing(_ i: Int) -> Prediction {
            guard termCounts != nil else { return serving.model.predict(listings[i]) }
            return serving.model.predict(listings[i], termCounts: &termCounts!, at: i * fields)
        }
        if let (weight, canaryHandle) = canary {
            var split = [Bool]()
            split.reserveCapacity(listings.count)
            let other = canaryHandle.servable
            for (i, listing) in listings.enumerated() {
                if CanarySplit.goesToCanary(id: serving.id(of: listing), weight: weight) {
                    let prediction = other.model.predict(other.values(listing, from: serving))
                    if canaryMetrics != nil { canaryTally.add(prediction) }
                    predictions.append(prediction)
                    split.append(true)
                } else {
                    let prediction = predictServing(i)
                    if metrics != nil { tally.add(prediction) }
                    predictions.append(prediction)
                    split.append(false)
                }
            }
            byCanary = split
        } else {
            for i in listings.indices {
                let prediction = predictServing(i)
                if metrics != nil { tally.add(prediction) }
                predictions.append(prediction)
            }
        }
        metrics?.record(tally)
        canaryMetrics?.record(canaryTally)
        var batch = Batch(handle: handle, listings: listings, results: predictions,
                          canary: canary?.1, byCanary: byCanary)
        batch.monitored = monitor?.submit(serving: serving, routing: routing, listings: listings.count) {
            MonitorJob.Contents(
                model: model, serving: handle, canary: canary?.1, byCanary: byCanary,
                shadow: routing?.shadow.flatMap { snapshot.handle(version: $0) }, routing: routing,
                listings: listings, predictions: predictions, termCounts: termCounts, requestID: requestID)
        } ?? false
        if !batch.monitored, termCounts != nil {
            storage.withCurrent { storage in
                guard let counts = termCounts.take() else { return }  // moved, not copied, into the storage
                storage.takeBack(termCounts: counts)
            }
        }
        return batch
    }

    /// Gives an answered request's listings and predictions back to this thread's storage,
    /// for its next requests, when no monitor job holds them (a job gives them back itself).
    func recycle(_ batch: consuming Batch<Prediction>) {
        guard !batch.monitored else { return }
        var listings: [[FeatureValue]] = [], predictions: [Prediction] = []
        swap(&listings, &batch.listings)
        swap(&predictions, &batch.results)
        ReusedStorage.perThread.withCurrent { $0.takeBack(listings: &listings, predictions: &predictions) }
    }

    /// As `predict`, with the features that raised and lowered each score. Explanations are
    /// not counted in the prediction metrics (they are a debugging aid, not traffic).
    /// `decode` gives the listings and the class to explain (nil: each listing's label).
    func explain(
        model: String, selector: VersionSelector, decode: (ServingModel) throws -> ([[FeatureValue]], Int?)
    ) throws -> Batch<Explanation> {
        var explained: Int?
        let (handle, listings) = try pinned(model: model, selector: selector) { serving in
            let (listings, classIndex) = try decode(serving)
            explained = classIndex
            return listings
        }
        let serving = handle.servable
        let explanations = listings.map { serving.model.explain($0, top: explainTopFeatures, class: explained) }
        return Batch(handle: handle, listings: listings, results: explanations)
    }
}
