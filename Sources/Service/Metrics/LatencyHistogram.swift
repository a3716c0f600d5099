import Synchronization

/// A route's handler latency: recording is two relaxed atomic adds, no lock, so the event
/// loops never wait for each other (or for a scrape) to count a request. swift-prometheus's
/// histogram takes a lock and walks every bucket per value; this one counts into the one
/// bucket the duration falls in and makes the buckets cumulative when rendered.
///
/// A scrape reads the buckets one by one while requests go on, so it may see a request in
/// `_count` whose duration is not yet in `_sum` (or the reverse); `_count` is the sum of the
/// buckets read, so the `+Inf` bucket and `_count` always agree, and every figure only grows.
final class LatencyHistogram: Sendable {
    /// Upper bounds in nanoseconds, ascending: `ServiceMetrics.durationBuckets`.
    static let boundsInNanoseconds: [Int64] = ServiceMetrics.durationBuckets.map(nanoseconds)
    /// The text format's `le` values, written once (e.g. `0.0005`, `1.0`, `10.0`).
    private static let renderedBounds: [String] = boundsInNanoseconds.map(secondsText)

    /// Label text, e.g. `route="/health/live",method="GET"`.
    let renderedLabels: String
    /// One per bound, then one for durations above the last bound; not cumulative.
    private let counts = InlineArray<15, Atomic<Int>> { _ in Atomic(0) }
    private let sumNanoseconds = Atomic<Int64>(0)

    init(labels: [(String, String)]) {
        precondition(Self.boundsInNanoseconds.count == 14, "LatencyHistogram.counts has one slot per bound plus one")
        renderedLabels = HistogramText.labels(labels)
    }

    func record(_ elapsed: Duration) {
        record(nanoseconds: Self.nanoseconds(elapsed))
    }

    /// The request path's form: whole nanoseconds from the monotonic clock, no `Duration`
    /// to take apart (its components cost a 128-bit division).
    func record(nanoseconds elapsed: Int64) {
        let value = max(0, elapsed)
        counts[Self.bucket(ofNanoseconds: value)].add(1, ordering: .relaxed)
        sumNanoseconds.add(value, ordering: .relaxed)
    }

    /// The first bound at or above `value` (`le` is inclusive), or the overflow slot.
    static func bucket(ofNanoseconds value: Int64) -> Int {
        var index = 0
        while index < boundsInNanoseconds.count, value > boundsInNanoseconds[index] { index += 1 }
        return index
    }

    /// The histogram's sample lines in the text format (the caller writes `# HELP`/`# TYPE`).
    func render(name: String, into out: inout String) {
        HistogramText.samples(
            name: name, labels: renderedLabels, bounds: Self.renderedBounds,
            counts: counts.indices.map { counts[$0].load(ordering: .relaxed) },
            sum: Self.secondsText(sumNanoseconds.load(ordering: .relaxed)), into: &out)
    }

    /// Whole nanoseconds, saturating (a duration is never near 292 years here).
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : whole &+ attoseconds / 1_000_000_000
    }

    /// Nanoseconds as exact decimal seconds, at least one fractional digit: `0.0005`, `1.0`,
    /// `12.345678901` (what swift-prometheus writes for a Duration, without a Double between).
    static func secondsText(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        guard fraction != 0 else { return "\(seconds).0" }
        var digits = 9
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return "\(seconds)." + String(repeating: "0", count: digits - text.count) + text
    }
}

/// The Prometheus text format of a histogram, for the histograms vigia renders itself
/// (`ScoreHistogram`, `LatencyHistogram`).
enum HistogramText {
    /// `a="x",b="y"`, values escaped as the format wants (backslash, double quote, newline).
    static func labels(_ labels: [(String, String)]) -> String {
        labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    static func escape(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    /// `# HELP`, `# TYPE` and each histogram's samples; nothing when there is none.
    static func family(name: String, help: String, _ histograms: [any RenderedHistogram], into page: inout [UInt8]) {
        guard !histograms.isEmpty else { return }
        var text = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for histogram in histograms { histogram.render(name: name, into: &text) }
        page.append(contentsOf: text.utf8)
    }

    /// Cumulative `_bucket` lines from per-bucket `counts` (one per bound, then the overflow),
    /// `+Inf` and `_count` their total (so the two always agree), then `_sum`.
    static func samples(name: String, labels: String, bounds: [String], counts: [Int], sum: String, into out: inout String) {
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            out += "\(name)_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += counts[bounds.count]
        out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(cumulative)\n"
        out += "\(name)_sum{\(labels)} \(sum)\n"
        out += "\(name)_count{\(labels)} \(cumulative)\n"
    }
}

/// A histogram that writes its own sample lines.
protocol RenderedHistogram: Sendable {
    func render(name: String, into out: inout String)
}

extension LatencyHistogram: RenderedHistogram {}
extension ScoreHistogram: RenderedHistogram {}
