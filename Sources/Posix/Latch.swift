import Glibc

/// A count-down latch on a pthread mutex + condition variable: threads wait until the count
/// reaches zero (or a deadline passes). Used for "every loop has closed its listener" and
/// "every loop has stopped"; unlike joining threads, any number of waiters may wait.
public final class Latch: @unchecked Sendable {
    // `mutex` guards `count`; `condition` is signalled (broadcast) when `count` reaches 0.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var count: Int

    public init(count: Int) {
        self.count = count
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    public func countDown() {
        pthread_mutex_lock(mutex)
        if count > 0 {
            count -= 1
            if count == 0 { pthread_cond_broadcast(condition) }
        }
        pthread_mutex_unlock(mutex)
    }

    public var isOpen: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count == 0
    }

    /// Waits until the count is zero; with `timeoutSeconds`, returns false if it passes first.
    @discardableResult
    public func wait(timeoutSeconds: Double? = nil) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let timeoutSeconds else {
            while count > 0 { pthread_cond_wait(condition, mutex) }
            return true
        }
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while count > 0 {
            if pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT { return count == 0 }
        }
        return true
    }
}
