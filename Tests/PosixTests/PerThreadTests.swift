import Synchronization
import Testing
@testable import Posix

/// Counts the objects alive, so that a test sees each thread's object released at its exit.
private final class Tracked: @unchecked Sendable {
    static let alive = Atomic<Int>(0)
    let thread = PosixThread.currentID()
    init() { Self.alive.add(1, ordering: .relaxed) }
    deinit { Self.alive.subtract(1, ordering: .relaxed) }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct PerThreadTests {
    /// Runs `body` on a new thread and waits for the thread to end.
    private func onNewThread(_ body: @escaping @Sendable () -> Void) throws {
        PosixThread.join(try PosixThread.spawn(body))
    }

    /// More instances than the thread-local slots: the later ones go through their pthread key
    /// alone, and must behave the same.
    @Test func eachThreadHasItsOwnObjectMadeOnceAndReleasedWhenTheThreadExits() throws {
        let instances = (0..<40).map { _ in PerThread { Tracked() } }
        let before = Tracked.alive.load(ordering: .relaxed)
        let mine = instances.map { $0.current }
        for (instance, object) in zip(instances, mine) {
            #expect(instance.current === object, "the same object on each call")
            #expect(object.thread == PosixThread.currentID())
        }
        #expect(Set(mine.map { ObjectIdentifier($0) }).count == instances.count, "one object per instance")

        let others = Mutex<[ObjectIdentifier]>([])
        try onNewThread {
            let theirs = instances.map { $0.current }
            for (instance, object) in zip(instances, theirs) {
                precondition(instance.withCurrent { $0 === object })
            }
            others.withLock { $0 = theirs.map { ObjectIdentifier($0) } }
        }
        let theirs = others.withLock { $0 }
        #expect(theirs.count == instances.count)
        #expect(Set(theirs).isDisjoint(with: mine.map { ObjectIdentifier($0) }), "another thread gets its own objects")
        // The other thread's objects went with it; this thread's are still held.
        #expect(Tracked.alive.load(ordering: .relaxed) == before + instances.count)
        for (instance, object) in zip(instances, mine) { #expect(instance.current === object) }
    }

    /// A thread that ends, then another: the second does not see the first one's (released)
    /// objects in a reused slot.
    @Test func aNewThreadNeverSeesAnEndedThreadsObject() throws {
        let instance = PerThread { Tracked() }
        let first = Mutex<ObjectIdentifier?>(nil)
        try onNewThread { first.withLock { $0 = ObjectIdentifier(instance.current) } }
        try onNewThread {
            let object = instance.current
            precondition(object.thread == PosixThread.currentID(), "made on this thread")
        }
        #expect(first.withLock { $0 } != nil)
    }
}
