import Posix

/// Response bodies a thread's routes build and its event loop has written, kept (emptied) for
/// the thread's next responses, so that a warm JSON answer allocates no body. A route takes one
/// (`take(capacity:)`) and says so on its response (`HTTPResponse.recyclesBody`); the event
/// loop gives it back once the body is copied into the connection's output (`giveBack`).
/// A body that someone else still holds is not reused in place: its next write copies it
/// (copy-on-write), which costs the allocation this saves and nothing else.
public enum ResponseBodies {
    /// Bodies kept a thread, and the largest capacity kept (a rare huge answer does not pin
    /// its memory).
    static let maxKept = 8
    static let maxKeptCapacity = 64 * 1024

    /// Confined to its thread (`PerThread`); boxed, for accesses without run-time exclusivity
    /// checks (`ConfinedBox`).
    private final class Shelf: Sendable {
        let bodies = ConfinedBox(ArrayShelf<UInt8>(
            maxArrays: maxKept, maxElements: maxKept * maxKeptCapacity, maxCapacity: maxKeptCapacity))
    }
    private static let perThread = PerThread { Shelf() }

    /// An empty body with room for `capacity` bytes: one this thread gave back, or a new one.
    public static func take(capacity: Int) -> [UInt8] {
        var body = perThread.withCurrent { $0.bodies.value.take() } ?? []
        body.reserveCapacity(capacity)
        return body
    }

    /// Takes the body of a written response (leaving it empty there) and keeps it, emptied.
    public static func giveBack(_ given: inout [UInt8]) {
        // Moved out inside the closure (see `RequestStorage.giveBack`).
        perThread.withCurrent { shelf in
            var body: [UInt8] = []
            swap(&body, &given)
            shelf.bodies.value.keep(consume body)
        }
    }

    /// Bodies kept on this thread now (tests).
    static var testsOnly_kept: Int { perThread.current.bodies.value.count }
}
