import Glibc
import Synchronization
import Training

/// Progress of `vigia train` on stderr. On a terminal, long steps draw one bar line that is
/// redrawn in place (at most ten times a second) with elapsed time and ETA, and message lines
/// print above it; otherwise messages are plain lines and bars are not drawn.
/// Shared between the training thread and nothing else today, but the closures it backs are
/// `@Sendable`, so its state sits behind a `Mutex`.
final class TerminalProgress: Sendable {
    let isTerminal: Bool
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private struct State {
        var bar: String?
        var lastDraw: ContinuousClock.Instant?
        var taskStarts: [String: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    init(isTerminal: Bool = isatty(2) == 1) {
        self.isTerminal = isTerminal
        start = clock.now
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A message line, prefixed with the time since the command started.
    func line(_ message: String) {
        let text = "[\(formatSeconds(Self.seconds(clock.now - start)))] \(message)"
        state.withLock { state in
            if isTerminal, state.bar != nil {
                Console.raw("\r\u{1B}[K" + text + "\n" + state.bar!)
            } else {
                Console.error(text)
            }
        }
    }

    func update(_ update: ProgressUpdate) {
        guard isTerminal else { return }
        let now = clock.now
        state.withLock { state in
            let taskStart = state.taskStarts[update.task] ?? now
            state.taskStarts[update.task] = taskStart
            if !update.isFinished, let last = state.lastDraw, now - last < .milliseconds(100) { return }
            let bar = ProgressBar.render(update, elapsed: Self.seconds(now - taskStart))
            state.lastDraw = now
            if update.isFinished {
                Console.raw("\r\u{1B}[K" + bar + "\n")
                state.bar = nil
                state.taskStarts[update.task] = nil
            } else {
                Console.raw("\r\u{1B}[K" + bar)
                state.bar = bar
            }
        }
    }
}
