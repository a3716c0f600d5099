import FoundationEssentials
import HTTPServer
import Inference
import Prometheus
import Registry
import Synchronization

/// The service's Prometheus metrics (`GET /metrics`). One `PrometheusCollectorRegistry` per
/// service, so tests can run several services in one process.
///
/// Cost on the request path: every handle a request touches is created ahead of time — per
/// route at registration (`route(method:pattern:documentedStatuses:)`), per model version
/// at load (`modelVersion(model:version:labels:)`). A request then does one dictionary
/// lookup by status code (an `Int`; error statuses take one more short lock), one atomic
/// add and one histogram record (two atomic adds, no lock) for its route, and for its
/// predictions a local tally added with one atomic add per label and one short lock,
/// whatever the batch size. Gauges that
/// mirror state (connections, in-flight, model versions, process figures) are computed when
/// `/metrics` is scraped, not per request.
///
/// Threads: handles are `Sendable` (atomics and locks inside swift-prometheus); the scrape
/// state is guarded by `scrape`.
public final class ServiceMetrics: Sendable {
    /// Where every Vigia metric lives; also the registry `vigia serve` hands to swift-metrics
    /// (`MetricsSystem.bootstrap`), so libraries' metrics appear on the same page.
    public let registry: PrometheusCollectorRegistry
    /// Latency buckets in seconds: 0.5 ms … 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Mirrors of counters kept elsewhere (HTTPServer atomics, process CPU), brought up to
    /// date at each scrape. Guarded by the Mutex (two scrapes may overlap).
    private let scrape = Mutex(ScrapeState())
    private struct ScrapeState {
        var mirrored: [ObjectIdentifier: Int64] = [:]
        var previousCPU: Double = 0
    }

    private let processStart: Double?

    public init() {
        registry = PrometheusCollectorRegistry()
        processStart = ProcessFigures.startTime()
        registry.makeGauge(descriptor: Self.name("vigia_build_info", "Build information; the value is always 1."),
                           labels: [("version", VigiaVersion.current)]).set(to: 1)
    }

    static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    // MARK: HTTP

    /// Handles for one route; `pattern` is the route pattern, never a raw path, so the label
    /// set is bounded by the route table.
    func route(method: String, pattern: String, documentedStatuses: [Int]) -> RouteMetrics {
        let labels = [("route", pattern), ("method", method)]
        // One histogram per route and method, however often the route table is built.
        let duration = routeDurations.withLock { routes in
            let key = "\(pattern)\u{0}\(method)"
            if let existing = routes[key] { return existing }
            let made = LatencyHistogram(labels: labels)
            routes[key] = made
            return made
        }
        return RouteMetrics(registry: registry, labels: labels, duration: duration, statuses: documentedStatuses)
    }

    /// Every route's latency histogram, by pattern and method, rendered at scrape time (they
    /// are not swift-prometheus histograms: see `LatencyHistogram`). Guarded by its Mutex,
    /// taken at registration and scrape only.
    private let routeDurations = Mutex<[String: LatencyHistogram]>([:])

    // MARK: Models

    /// Handles for one loaded model version, made by the loader off the request path. A
    /// version loaded again while its series are still kept continues them.
    public func modelVersion(model: String, version: Int, labels: [String]) -> ModelVersionMetrics {
        let key = "\(model)\u{0}\(version)"
        return versions.withLock { versions in
            if let existing = versions[key], existing.labels == labels { return existing }
            let made = ModelVersionMetrics(registry: registry, model: model, version: version, labels: labels)
            versions[key] = made
            return made
        }
    }

    /// Drops an unloaded version's series (its prediction counters and score histogram), so
    /// the label set stays bounded by the versions loaded now, not by every version a
    /// long-lived process has swapped through. Loaded again, it starts new series from zero
    /// (Prometheus reads that as a counter reset). A request still finishing on the version
    /// updates handles that are no longer exported.
    public func versionUnloaded(model: String, version: Int) {
        let removed = versions.withLock { $0.removeValue(forKey: "\(model)\u{0}\(version)") }
        removed?.unregister(from: registry)
    }

    /// Every loaded model version's handles, for rendering score histograms; an entry leaves
    /// when its version is unloaded (`versionUnloaded`). Guarded by its Mutex.
    private let versions = Mutex<[String: ModelVersionMetrics]>([:])
    static let scoreName = "vigia_prediction_score"
    static let scoreHelp = "Scores returned, by model and version, in buckets 0.05 wide (watch it shift after a rollout)."

