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
    private let key: pthread_key_t
    private let make: @Sendable () -> Object

    public init(_ make: @escaping @Sendable () -> Object) {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { stored in
            guard let stored else { return }
            Unmanaged<AnyObject>.fromOpaque(stored).release()
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        self.key = key
        self.make = make
    }

    /// The calling thread's object (retained for the caller: `withCurrent` lends it instead).
    @inline(__always)
    public var current: Object { withCurrent { $0 } }

    /// Calls `body` with the calling thread's object, lent without a retain and a release (two
    /// atomic operations a call, and the scoring path asks for its thread's objects a dozen
    /// times a request): the thread's key holds it until the thread exits, and `body` runs on
    /// the thread.
    @inline(__always)
    public func withCurrent<Result>(_ body: (Object) throws -> Result) rethrows -> Result {
        if let stored = pthread_getspecific(key) {
            return try Unmanaged<Object>.fromOpaque(stored)._withUnsafeGuaranteedRef(body)
        }
        let object = make()
        pthread_setspecific(key, Unmanaged.passRetained(object).toOpaque())
        return try body(object)
    }
}
