import CSystem
import Glibc
import Synchronization

/// A bounded hand-off from request threads to a background worker: `offer` never blocks
/// (it refuses when the queue holds `capacity` units), `take` blocks until work or `close`.
/// Units are what the caller says an item weighs (e.g. listings), so the bound is on work,
/// not on items.
///
/// Lock-free: a ring of slots, each with a sequence number that says whose turn it is
/// (D. Vyukov's bounded queue), positions claimed by compare-and-swap. No producer ever waits
/// for another thread: a worker at idle priority (SCHED_IDLE) preempted in the middle of a
/// `take` holds nothing a producer needs. (With a mutex, a producer found it held by such a
/// worker and either waited, holding up an event loop, or gave up and dropped the item.)
///
/// Threads: any number of producers and consumers. Every shared field is an atomic; the
/// slots' items are written only by the thread whose claimed position owns the slot, and
/// published by the slot's sequence (release, acquire).
///
/// Sleeping: a consumer that finds the queue empty announces itself (`waiting`, or
/// `lingering` first when the queue has a linger), looks again, and sleeps on an event
/// count (futex) that producers signal. With a linger it first sleeps that long and is
/// signalled only once the queue is half full, then waits to be signalled for any item:
/// under steady traffic producers then rarely signal (a futex wake and a context switch per
/// item on a busy request thread), and the consumer takes what arrived in batches, at most
/// `linger` late, without a small queue overflowing meanwhile. `wakePending` lets one
/// producer signal per sleep instead of every producer that sees the announcement.
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    // Internal and usable from inlinable code: `offer` and `take` are inlined into (specialized
    // for) their callers, so a hand-off copies the item directly and needs no generic metadata
    // at run time (an unspecialized `take` looked up the slot's optional type in the runtime
    // twice per item, about 660 instructions).
    @usableFromInline let mask: Int
    @usableFromInline let sequences: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let slots: UnsafeMutablePointer<(item: Item, units: Int)?>
    @usableFromInline let enqueuePosition = Atomic<Int>(0)
    @usableFromInline let dequeuePosition = Atomic<Int>(0)
    @usableFromInline let queued = Atomic<Int>(0)
    @usableFromInline let closed = Atomic<Bool>(false)
    @usableFromInline let waiting = Atomic<Int>(0)
    @usableFromInline let lingering = Atomic<Int>(0)
    @usableFromInline let wakePending = Atomic<Bool>(false)
    @usableFromInline let signals = Atomic<Int>(0)
    /// The futex word consumers sleep on (C atomics only).
    @usableFromInline let eventCount: UnsafeMutablePointer<UInt32>
    @usableFromInline let lingerNanoseconds: Int64
    /// Most units queued at once.
    public let capacity: Int

    /// Replaces the linger's sleep (tests hold the consumer in its linger with it).
    @usableFromInline let testsOnly_linger: (@Sendable () -> Void)?

    /// - Parameter capacity: units; the ring has one slot per unit up to 65,536 slots (an
    ///   item takes a slot whatever its units, so a queue of one-unit items holds at most that many).
    public init(capacity: Int, linger: Duration = .zero, testsOnly_linger: (@Sendable () -> Void)? = nil) {
        self.capacity = max(capacity, 1)
        self.testsOnly_linger = testsOnly_linger
        lingerNanoseconds = Int64(max(0, linger.wholeNanoseconds))
        var slotCount = 2
        while slotCount < min(self.capacity, 1 << 16) { slotCount <<= 1 }
        mask = slotCount - 1
        sequences = .allocate(capacity: slotCount)
        slots = .allocate(capacity: slotCount)
        for index in 0..<slotCount {
            (sequences + index).initialize(to: Atomic(index))
            (slots + index).initialize(to: nil)
        }
        eventCount = .allocate(capacity: 1)
        eventCount.initialize(to: 0)
    }

    deinit {
        sequences.deinitialize(count: mask + 1)
        sequences.deallocate()
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
        eventCount.deallocate()
    }

    /// Queues `item` unless that would exceed `capacity` units or the ring's slots, or the
    /// queue is closed; returns whether it was queued. Never blocks, never waits for a lock.
    @inlinable
    public func offer(_ item: Item, units: Int = 1) -> Bool {
        if closed.load(ordering: .relaxed) { return false }
        let total = queued.add(units, ordering: .relaxed).newValue
        guard total <= capacity else {
            queued.subtract(units, ordering: .relaxed)
            return false
        }
        var position = enqueuePosition.load(ordering: .relaxed)
        while true {
            let sequence = sequences[position & mask].load(ordering: .acquiring)
            if sequence == position {
                let (exchanged, current) = enqueuePosition.weakCompareExchange(
                    expected: position, desired: position + 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if sequence < position {
                queued.subtract(units, ordering: .relaxed)  // every slot taken
                return false
            } else {
                position = enqueuePosition.load(ordering: .relaxed)
            }
        }
        slots[position & mask] = (item, units)
        sequences[position & mask].store(position + 1, ordering: .releasing)
        // Orders the publication above before reading the consumers' announcements (which
        // they make before looking at the ring once more): one side always sees the other.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if waiting.load(ordering: .relaxed) > 0
            || (lingering.load(ordering: .relaxed) > 0 && total * 2 >= capacity)
        {
            wakeConsumer()
        }
        return true
    }

    /// Signals a sleeping consumer, once per sleep.
    @usableFromInline
    func wakeConsumer() {
        guard wakePending.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            return
        }
        signals.add(1, ordering: .relaxed)
        csystem_event_signal(eventCount, 1)
    }

    /// The oldest item and its units, if one is ready.
    @inlinable
    func dequeue() -> (item: Item, units: Int)? {
        var position = dequeuePosition.load(ordering: .relaxed)
        while true {
            let sequence = sequences[position & mask].load(ordering: .acquiring)
            if sequence == position + 1 {
                let (exchanged, current) = dequeuePosition.weakCompareExchange(
                    expected: position, desired: position + 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if sequence < position + 1 {
                return nil  // empty (or a producer is still writing this slot)
            } else {
                position = dequeuePosition.load(ordering: .relaxed)
            }
        }
        let entry = slots[position & mask].take()
        sequences[position & mask].store(position + mask + 1, ordering: .releasing)
        if let entry { queued.subtract(entry.units, ordering: .relaxed) }
        return entry
    }

    /// The oldest item if one is ready, without waiting.
    @inlinable
    public func poll() -> Item? { dequeue()?.item }

    /// Whether the next slot holds an item (what a consumer checks after announcing itself).
    @inlinable
    var hasItem: Bool {
        let position = dequeuePosition.load(ordering: .sequentiallyConsistent)
        return sequences[position & mask].load(ordering: .sequentiallyConsistent) == position + 1
    }

    /// The oldest item, waiting for one; nil once the queue is closed and empty.
    @inlinable
    public func take() -> Item? {
        var lingered = false
        while true {
            if let entry = dequeue() { return entry.item }
            if closed.load(ordering: .acquiring) {
                return dequeue()?.item  // an offer that raced the close
            }
            let lingers = lingerNanoseconds > 0 && !lingered
            let ticket = csystem_event_ticket(eventCount)
            announce(lingering: lingers, by: 1)
            wakePending.store(false, ordering: .sequentiallyConsistent)
            if hasItem || closed.load(ordering: .sequentiallyConsistent) {
                announce(lingering: lingers, by: -1)
                continue
            }
            if lingers {
                lingered = true
                if let testsOnly_linger {
                    testsOnly_linger()
                } else {
                    csystem_event_wait(eventCount, ticket, lingerNanoseconds)  // woken early: half full
                }
            } else {
                csystem_event_wait(eventCount, ticket, -1)
            }
            announce(lingering: lingers, by: -1)
        }
    }

    /// Counts a consumer in (+1, before it looks at the ring a last time) or out (−1).
    @usableFromInline
    func announce(lingering lingers: Bool, by change: Int) {
        if lingers {
            lingering.add(change, ordering: .sequentiallyConsistent)
        } else {
            waiting.add(change, ordering: .sequentiallyConsistent)
        }
    }

    /// Refuses new items and hands back what was queued and not yet taken, in order: `take`
    /// returns nil at once. For a consumer whose backlog must not hold up a stop.
    public func closeDiscardingQueued() -> [Item] {
        closed.store(true, ordering: .sequentiallyConsistent)
        var discarded: [Item] = []
        while let entry = dequeue() { discarded.append(entry.item) }
        csystem_event_signal(eventCount, Int32.max)
        return discarded
    }

    /// How many times a producer woke a sleeping consumer (for tests and diagnostics).
    public var signalsSent: Int { signals.load(ordering: .relaxed) }

    /// Consumers lingering now.
    var testsOnly_lingering: Int { lingering.load(ordering: .relaxed) }

    /// Consumers waiting to be signalled now.
    var testsOnly_waiting: Int { waiting.load(ordering: .relaxed) }

    /// Units queued now (an offer refused a moment ago may still be counted for an instant).
    public var queuedUnits: Int { queued.load(ordering: .relaxed) }

    /// Refuses new items; `take` returns what is queued, then nil.
    public func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        csystem_event_signal(eventCount, Int32.max)
    }
}
