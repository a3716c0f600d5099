import FoundationEssentials
import Inference
import Registry
import Synchronization

/// The process's request figures at one moment, cumulative since start, as `GET /metrics`
/// exports them: the console's rates are differences between two points.
struct ConsolePoint: Sendable, Equatable {
    /// Seconds since an arbitrary origin (a monotonic clock).
    var time: Double
    var requests: Double
    /// Requests answered 5xx.
    var serverErrors: Double
    /// Cumulative latency buckets of every route: upper bound (seconds) → requests at or under it.
    var latency: [(bound: Double, count: Double)]

    static func == (a: ConsolePoint, b: ConsolePoint) -> Bool {
        a.time == b.time && a.requests == b.requests && a.serverErrors == b.serverErrors
            && a.latency.map(\.bound) == b.latency.map(\.bound) && a.latency.map(\.count) == b.latency.map(\.count)
    }

    /// The figures in `samples` (the service's own exposition) at `time`.
    init(time: Double, samples: [MetricSample]) {
        self.time = time
        requests = samples.sum("vigia_http_requests_total")
        serverErrors = samples.sum("vigia_http_requests_total") { $0["status"]?.first == "5" }
        var buckets: [Double: Double] = [:]
        for sample in samples where sample.name == "vigia_http_request_duration_seconds_bucket" {
            guard let bound = sample.labels["le"].flatMap({ $0 == "+Inf" ? .infinity : Double($0) }) else { continue }
            buckets[bound, default: 0] += sample.value
        }
        latency = buckets.sorted { $0.key < $1.key }.map { (bound: $0.key, count: $0.value) }
    }

    init(time: Double, requests: Double, serverErrors: Double, latency: [(bound: Double, count: Double)]) {
        self.time = time
        self.requests = requests
        self.serverErrors = serverErrors
        self.latency = latency
    }
}

/// What happened between two points: requests per second, the share answered 5xx and the
/// 99th percentile latency (nil without requests in between).
struct ConsoleInterval: Sendable, Equatable {
    var end: Double
    var requestsPerSecond: Double
    var errorRatio: Double?
    var p99Seconds: Double?

    static func between(_ a: ConsolePoint, _ b: ConsolePoint) -> ConsoleInterval? {
        let seconds = b.time - a.time
        guard seconds > 0, b.requests >= a.requests else { return nil }
        let requests = b.requests - a.requests
        let buckets = zip(a.latency, b.latency).map { (bound: $1.bound, count: $1.count - $0.count) }
        return ConsoleInterval(
            end: b.time, requestsPerSecond: requests / seconds,
            errorRatio: requests > 0 ? (b.serverErrors - a.serverErrors) / requests : nil,
            p99Seconds: a.latency.map(\.bound) == b.latency.map(\.bound) ? HistogramMath.quantile(0.99, cumulative: buckets) : nil)
    }
}

/// Quantiles and bins of Prometheus-style cumulative histograms. Pure.
enum HistogramMath {
    /// The `q` quantile by linear interpolation inside the bucket that holds it, as
    /// Prometheus' `histogram_quantile` does; the highest finite bound when it falls in +Inf;
    /// nil without observations.
    static func quantile(_ q: Double, cumulative buckets: [(bound: Double, count: Double)]) -> Double? {
        guard let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0, lowerCount = 0.0
        for (bound, count) in buckets {
            if count >= rank {
                if bound.isInfinite { return lowerBound }
                let inside = count - lowerCount
                return inside > 0 ? lowerBound + (bound - lowerBound) * (rank - lowerCount) / inside : bound
            }
            lowerBound = bound.isInfinite ? lowerBound : bound
            lowerCount = count
        }
        return lowerBound
    }

    /// Per-bin counts from cumulative buckets sorted by bound (the +Inf bucket, when it adds
    /// nothing past the last finite bound, is dropped).
    static func bins(cumulative buckets: [(bound: Double, count: Double)]) -> [(upper: Double, count: Double)] {
        var previous = 0.0
        var bins: [(upper: Double, count: Double)] = []
        for (bound, count) in buckets {
            if bound.isInfinite, count - previous == 0 { continue }
            bins.append((upper: bound, count: max(0, count - previous)))
            previous = count
        }
        return bins
    }
}

