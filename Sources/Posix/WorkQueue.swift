import Glibc
import Synchronization

/// A bounded hand-off from request threads to one background worker: `offer` never blocks
/// (it refuses when the queue holds `capacity` units), `take` blocks until work or `close`.
/// Units are what the caller says an item weighs (e.g. listings), so the bound is on work,
/// not on items.
///
/// Threads: any number of producers, any number of consumers. `mutex` guards `items`,
/// `queued`, `waiting`, `lingering`, `signals` and `closed`; `queuedHint` mirrors `queued`
/// (written under the mutex, read without it) so a full queue refuses without the mutex;
/// `offer` only tries the mutex and refuses when it stays taken (see there); `condition` is
/// signalled when an item arrives while a consumer waits, and broadcast on close.
///
/// With a `linger`, a consumer that finds the queue empty first waits that long to be
/// signalled only if the queue fills to half its capacity, and only then waits to be
/// signalled for any item: under steady traffic producers then rarely signal (a futex wake
/// and a context switch per item on a busy request thread), and the consumer takes what
/// arrived in batches, at most `linger` late, without a small queue overflowing meanwhile.
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    // Internal and usable from inlinable code: `offer` is inlined into (specialized for) its
    // callers, so a hand-off copies the item directly and needs no generic metadata at run time.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>
    @usableFromInline var items: [(item: Item, units: Int)] = []
    @usableFromInline var head = 0
    @usableFromInline var queued = 0
    @usableFromInline let queuedHint = Atomic<Int>(0)
    @usableFromInline var waiting = 0
    @usableFromInline var closed = false
    @usableFromInline var lingering = 0
    @usableFromInline var signals = 0
    private let lingerNanoseconds: Int
    /// Most units queued at once.
    public let capacity: Int

    /// Replaces the linger's sleep (tests hold the consumer in its linger with it).
    private let testsOnly_linger: (@Sendable () -> Void)?

    public init(capacity: Int, linger: Duration = .zero, testsOnly_linger: (@Sendable () -> Void)? = nil) {
        self.capacity = max(capacity, 1)
        self.testsOnly_linger = testsOnly_linger
        lingerNanoseconds = max(0, linger.wholeNanoseconds)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        // The linger's deadline is on the monotonic clock: a wall-clock step cannot stretch it.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        // Room for the first items up front: a queue that keeps up never grows its array.
        items.reserveCapacity(min(self.capacity, 256))
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Queues `item` unless that would exceed `capacity` units, the queue is closed, or the
    /// mutex stays taken through 64 tries; returns whether it was queued. Never blocks.
    @inlinable
    public func offer(_ item: Item, units: Int = 1) -> Bool {
        // Full: refuse without the mutex (a refusal may race a take; the next offer sees it).
        guard queuedHint.load(ordering: .relaxed) + units <= capacity else { return false }
        // Never wait for the mutex: a consumer at idle priority (SCHED_IDLE) preempted while it
        // holds it would keep a producer waiting until the CPU goes idle (priority inversion).
        // Producers hold it for an append, so a few tries get it unless the consumer holds it;
        // then the item is refused, as when the queue is full.
        var tries = 0
        while pthread_mutex_trylock(mutex) != 0 {
            tries += 1
            if tries == 64 { return false }
            sched_yield()
        }
        guard !closed, queued + units <= capacity else {
            pthread_mutex_unlock(mutex)
            return false
        }
        items.append((item, units))
        queued += units
        queuedHint.store(queued, ordering: .relaxed)
        let wake = waiting > 0 || (lingering > 0 && queued * 2 >= capacity)
        if wake { signals += 1 }
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
        return true
    }

    /// The oldest item, waiting for one; nil once the queue is closed and empty.
    public func take() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var lingered = false
        while head == items.count {
            if closed { return nil }
            if lingerNanoseconds > 0 && !lingered {
                lingered = true
                if let testsOnly_linger {
                    pthread_mutex_unlock(mutex)
                    testsOnly_linger()
                    pthread_mutex_lock(mutex)
                    continue
                }
                let until = MonotonicClock.nanoseconds() + UInt64(lingerNanoseconds)
                var deadline = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
                lingering += 1
                pthread_cond_timedwait(condition, mutex, &deadline)  // woken early: the queue is half full
                lingering -= 1
                continue
            }
            waiting += 1
            pthread_cond_wait(condition, mutex)
            waiting -= 1
        }
        let (item, units) = items[head]
        head += 1
        queued -= units
        queuedHint.store(queued, ordering: .relaxed)
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// Refuses new items and hands back what was queued and not yet taken, in order: `take`
    /// returns nil at once. For a consumer whose backlog must not hold up a stop.
    public func closeDiscardingQueued() -> [Item] {
        pthread_mutex_lock(mutex)
        closed = true
        let discarded = items[head...].map(\.item)
        items.removeAll()
        head = 0
        queued = 0
        queuedHint.store(0, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
        return discarded
    }

    /// How many times a producer woke a waiting consumer (for tests and diagnostics).
    public var signalsSent: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return signals
    }

    /// Consumers lingering now.
    var testsOnly_lingering: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return lingering
    }

    /// Consumers waiting to be signalled now.
    var testsOnly_waiting: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return waiting
    }

    /// Units queued now.
    public var queuedUnits: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return queued
    }

    /// Refuses new items; `take` returns what is queued, then nil.
    public func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }
}
