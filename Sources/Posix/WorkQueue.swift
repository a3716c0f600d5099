import Glibc

/// A bounded hand-off from request threads to one background worker: `offer` never blocks
/// (it refuses when the queue holds `capacity` units), `take` blocks until work or `close`.
/// Units are what the caller says an item weighs (e.g. listings), so the bound is on work,
/// not on items.
///
/// Threads: any number of producers, any number of consumers. `mutex` guards `items`,
/// `queued`, `waiting` and `closed`; `condition` is signalled when an item arrives while a
/// consumer waits, and broadcast on close.
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var items: [(item: Item, units: Int)] = []
    private var head = 0
    private var queued = 0
    private var waiting = 0
    private var closed = false
    /// Most units queued at once.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Queues `item` unless that would exceed `capacity` units or the queue is closed;
    /// returns whether it was queued. Never blocks on the consumer.
    public func offer(_ item: Item, units: Int = 1) -> Bool {
        pthread_mutex_lock(mutex)
        guard !closed, queued + units <= capacity else {
            pthread_mutex_unlock(mutex)
            return false
        }
        items.append((item, units))
        queued += units
        let wake = waiting > 0
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
        return true
    }

    /// The oldest item, waiting for one; nil once the queue is closed and empty.
    public func take() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count {
            if closed { return nil }
            waiting += 1
            pthread_cond_wait(condition, mutex)
            waiting -= 1
        }
        let (item, units) = items[head]
        head += 1
        queued -= units
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
        return item
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