    /// A version loaded and validated.
    public func loadSucceeded(model: String) {
        registry.makeCounter(descriptor: Self.loadSuccesses, labels: [("model", model)]).increment()
    }

    /// A version failed to load; `reason` is a stable code (`ArtifactError.Code`), never
    /// free text, so the label set stays small.
    public func loadFailed(model: String, reason: String) {
        registry.makeCounter(descriptor: Self.loadFailures, labels: [("model", model), ("reason", reason)]).increment()
    }

    static var loadSuccesses: MetricNameDescriptor { name("vigia_model_load_successes_total", "Model versions loaded and validated, by model.") }
    static var loadFailures: MetricNameDescriptor { name(
        "vigia_model_load_failures_total",
        "Model version loads that failed, by model and reason code (the ArtifactError code, e.g. checksum_mismatch).") }

    // MARK: Scrape

    /// The exposition page: brings the mirrored figures up to date, then renders.
    func exposition(server: ServerCounters, models: [ModelStatus], monitor: LiveMonitor? = nil, now: Date = Date()) -> [UInt8] {
        scrape.withLock { state in
            func mirror(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
                let counter = registry.makeCounter(descriptor: Self.name(name, help), labels: labels)
                let key = ObjectIdentifier(counter)
                let seen = state.mirrored[key] ?? 0
                if Int64(value) > seen {
                    counter.increment(by: Int64(value) - seen)
                    state.mirrored[key] = Int64(value)
                }
            }
            func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
                registry.makeGauge(descriptor: Self.name(name, help), labels: labels).set(value)
            }
            gauge("vigia_http_open_connections", "Client connections open now.",
                  Double(server.openConnections.load(ordering: .relaxed)))
            // Includes this scrape's own request.
            gauge("vigia_http_in_flight_requests", "Requests whose handler is running now (this scrape included).",
                  Double(server.inFlightRequests.load(ordering: .relaxed)))
            mirror("vigia_http_connections_accepted_total", "Client connections accepted since start.",
                   server.acceptedConnections.load(ordering: .relaxed))
            mirror("vigia_http_responses_total", "Responses written since start, routed or not (protocol errors, 404s, overload 503s).",
                   server.responsesSent.load(ordering: .relaxed))
            mirror("vigia_http_received_bytes_total", "Bytes read from client sockets.", server.bytesRead.load(ordering: .relaxed))
            mirror("vigia_http_sent_bytes_total", "Bytes written to client sockets.", server.bytesWritten.load(ordering: .relaxed))
            mirror("vigia_http_accept_pauses_total",
                   "Times a loop paused accepting for one back-off interval (0.1 s) because accept hit a descriptor or memory limit (EMFILE, ENFILE, ENOBUFS, ENOMEM).",
                   server.acceptPauses.load(ordering: .relaxed))
            let overloadHelp = "Connections or requests answered 503 + Retry-After because a limit was reached, by limit."
            mirror("vigia_http_overload_rejections_total", overloadHelp,
                   server.rejectedConnections.load(ordering: .relaxed), labels: [("limit", "max_connections")])
            mirror("vigia_http_overload_rejections_total", overloadHelp,
                   server.rejectedRequests.load(ordering: .relaxed), labels: [("limit", "max_in_flight")])
            let handshakeHelp = "TLS handshakes completed, by kind (full: certificate signature and key exchange; resumed: a session ticket or id)."
            mirror("vigia_tls_handshakes_total", handshakeHelp,
                   server.tlsFullHandshakes.load(ordering: .relaxed), labels: [("kind", "full")])
            mirror("vigia_tls_handshakes_total", handshakeHelp,
                   server.tlsResumedHandshakes.load(ordering: .relaxed), labels: [("kind", "resumed")])
            mirror("vigia_tls_handshake_failures_total", "TLS handshakes that failed or timed out (plain HTTP on the TLS port included).",
                   server.tlsHandshakeFailures.load(ordering: .relaxed))
            mirror("vigia_tls_idle_buffer_releases_total",
                   "Times a TLS connection idle for a second had its record buffers (about 34 KB) freed; busy connections keep theirs.",
                   server.tlsIdleBufferReleases.load(ordering: .relaxed))

            for status in models {
                let model = [("model", status.model)]
                let loaded = status.versions.filter { if case .available = $0.state { return true } else { return false } }
                gauge("vigia_model_versions_loaded", "Versions loaded and available (serving, previous, labelled), by model.",
                      Double(loaded.count), labels: model)
                gauge("vigia_model_serving_version", "The version the model's default route serves (0: none).",
                      Double(status.servingVersion ?? 0), labels: model)
                let published = status.versions.first { $0.version == status.servingVersion }?.publishedAt
                gauge("vigia_model_serving_version_age_seconds",
                      "Seconds since the serving version's directory was published (0: none serves).",
                      published.map { max(0, now.timeIntervalSince($0)) } ?? 0, labels: model)
            }

            if let monitor {
                let reports = monitor.reports()
                for status in models {
                    let model = [("model", status.model)]
                    let rollout = status.rollout
                    let canaryLive = rollout?.spec?.canary != nil && rollout?.abort == nil
                    gauge("vigia_rollout_canary_weight", "Share of listings the canary answers on this replica (0: none, or stopped).",
                          canaryLive ? rollout?.spec?.canary?.weight ?? 0 : 0, labels: model)
                    gauge("vigia_rollout_canary_aborted", "1 while the canary is stopped on this replica (a guard fired, or :abort).",
                          rollout?.abort == nil ? 0 : 1, labels: model)
                    guard let report = reports[status.model] else { continue }
                    mirror("vigia_rollout_automatic_aborts_total", "Canaries stopped by a guard, by model.", report.aborts, labels: model)
                    mirror("vigia_rollout_abort_record_failures_total",
                           "Guard aborts that could not be written to rollout-abort.json (kept in memory), by model.",
                           report.abortRecordFailures, labels: model)
                    mirror("vigia_monitor_skipped_listings_total",
                           "Listings the monitor skipped (shadow, comparisons, skew, payload) because its queue was full, by model.",
                           report.skipped, labels: model)
                    for (role, figures, version) in [("shadow", report.shadow, report.routing?.shadow),
                                                     ("canary", report.canary, report.routing?.canary?.version)] {
                        let labels = model + [("role", role)]
                        gauge("vigia_rollout_compared_listings",
                              "Listings scored by both the serving version and the shadow or canary since the rollout last changed.",
                              Double(version == nil ? 0 : figures.count), labels: labels)
                        guard version != nil else { continue }
                        gauge("vigia_rollout_agreement", "Share of compared listings with the serving version's label.",
                              figures.agreement, labels: labels)
                        gauge("vigia_rollout_mean_abs_delta", "Mean |score difference| against the serving version.",
                              figures.meanAbsDelta, labels: labels)
                        gauge("vigia_rollout_p99_abs_delta", "99th percentile of |score difference| against the serving version (to 0.001).",
                              figures.p99AbsDelta, labels: labels)
                        gauge("vigia_rollout_score_psi", "PSI of the shadow's or canary's scores against the serving version's.",
                              figures.psi, labels: labels)
                    }
                    for field in report.skew {
                        let labels = model + [("field", field.name)]
                        let total = report.skewTotals[field.name] ?? field.counts
                        mirror("vigia_input_listings_total", "Listings compared with the serving version's training profile, by field.",
                               total.observed, labels: labels)
                        mirror("vigia_input_missing_total", "Listings without the field (absent, null, non-finite).",
                               total.missing, labels: labels)
                        mirror("vigia_input_unseen_categories_total", "Categorical values the training data never had.",
                               total.unseen, labels: labels)
                        mirror("vigia_input_outside_range_total",
                               "Numbers (or text term counts) outside the training range; the listing still scores.",
                               total.outsideRange, labels: labels)
                        mirror("vigia_input_terms_total", "Text terms made of the field.", total.terms, labels: labels)
                        mirror("vigia_input_out_of_vocabulary_terms_total", "Text terms not in the serving version's vocabulary.",
                               total.outOfVocabulary, labels: labels)
                        gauge("vigia_input_psi", "PSI of the field's last monitoring.skew_window values against the training profile.",
                              field.psi ?? 0, labels: labels)
                    }
                }
                if let payload = monitor.payload {
                    let help = "Payload log lines, by outcome (written; dropped: the writer was behind; error: the write failed)."
                    mirror("vigia_payload_log_lines_total", help, payload.written.load(ordering: .relaxed), labels: [("outcome", "written")])
                    mirror("vigia_payload_log_lines_total", help, payload.dropped.load(ordering: .relaxed), labels: [("outcome", "dropped")])
                    mirror("vigia_payload_log_lines_total", help, payload.writeErrors.load(ordering: .relaxed), labels: [("outcome", "error")])
                    mirror("vigia_payload_log_rotations_total", "Payload log files rotated.", payload.rotations.load(ordering: .relaxed))
                }
            }

            let figures = ProcessFigures.read()
            if let rss = figures.residentBytes {
                gauge("process_resident_memory_bytes", "Resident memory size in bytes.", Double(rss))
            }
            if let fds = figures.openDescriptors {
                gauge("process_open_fds", "Open file descriptors.", Double(fds))
            }
            if let limit = figures.maxDescriptors {
                gauge("process_max_fds", "The soft limit on open file descriptors (RLIMIT_NOFILE).", Double(limit))
            }
            if let cpu = figures.cpuSeconds, cpu > state.previousCPU {
                registry.makeCounter(descriptor: Self.name("process_cpu_seconds_total", "User and system CPU time spent, in seconds."))
                    .increment(by: cpu - state.previousCPU)
                state.previousCPU = cpu
            }
            if let processStart {
                gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", processStart)
            }
            var page = registry.emitToBuffer()
            let durations = routeDurations.withLock { routes in routes.keys.sorted().map { routes[$0]! } }
            HistogramText.family(name: RouteMetrics.durationsName, help: RouteMetrics.durationsHelp, durations, into: &page)
            let scores = versions.withLock { versions in versions.keys.sorted().map { versions[$0]!.scores } }
            HistogramText.family(name: Self.scoreName, help: Self.scoreHelp, scores, into: &page)
            return page
        }
    }

    /// The Prometheus text format's content type.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// The handles one route updates per request, created at registration.
