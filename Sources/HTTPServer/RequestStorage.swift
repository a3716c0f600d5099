import Posix

/// Header buffers and bodies of requests a thread has answered, kept (emptied) for the next
/// requests its event loop parses, so that a warm request allocates neither. The loop's
/// connections take them (`takeFieldBuffer`, `takeBody`); whoever holds an answered request
/// gives its parts back (`giveBack`: the service's route chain, once the handler has returned).
/// A part someone else still holds (a payload log, say) is not reused in place: emptying it
/// copies it, which costs the allocation this saves and nothing else.
public enum RequestStorage {
    /// Buffers and bodies kept a thread, and the largest of each kept (a rare huge request
    /// does not pin its memory).
    static let maxKept = 8
    static let maxKeptFieldBytes = 4 * 1024
    static let maxKeptBodyCapacity = 64 * 1024

    /// Confined to its thread (`PerThread`); boxed, for accesses without run-time exclusivity
    /// checks (`ConfinedBox`).
    private final class Shelf: Sendable {
        let fieldBuffers = ConfinedBox(ArrayShelf<UInt8>(
            maxArrays: maxKept, maxElements: maxKept * maxKeptFieldBytes, maxCapacity: maxKeptFieldBytes))
        let bodies = ConfinedBox(ArrayShelf<UInt8>(
            maxArrays: maxKept, maxElements: maxKept * maxKeptBodyCapacity, maxCapacity: maxKeptBodyCapacity))
    }
    private static let perThread = PerThread { Shelf() }

    /// An empty header buffer this thread gave back (`ReceivedFields`), or a new one without room.
    static func takeFieldBuffer() -> [UInt8] {
        perThread.withCurrent { $0.fieldBuffers.value.take() } ?? []
    }

    /// An empty body with room for `capacity` bytes (at most the largest kept): one this
    /// thread gave back, or a new one.
    static func takeBody(capacity: Int) -> [UInt8] {
        var body = perThread.withCurrent { $0.bodies.value.take() } ?? []
        body.reserveCapacity(min(capacity, maxKeptBodyCapacity))
        return body
    }

    /// Takes the header buffer and body of an answered request (leaving them empty there) and
    /// keeps them, emptied (the buffer zeroed), for this thread's next requests.
    public static func giveBack(_ request: inout HTTPRequest) {
        // Moved out inside the closure: an array captured by it would be passed as a copy, and
        // the kept one, shared, emptied into a new allocation.
        perThread.withCurrent { shelf in
            var body: [UInt8] = []
            swap(&body, &request.body)
            shelf.bodies.value.keep(consume body)
            if let buffer = request.head.headers.takeReceivedBuffer() { shelf.fieldBuffers.value.keep(buffer) }
        }
    }

    /// Lists and bodies kept on this thread now (tests).
    static var testsOnly_kept: (fields: Int, bodies: Int) {
        (perThread.current.fieldBuffers.value.count, perThread.current.bodies.value.count)
    }
}