/// The last points the console has seen (at most `capacity`, at least `minimumSpacing`
/// seconds apart), so a page shows rates over the last minutes. Shared by every request
/// thread that renders the console; guarded by its Mutex.
final class ConsoleHistory: Sendable {
    let capacity: Int
    let minimumSpacing: Double
    private let points = Mutex<[ConsolePoint]>([])

    init(capacity: Int = 120, minimumSpacing: Double = 1) {
        self.capacity = capacity
        self.minimumSpacing = minimumSpacing
    }

    /// Adds `point` (unless the last one is too recent) and returns the history.
    func record(_ point: ConsolePoint) -> [ConsolePoint] {
        points.withLock { points in
            if let last = points.last, point.time - last.time < minimumSpacing { return points }
            points.append(point)
            if points.count > capacity { points.removeFirst(points.count - capacity) }
            return points
        }
    }
}

/// `GET /console`: one self-contained HTML page (inline CSS and SVG; no script, no external
/// asset) that reloads itself every `refreshSeconds`. Pure: statuses, the service's own
/// metric samples and the recent points in, HTML out.
struct ConsolePage {
    static let contentType = "text/html; charset=utf-8"
    var statuses: [ModelStatus]
    var samples: [MetricSample]
    var history: [ConsolePoint]
    var now: Date
    var refreshSeconds: Int = 5

