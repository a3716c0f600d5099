import Synchronization

/// Decides which requests get an access-log line (`logging.access_log_sample_rate`).
///
/// Deterministic and evenly spread: request n (counted per route) is logged when
/// ⌊n·rate⌋ grows, so a rate of 0.25 logs every fourth request exactly, with no random
/// number per request. Answers of 500 and above are always logged, whatever the rate.
/// Shared by the loop threads of one route; the counter is an atomic.
final class AccessLogSampler: Sendable {
    let rate: Double
    private let seen = Atomic<UInt64>(0)

    /// `rate` is clamped to 0…1; default 1 logs every request.
    init(rate: Double = 1) {
        self.rate = min(1, max(0, rate))
    }

    func shouldLog(status: Int) -> Bool {
        if status >= 500 || rate >= 1 { return true }
        if rate <= 0 { return false }
        let n = seen.wrappingAdd(1, ordering: .relaxed).newValue
        return (Double(n) * rate).rounded(.down) > (Double(n - 1) * rate).rounded(.down)
    }
}