final class RouteMetrics: Sendable {
    private let duration: LatencyHistogram
    /// Counters for the success statuses this route documents, created up front: an
    /// immutable list of a few pairs, read without a lock (or a hash) on the hot path.
    /// (Pre-creating every error status too would put ~150 always-zero series on the page.)
    private let known: [(status: Int, counter: Counter)]
    /// Statuses outside `known` (errors), created on first use. Guarded by its Mutex.
    private let others: Mutex<[Int: Counter]>
    private let registry: PrometheusCollectorRegistry
    private let labels: [(String, String)]

    static var requests: MetricNameDescriptor { ServiceMetrics.name(
        "vigia_http_requests_total", "Requests handled by a route, by route pattern, method and status.") }
    static let durationsName = "vigia_http_request_duration_seconds"
    static let durationsHelp = "Time in the route's handler (parse to response), by route pattern and method."

    init(registry: PrometheusCollectorRegistry, labels: [(String, String)], duration: LatencyHistogram, statuses: [Int]) {
        self.registry = registry
        self.labels = labels
        self.duration = duration
        known = Set(statuses.filter { (200..<300).contains($0) }).sorted().map { status in
            (status, registry.makeCounter(descriptor: Self.requests, labels: labels + [("status", String(status))]))
        }
        others = Mutex([:])
    }