    func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,">
            <title>Vigia console</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}
            h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
            h3{font-size:1em;margin:1em 0 .3em}table{border-collapse:collapse;margin:.3em 0}
            th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}th{background:#eee}
            .serving{font-weight:bold;color:#0a6b2d}.failed{color:#b00020}.muted{color:#666}
            .charts{display:flex;flex-wrap:wrap;gap:1.2em}.chart{background:#fff;border:1px solid #ddd}
            .bar{fill:#4a78b5}.bar.now{fill:#0a6b2d}.line{fill:none;stroke:#4a78b5;stroke-width:2}
            .axis{stroke:#999;stroke-width:1}text{font-size:10px;fill:#444}
            </style></head><body>
            <h1>Vigia console</h1>
            <p class="muted">\(Self.escape(ISO8601Format.string(now))) · reloads every \(refreshSeconds) s · figures from this replica's own metrics</p>

            """
        html += traffic()
        for status in statuses.sorted(by: { $0.model < $1.model }) { html += model(status) }
        if statuses.isEmpty { html += "<p>No model in storage.</p>\n" }
        html += "</body></html>\n"
        return html
    }

    // MARK: Traffic

    func traffic() -> String {
        let intervals = zip(history, history.dropFirst()).compactMap { ConsoleInterval.between($0, $1) }
        var html = "<h2>Traffic</h2>\n"
        let total = samples.sum("vigia_http_requests_total")
        let errors = samples.sum("vigia_http_requests_total") { $0["status"]?.first == "5" }
        html += "<p>\(Self.format(total, digits: 0)) requests since start, \(Self.format(errors, digits: 0)) answered 5xx"
        if let last = intervals.last {
            html += "; last \(Self.format(last.end - (history.dropLast().last?.time ?? last.end), digits: 0)) s: <span id=\"request-rate\">\(Self.format(last.requestsPerSecond, digits: 2))</span> req/s"
            if let ratio = last.errorRatio { html += ", \(Self.format(100 * ratio, digits: 1)) % 5xx" }
            if let p99 = last.p99Seconds { html += ", p99 \(Self.format(1000 * p99, digits: 1)) ms" }
        }
        html += ".</p>\n"
        guard intervals.count >= 1 else {
            return html + "<p class=\"muted\">Rates appear after the next reload (they are differences between two reloads).</p>\n"
        }
        let start = intervals.first!.end
        html += "<div class=\"charts\">\n"
        html += Self.lineChart(id: "chart-request-rate", title: "requests per second",
                               points: intervals.map { ($0.end - start, $0.requestsPerSecond) }, unit: "")
        html += Self.lineChart(id: "chart-error-rate", title: "5xx share (%)",
                               points: intervals.compactMap { i in i.errorRatio.map { (i.end - start, 100 * $0) } }, unit: "%")
        html += Self.lineChart(id: "chart-latency", title: "p99 latency (ms)",
                               points: intervals.compactMap { i in i.p99Seconds.map { (i.end - start, 1000 * $0) } }, unit: "ms")
        return html + "</div>\n"
    }

    // MARK: Models

    func model(_ status: ModelStatus) -> String {
        let name = Self.escape(status.model)
        var html = "<h2 id=\"model-\(name)\">Model \(name)</h2>\n<p>Serving version: "
        if let serving = status.servingVersion {
            html += "<span class=\"serving\" id=\"serving-\(name)\">\(serving)</span>"
        } else {
            html += "<span class=\"failed\" id=\"serving-\(name)\">none</span>"
        }
        if status.pinned { html += " (pinned by an admin)" }
        if let pin = status.storagePin { html += " · pin.json asks for \(pin)" }
        if let issue = status.storagePinIssue { html += " <span class=\"failed\">(\(Self.escape(issue)))</span>" }
        if let previous = status.previousVersion { html += " · previous (rollback) \(previous)" }
        let labels = status.labels.sorted { $0.key < $1.key }.map { "\(Self.escape($0.key)) → \($0.value)" }
        html += " · labels: " + (labels.isEmpty ? "none" : labels.joined(separator: ", "))
        for (label, version) in status.pendingLabels.sorted(by: { $0.key < $1.key }) {
            html += " · <span class=\"muted\">\(Self.escape(label)) waits for \(version)</span>"
        }
        html += "</p>\n"
        for problem in [status.storageError, status.labelsFileError].compactMap({ $0 }) {
            html += "<p class=\"failed\">\(Self.escape(problem))</p>\n"
        }

        html += "<table class=\"versions\"><tr><th>version</th><th>state</th><th>labels</th><th>published</th><th>loaded</th><th>load error</th></tr>\n"
        for version in status.versions {
            let state = version.version == status.servingVersion ? "serving" : version.state.name
            let cssClass = state == "serving" ? "serving" : state == "failed" ? "failed" : ""
            html += "<tr data-version=\"\(version.version)\"><td>\(version.version)</td><td class=\"\(cssClass)\">\(state)"
            if !version.inStorage { html += " (not in storage)" }
            html += "</td><td>\(Self.escape(version.labels.joined(separator: ", ")))</td>"
            html += "<td>\(version.publishedAt.map { Self.escape(ISO8601Format.string($0)) } ?? "")</td>"
            html += "<td>\(version.loadedAt.map { Self.escape(ISO8601Format.string($0)) } ?? "")</td>"
            var problem = version.error ?? ""
            if case .failed(let reason) = version.state, problem.isEmpty { problem = reason }
            if version.attempts > 1, !problem.isEmpty { problem += " (\(version.attempts) attempts)" }
            html += "<td class=\"failed\">\(Self.escape(problem))</td></tr>\n"
        }
        html += "</table>\n"
        html += rollout(status)
        html += skew(status.model)
        html += scoreHistograms(status)
        return html
    }

    func rollout(_ status: ModelStatus) -> String {
        var html = "<h3>Rollout</h3>\n"
        guard let rollout = status.rollout else { return html + "<p class=\"muted\">No rollout.</p>\n" }
        var parts: [String] = []
        if let shadow = rollout.spec?.shadow { parts.append("shadow \(shadow)") }
        if let canary = rollout.spec?.canary { parts.append("canary \(canary.version) at \(Self.format(100 * canary.weight, digits: 1)) %") }
        if let source = rollout.source { parts.append("from \(Self.escape("\(source)"))") }
        html += "<p>" + (parts.isEmpty ? "No shadow or canary." : parts.joined(separator: " · "))
        if let abort = rollout.abort {
            let by = abort.earlier ? " by an earlier guard abort (rollout-abort.json)" : abort.automatic ? " by a guard" : ""
            html += " · <span class=\"failed\">canary stopped\(by): \(Self.escape(abort.reason))</span>"
            if let problem = abort.recordError { html += " <span class=\"failed\">(held in memory only: \(Self.escape(problem)))</span>" }
        }
        html += "</p>\n"
        for problem in [rollout.fileError].compactMap({ $0 }) + rollout.issues {
            html += "<p class=\"failed\">\(Self.escape(problem))</p>\n"
        }
        let rows = samples.filter { $0.name == "vigia_rollout_compared_listings" && $0.labels["model"] == status.model }
            .compactMap { $0.labels["role"] }.sorted()
        guard !rows.isEmpty else { return html }
        html += "<table class=\"rollout\"><tr><th>role</th><th>compared listings</th><th>label agreement</th><th>mean |Δscore|</th><th>p99 |Δscore|</th><th>score PSI</th></tr>\n"
        for role in rows {
            func figure(_ name: String, digits: Int) -> String {
                let matching = samples.first { $0.name == name && $0.labels["model"] == status.model && $0.labels["role"] == role }
                return matching.map { Self.format($0.value, digits: digits) } ?? ""
            }
            html += "<tr><td>\(Self.escape(role))</td><td>\(figure("vigia_rollout_compared_listings", digits: 0))</td>"
            html += "<td>\(figure("vigia_rollout_agreement", digits: 4))</td><td>\(figure("vigia_rollout_mean_abs_delta", digits: 4))</td>"
            html += "<td>\(figure("vigia_rollout_p99_abs_delta", digits: 3))</td><td>\(figure("vigia_rollout_score_psi", digits: 4))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    func skew(_ model: String) -> String {
        let fields = Set(samples.filter { $0.name == "vigia_input_listings_total" && $0.labels["model"] == model }.compactMap { $0.labels["field"] }).sorted()
        guard !fields.isEmpty else { return "" }
        var html = "<h3>Input skew against the training profile</h3>\n<table class=\"skew\"><tr><th>field</th><th>listings</th><th>missing</th><th>unseen categories</th><th>outside range</th><th>out-of-vocabulary terms</th><th>PSI</th></tr>\n"
        for field in fields {
            func value(_ name: String) -> Double {
                samples.sum(name) { $0["model"] == model && $0["field"] == field }
            }
            let listings = value("vigia_input_listings_total"), terms = value("vigia_input_terms_total")
            func share(_ count: Double, of total: Double) -> String {
                total > 0 ? "\(Self.format(count, digits: 0)) (\(Self.format(100 * count / total, digits: 1)) %)" : Self.format(count, digits: 0)
            }
            html += "<tr><td>\(Self.escape(field))</td><td>\(Self.format(listings, digits: 0))</td>"
            html += "<td>\(share(value("vigia_input_missing_total"), of: listings))</td>"
            html += "<td>\(share(value("vigia_input_unseen_categories_total"), of: listings))</td>"
            html += "<td>\(share(value("vigia_input_outside_range_total"), of: listings))</td>"
            html += "<td>\(terms > 0 ? share(value("vigia_input_out_of_vocabulary_terms_total"), of: terms) : "")</td>"
            html += "<td>\(Self.format(value("vigia_input_psi"), digits: 4))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    func scoreHistograms(_ status: ModelStatus) -> String {
        var byVersion: [String: [(bound: Double, count: Double)]] = [:]
        for sample in samples where sample.name == "vigia_prediction_score_bucket" && sample.labels["model"] == status.model {
            guard let version = sample.labels["version"], let bound = sample.labels["le"].flatMap({ $0 == "+Inf" ? .infinity : Double($0) }) else { continue }
            byVersion[version, default: []].append((bound: bound, count: sample.value))
        }
        var html = "<h3>Scores by version</h3>\n"
        guard !byVersion.isEmpty else { return html + "<p class=\"muted\">No scores yet.</p>\n" }
        html += "<div class=\"charts\">\n"
        for (version, buckets) in byVersion.sorted(by: { (Int($0.key) ?? 0) > (Int($1.key) ?? 0) }) {
            let bins = HistogramMath.bins(cumulative: buckets.sorted { $0.bound < $1.bound })
            let total = bins.reduce(0) { $0 + $1.count }
            let serving = Int(version) == status.servingVersion
            html += Self.barChart(
                id: "chart-scores-\(Self.escape(status.model))-\(Self.escape(version))",
                title: "version \(Self.escape(version))\(serving ? " (serving)" : ""): \(Self.format(total, digits: 0)) scores",
                bins: bins, highlight: serving)
        }
        return html + "</div>\n"
    }

    // MARK: SVG

    static let chartWidth = 320.0, chartHeight = 150.0, margin = 28.0

    /// A line over `points` (x in seconds from the first interval), y from 0 to the maximum.
    static func lineChart(id: String, title: String, points: [(Double, Double)], unit: String) -> String {
        let plotWidth = chartWidth - 2 * margin, plotHeight = chartHeight - 2 * margin
        let xMax = max(points.map(\.0).max() ?? 1, 1), yMax = max(points.map(\.1).max() ?? 0, 1e-9)
        var svg = "<svg class=\"chart\" id=\"\(id)\" role=\"img\" width=\"\(Int(chartWidth))\" height=\"\(Int(chartHeight))\" viewBox=\"0 0 \(Int(chartWidth)) \(Int(chartHeight))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title>\(escape(title))</title><text x=\"\(margin)\" y=\"14\">\(escape(title))</text>"
        svg += "<line class=\"axis\" x1=\"\(margin)\" y1=\"\(chartHeight - margin)\" x2=\"\(chartWidth - margin)\" y2=\"\(chartHeight - margin)\"/>"
        svg += "<line class=\"axis\" x1=\"\(margin)\" y1=\"\(margin)\" x2=\"\(margin)\" y2=\"\(chartHeight - margin)\"/>"
        svg += "<text x=\"2\" y=\"\(margin + 4)\">\(format(yMax, digits: yMax < 10 ? 2 : 0))</text><text x=\"\(margin - 10)\" y=\"\(chartHeight - margin + 4)\">0</text>"
        svg += "<text x=\"\(chartWidth - margin - 40)\" y=\"\(chartHeight - 8)\">\(format(xMax, digits: 0)) s</text>"
        let coordinates = points.map { point in
            "\(format(margin + plotWidth * point.0 / xMax, digits: 1)),\(format(chartHeight - margin - plotHeight * point.1 / yMax, digits: 1))"
        }
        if coordinates.count == 1 {
            let xy = coordinates[0].split(separator: ",")
            svg += "<circle class=\"point\" cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"#4a78b5\"/>"
        } else if !coordinates.isEmpty {
            svg += "<polyline class=\"line\" points=\"\(coordinates.joined(separator: " "))\"/>"
        } else {
            svg += "<text x=\"\(margin + 10)\" y=\"\(chartHeight / 2)\">no requests</text>"
        }
        return svg + "</svg>\n"
    }

    /// One bar per bin (score ranges 0…1), heights as shares of the version's scores.
    static func barChart(id: String, title: String, bins: [(upper: Double, count: Double)], highlight: Bool) -> String {
        let plotWidth = chartWidth - 2 * margin, plotHeight = chartHeight - 2 * margin
        let total = bins.reduce(0) { $0 + $1.count }
        let tallest = max(bins.map(\.count).max() ?? 0, 1)
        var svg = "<svg class=\"chart\" id=\"\(id)\" role=\"img\" width=\"\(Int(chartWidth))\" height=\"\(Int(chartHeight))\" viewBox=\"0 0 \(Int(chartWidth)) \(Int(chartHeight))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title>\(title)</title><text x=\"\(margin)\" y=\"14\">\(title)</text>"
        svg += "<line class=\"axis\" x1=\"\(margin)\" y1=\"\(chartHeight - margin)\" x2=\"\(chartWidth - margin)\" y2=\"\(chartHeight - margin)\"/>"
        svg += "<text x=\"\(margin - 4)\" y=\"\(chartHeight - margin + 12)\">0</text><text x=\"\(chartWidth - margin - 4)\" y=\"\(chartHeight - margin + 12)\">1</text>"
        var lower = 0.0
        for bin in bins {
            let upper = bin.upper.isInfinite ? 1 : min(bin.upper, 1)
            let height = plotHeight * bin.count / tallest
            let x = margin + plotWidth * lower, width = max(plotWidth * (upper - lower) - 1, 1)
            let share = total > 0 ? 100 * bin.count / total : 0
            svg += "<rect class=\"bar\(highlight ? " now" : "")\" x=\"\(format(x, digits: 1))\" y=\"\(format(chartHeight - margin - height, digits: 1))\" width=\"\(format(width, digits: 1))\" height=\"\(format(height, digits: 1))\">"
            svg += "<title>\(format(lower, digits: 2))–\(format(upper, digits: 2)): \(format(bin.count, digits: 0)) (\(format(share, digits: 1)) %)</title></rect>"
            lower = upper
        }
        return svg + "</svg>\n"
    }

    // MARK: Text

    static func escape(_ text: String) -> String { escapeHTML(text) }

    /// Fixed digits, no locale (`1234.5` → "1234.50" with 2 digits); "–" for a non-finite value.
    static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 1e18 else { return "\(value)" }
        let units = Int64(scaled)
        let whole = units / Int64(scale), fraction = units % Int64(scale)
        var text = (value < 0 && units != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return text
    }
}

/// `2026-12-04T14:00:00Z`.
enum ISO8601Format {
    static func string(_ date: Date) -> String { date.formatted(.iso8601) }
}
