/// A run's counts against the committed baseline: any count more than `tolerance` above its
/// baseline fails, as do cases the baseline lacks or has in excess, and instructions the run
/// did not count. Counts that fell by more than `tolerance` pass, with a note that updating
/// the baseline keeps the gain.
public struct CostComparison: Equatable, Sendable {
    /// One count of one case.
    public struct Row: Equatable, Sendable {
        public enum Verdict: String, Equatable, Sendable {
            case within = "ok"
            case grew = "GREW"
            case shrank = "fell"
        }
        public var name: String
        public var metric: String
        public var baseline: Double
        public var current: Double
        public var verdict: Verdict
        /// current ÷ baseline − 1; nil when the baseline is 0.
        public var change: Double? { baseline == 0 ? nil : current / baseline - 1 }
    }

    public var tolerance: Double
    public var rows: [Row]
    /// Why the run cannot be compared in full (missing cases, counts not taken).
    public var problems: [String]

    public var failed: Bool { !problems.isEmpty || rows.contains { $0.verdict == .grew } }

    /// Default tolerance: 10 % growth over the baseline.
    public static let defaultTolerance = 0.10

    public init(baseline: CostReport, current: CostReport, tolerance: Double = defaultTolerance) {
        self.tolerance = tolerance
        rows = []
        problems = []
        for now in current.cases {
            guard let base = baseline[name: now.name] else {
                problems.append("\(now.name): not in the baseline")
                continue
            }
            var metrics: [(String, Double, Double)] = [
                ("allocations", base.allocations, now.allocations),
                ("allocated bytes", base.allocatedBytes, now.allocatedBytes),
            ]
            switch (base.instructions, now.instructions) {
            case let (b?, c?): metrics.insert(("instructions", b, c), at: 0)
            case (_?, nil): problems.append("\(now.name): instructions were not counted (run the benchmark under callgrind)")
            case (nil, _): problems.append("\(now.name): the baseline has no instruction count")
            }
            for (metric, b, c) in metrics {
                rows.append(Row(name: now.name, metric: metric, baseline: b, current: c,
                                verdict: Self.verdict(baseline: b, current: c, tolerance: tolerance)))
            }
        }
        for base in baseline.cases where current[name: base.name] == nil {
            problems.append("\(base.name): in the baseline but not measured")
        }
    }

    /// Grew: above baseline × (1 + tolerance) (so any count at all over a baseline of 0).
    /// Fell: below baseline × (1 − tolerance).
    static func verdict(baseline: Double, current: Double, tolerance: Double) -> Row.Verdict {
        if current > baseline * (1 + tolerance) { return .grew }
        if current < baseline * (1 - tolerance) { return .shrank }
        return .within
    }

    /// A markdown table, one row per count, then the problems.
    public var table: String {
        var lines = ["| case | count | baseline | now | change | |", "|---|---|---:|---:|---:|---|"]
        for row in rows {
            let change = row.change.map { percent($0) } ?? (row.current == 0 ? "0" : "new")
            let note = switch row.verdict {
            case .within: "ok"
            case .grew: "**grew more than \(percent(tolerance, signed: false))**"
            case .shrank: "fell more than \(percent(tolerance, signed: false)): update the baseline to keep it"
            }
            lines.append("| \(row.name) | \(row.metric) | \(formatCount(row.baseline)) | \(formatCount(row.current)) | \(change) | \(note) |")
        }
        lines += problems.map { "- \($0)" }
        return lines.joined(separator: "\n")
    }
}

extension CostReport {
    /// A markdown table of the counts per call.
    public var table: String {
        var lines = ["| case | calls | instructions | allocations | allocated bytes | what |", "|---|---:|---:|---:|---:|---|"]
        for c in cases {
            lines.append("| \(c.name) | \(c.iterations) | \(c.instructions.map(formatCount) ?? "–") | \(formatCount(c.allocations)) | \(formatCount(c.allocatedBytes)) | \(c.what) |")
        }
        return lines.joined(separator: "\n")
    }
}

/// 1234567 → "1,234,567"; 2.5 → "2.5".
func formatCount(_ value: Double) -> String {
    let whole = value.rounded(.towardZero)
    var digits = String(Int64(abs(whole)))
    var grouped = ""
    while digits.count > 3 {
        grouped = "," + digits.suffix(3) + grouped
        digits.removeLast(3)
    }
    grouped = (value < 0 ? "-" : "") + digits + grouped
    let fraction = ((abs(value) - abs(whole)) * 100).rounded()
    guard fraction > 0 else { return grouped }
    if fraction >= 100 { return formatCount(value < 0 ? whole - 1 : whole + 1) }
    let hundredths = Int(fraction)
    return grouped + "." + (hundredths % 10 == 0 ? String(hundredths / 10) : (hundredths < 10 ? "0" : "") + String(hundredths))
}

/// 0.1234 → "+12.3 %".
func percent(_ value: Double, signed: Bool = true) -> String {
    let tenths = (value * 1000).rounded() / 10
    let sign = signed && tenths > 0 ? "+" : ""
    let text = tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    return sign + text + " %"
}