    func record(status: Int, nanoseconds elapsed: Int64) {
        duration.record(nanoseconds: elapsed)
        for entry in known where entry.status == status {
            entry.counter.increment()
            return
        }
        let labels = labels
        let registry = registry
        others.withLock { others in
            if let counter = others[status] { return counter }
            let counter = registry.makeCounter(descriptor: Self.requests, labels: labels + [("status", String(status))])
            others[status] = counter
            return counter
        }.increment()
    }
}

/// The handles one loaded model version updates, created at load time. A request tallies
/// its predictions locally (`PredictionTally`, no shared memory touched per listing) and
/// adds the tally once: two atomic adds and one short lock per request, whatever the batch
/// size.
public final class ModelVersionMetrics: Sendable {
    /// One counter per manifest label, in manifest order.
    private let byLabel: [Counter]
    let labels: [String]
    let scores: ScoreHistogram

    static var predictions: MetricNameDescriptor {
        ServiceMetrics.name("vigia_predictions_total", "Predictions made, by model, version and predicted label.")
    }

    init(registry: PrometheusCollectorRegistry, model: String, version: Int, labels: [String]) {
        let base = [("model", model), ("version", String(version))]
        self.labels = labels
        byLabel = labels.map { registry.makeCounter(descriptor: Self.predictions, labels: base + [("label", $0)]) }
        scores = ScoreHistogram(labels: base)
    }

    /// Removes this version's counters from the page (the histogram is rendered from
    /// `ServiceMetrics.versions`, which no longer lists it).
    func unregister(from registry: PrometheusCollectorRegistry) {
        for counter in byLabel { registry.unregisterCounter(counter) }
    }

    /// A fresh tally for one request's predictions.
    public func tally() -> PredictionTally { PredictionTally(labelCount: labels.count) }

