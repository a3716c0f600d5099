import Posix

/// Polls `condition` until it holds or `seconds` pass; true if it held. Between polls the
/// thread waits a few milliseconds instead of spinning, so a waiting test does not take CPU
/// from the server it waits for on a two-core machine. The bound only stops a hang: it is
/// generous because shared CI machines can stall a process for seconds.
public func eventually(within seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
    let pause = Latch(count: 1)
    while !condition() {
        if MonotonicClock.nanoseconds() > deadline { return false }
        _ = pause.wait(timeoutSeconds: 0.002)
    }
    return true
}
