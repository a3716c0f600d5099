import CSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One object per thread, made on the thread's first use and released when the thread exits:
/// the scoring path's scratch (`ColumnCounter`, `WordHitCache`), which each thread keeps from
/// call to call so that scoring allocates nothing once warm, and the monitor's record of what
/// a request thread handed over.
///
/// Sendable: the key is created once and pthread keys are thread-safe; each object is made on
/// its thread and handed to no other by this type.
public final class PerThread<Object: AnyObject>: @unchecked Sendable {
    @usableFromInline let key: pthread_key_t
    /// This instance's thread-local slot (`csystem_thread_slot`), or -1 past the slots there
    /// are: then every lookup goes through the key.
    @usableFromInline let slot: Int32
    private let make: @Sendable () -> Object

    public init(_ make: @escaping @Sendable () -> Object) {
        self.key = pthread_key_create_or_fail()
        let slot = slotsTaken.add(1, ordering: .relaxed).oldValue
        self.slot = slot < CSYSTEM_THREAD_SLOTS ? slot : -1
        self.make = make
    }

    /// The calling thread's object (retained for the caller: `withCurrent` lends it instead).
    @inlinable @inline(__always)
    public var current: Object { withCurrent { $0 } }

    /// Calls `body` with the calling thread's object, lent without a retain and a release (two
    /// atomic operations a call, and the scoring path asks for its thread's objects a dozen
    /// times a request): the thread's key holds it until the thread exits, and `body` runs on
    /// the thread. Inlinable, so that each caller's closure is inlined: the object is then one
    /// thread-local load away.
    @inlinable @inline(__always)
    public func withCurrent<Result>(_ body: (Object) throws -> Result) rethrows -> Result {
        let stored = slot >= 0 ? csystem_thread_slot(slot) : pthread_getspecific(key)
        if let stored {
            return try Unmanaged<Object>.fromOpaque(stored)._withUnsafeGuaranteedRef(body)
        }
        return try body(makeCurrent())
    }

    /// Makes the calling thread's object, owned by the key (released at thread exit) and
    /// cached in the slot. Returned unretained: the key holds it.
    @usableFromInline
    func makeCurrent() -> Object {
        let object = make()
        let opaque = Unmanaged.passRetained(object).toOpaque()
        pthread_setspecific(key, opaque)
        if slot >= 0 { csystem_set_thread_slot(slot, opaque) }
        return object
    }
}

/// Slots handed out so far, one per instance for the life of the process (the instances are
/// static: a handful of them).
private let slotsTaken = Atomic<Int32>(0)

/// A key whose destructor, at thread exit, clears the thread's slot for the object and
/// releases it.
private func pthread_key_create_or_fail() -> pthread_key_t {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { stored in
        guard let stored else { return }
        csystem_thread_slots_clear(stored)
        Unmanaged<AnyObject>.fromOpaque(stored).release()
    }
    precondition(status == 0, "pthread_key_create failed (\(status))")
    return key
}