    /// Adds one request's predictions.
    public func record(_ tally: borrowing PredictionTally) {
        guard tally.count > 0 else { return }
        for index in byLabel.indices {
            let count = tally.count(ofLabel: index)
            if count > 0 { byLabel[index].increment(by: Int64(count)) }
        }
        scores.add(tally)
    }
}

/// One request's predictions, counted on the stack of the handler: fixed-size storage, so a
/// request's tally allocates nothing unless the model has more than `inlineLabelCount` classes.
public struct PredictionTally: Sendable {
    /// Classes counted without the heap; the rest (rare: a model of many classes) in `moreByLabel`.
    static let inlineLabelCount = 16
    let labelCount: Int
    private var firstByLabel = InlineArray<16, Int>(repeating: 0)
    private var moreByLabel: [Int]
    /// Per bucket of `ScoreHistogram.bounds`, plus one for scores above the last.
    var buckets = InlineArray<21, Int>(repeating: 0)
    var sum: Double = 0
    var count: Int = 0

    public init(labelCount: Int) {
        self.labelCount = labelCount
        moreByLabel = labelCount > Self.inlineLabelCount ? [Int](repeating: 0, count: labelCount - Self.inlineLabelCount) : []
    }

    /// Predictions of the class at `index` in the model's class list.
    func count(ofLabel index: Int) -> Int {
        index < Self.inlineLabelCount ? firstByLabel[index] : moreByLabel[index - Self.inlineLabelCount]
    }

    private mutating func countLabel(_ index: Int) {
        guard index < labelCount else { return }
        if index < Self.inlineLabelCount {
            firstByLabel[index] += 1
        } else {
            moreByLabel[index - Self.inlineLabelCount] += 1
        }
    }

    /// `labels[1]` when positive, else `labels[0]` (the manifest's rule for two labels), or
    /// the multi-class label's position, so no label string is compared per listing. The
    /// counters are the model's class list, so the label values stay bounded by it.
    public mutating func add(_ prediction: Prediction) {
        count += 1
        sum += prediction.score
        buckets[ScoreHistogram.bucket(of: prediction.score)] += 1
        if let scores = prediction.classScores {
            countLabel(scores.labelIndex)
        } else if labelCount == 2 {
            countLabel(prediction.isPositive ? 1 : 0)
        }
    }
}

/// The score histogram of one model version, buckets 0.05 wide. Kept here rather than as a
/// swift-prometheus `Histogram` because that type takes its lock once per value; this one
/// takes a whole request's tally under one lock. Rendered into the same page at scrape time
/// in the standard histogram form (`_bucket{le=…}` cumulative, `_sum`, `_count`).
final class ScoreHistogram: Sendable {
    /// Upper bounds: 0.05, 0.10, … 1.00 (`PredictionTally.buckets` has one more element).
    static let bounds: [Double] = (1...20).map { Double($0) / 20 }
    /// The text format's `le` values, written once.
    private static let renderedBounds = bounds.map { "\($0)" }
    /// Rendered label text, e.g. `model="m",version="1"`.
    let renderedLabels: String
    private struct State {
        var buckets = [Int](repeating: 0, count: ScoreHistogram.bounds.count + 1)
        var sum: Double = 0
    }
    /// Guarded by the Mutex; held for one tally or one render.
    private let state = Mutex(State())

    init(labels: [(String, String)]) {
        renderedLabels = HistogramText.labels(labels)
    }

    /// The index of the first bound at or above `score` (`bounds.count`: above them all).
    static func bucket(of score: Double) -> Int {
        var index = min(max(Int((score * 20).rounded(.up)) - 1, 0), bounds.count)
        while index > 0, score <= bounds[index - 1] { index -= 1 }
        while index < bounds.count, score > bounds[index] { index += 1 }
        return index
    }

    /// The tally is read through a pointer: captured by the closure, every bucket read copied
    /// the whole tally (about 330 bytes, 21 copies a request).
    func add(_ tally: borrowing PredictionTally) {
        withUnsafePointer(to: tally) { tally in
            state.withLock { state in
                for index in 0..<tally.pointee.buckets.count { state.buckets[index] += tally.pointee.buckets[index] }
                state.sum += tally.pointee.sum
            }
        }
    }

    func render(name: String, into out: inout String) {
        let snapshot = state.withLock { $0 }
        HistogramText.samples(
            name: name, labels: renderedLabels, bounds: Self.renderedBounds, counts: snapshot.buckets,
            sum: "\(snapshot.sum)", into: &out)
    }
}
