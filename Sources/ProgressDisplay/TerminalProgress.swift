import Glibc
import Synchronization

/// Progress of a long command on stderr. On a terminal, long steps draw one bar line that is
/// redrawn in place (at most ten times a second) with elapsed time and ETA, and message lines
/// print above it; otherwise messages are plain lines and bars are not drawn.
/// Its closures are called from scoring and training threads, so its state sits behind a `Mutex`.
public final class TerminalProgress: Sendable {
    public let isTerminal: Bool
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    /// Where text goes, as is (no newline added): the command's stderr, or a test's capture.
    private let write: @Sendable (String) -> Void
    private struct State {
        var bar: String?
        var lastDraw: ContinuousClock.Instant?
        var taskStarts: [String: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    public init(isTerminal: Bool = isatty(2) == 1, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
        start = clock.now
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// Seconds with one decimal, for message lines: `12.3s`.
    public static func formatSeconds(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// A message line, prefixed with the time since the command started.
    public func line(_ message: String) {
        let text = "[\(Self.formatSeconds(Self.seconds(clock.now - start)))] \(message)"
        state.withLock { state in
            if isTerminal, let bar = state.bar {
                write("\r\u{1B}[K" + text + "\n" + bar)
            } else {
                write(text + "\n")
            }
        }
    }

    /// Draws the bar of `update` on a terminal (nothing otherwise); a finished step's bar stays
    /// as a line of its own.
    public func update(_ update: ProgressUpdate) {
        guard isTerminal else { return }
        let now = clock.now
        state.withLock { state in
            let taskStart = state.taskStarts[update.task] ?? now
            state.taskStarts[update.task] = taskStart
            if !update.isFinished, let last = state.lastDraw, now - last < .milliseconds(100) { return }
            let bar = ProgressBar.render(update, elapsed: Self.seconds(now - taskStart))
            state.lastDraw = now
            if update.isFinished {
                write("\r\u{1B}[K" + bar + "\n")
                state.bar = nil
                state.taskStarts[update.task] = nil
            } else {
                write("\r\u{1B}[K" + bar)
                state.bar = bar
            }
        }
    }
}
