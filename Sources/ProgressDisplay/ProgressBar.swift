/// How far a long step has come: `done` of `total` units (folds, optimiser iterations).
public struct ProgressUpdate: Sendable, Equatable {
    /// What is running, e.g. `cross-validation` or `L-BFGS`.
    public var task: String
    public var done: Int
    /// For optimisers, the iteration cap: they may stop (converge) before it.
    public var total: Int
    /// A short figure to show next to the bar (the objective, a gap), or "".
    public var detail: String

    public init(task: String, done: Int, total: Int, detail: String = "") {
        self.task = task
        self.done = done
        self.total = total
        self.detail = detail
    }

    public var isFinished: Bool { done >= total }
}

/// A one-line progress bar with elapsed time and an estimate of the time left, as text for a
/// terminal: `L-BFGS       [######--------------]  30%  120/400  0:04 elapsed, ETA 0:09  objective 0.12`.
/// Pure: the caller measures the time and draws the line.
public enum ProgressBar {
    /// The estimated seconds left, assuming the remaining units take as long as the done ones
    /// did on average; nil before the first unit.
    public static func secondsLeft(done: Int, total: Int, elapsed: Double) -> Double? {
        guard done > 0, elapsed >= 0 else { return nil }
        return elapsed / Double(done) * Double(max(0, total - done))
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    public static func clock(_ seconds: Double) -> String {
        let whole = Int(max(0, seconds).rounded())
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return h > 0 ? "\(h):\(two(m)):\(two(s))" : "\(m):\(two(s))"
    }

    public static func render(_ update: ProgressUpdate, elapsed: Double, width: Int = 24) -> String {
        let total = max(1, update.total)
        let done = min(max(0, update.done), total)
        let filled = width * done / total
        let percent = 100 * done / total
        var line = update.task + String(repeating: " ", count: max(0, 14 - update.task.count))
        line += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        line += String(repeating: " ", count: percent < 10 ? 2 : percent < 100 ? 1 : 0) + "\(percent)%  \(done)/\(total)  "
        line += clock(elapsed) + " elapsed"
        if done < total {
            line += ", ETA " + (secondsLeft(done: done, total: total, elapsed: elapsed).map(clock) ?? "?")
        }
        if !update.detail.isEmpty { line += "  " + update.detail }
        return line
    }
}
