import Glibc
import Posix

/// Where requests to terminate come from. `vigia serve` uses the process's SIGTERM and
/// SIGINT; tests use a source of their own, since signal handlers are shared by everything in
/// a process and two tests raising signals at once would read each other's.
public protocol TerminationSource: Sendable {
    /// Blocks until the next termination request, or until `timeout` passes (nil: no limit);
    /// the request's name (e.g. "SIGTERM"), or nil when the time ran out.
    func next(timeout: Duration?) -> String?
}

/// SIGTERM and SIGINT of this process (handlers installed on first use).
public struct ProcessSignals: TerminationSource {
    public init() {}

    public func next(timeout: Duration?) -> String? {
        do {
            let signo: Int32?
            if let timeout {
                signo = try Signals.waitForTermination(timeout: timeout)
            } else {
                signo = try Signals.waitForTermination()
            }
            return signo.map(Self.name)
        } catch {
            // No handler could be installed: nothing can ask us to stop but this failure.
            return "no signal handling (\(error))"
        }
    }

    static func name(_ signo: Int32) -> String {
        switch signo {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(signo)"
        }
    }
}
