/// A value behind a pointer, for state one thread owns at a time: a thread's own scratch, or a
/// job passed between threads through a queue (whose release and acquire order the accesses).
///
/// Why not a class's stored `var`: Swift checks each access to one for exclusivity at run
/// time (`swift_beginAccess`: a thread-local lookup and an access-set insertion, about 100
/// instructions), and the request path made several such accesses a request. Accesses
/// through `value` are not checked: whoever holds a box guarantees that no two of them
/// overlap, which confinement to one thread at a time gives.
public final class ConfinedBox<Value>: @unchecked Sendable {
    // @unchecked: see above; the owner confines each box to one thread at a time.
    @usableFromInline let pointer: UnsafeMutablePointer<Value>

    public init(_ value: Value) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: value)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }

    /// The value, read and modified in place (no copy of the whole value for a member).
    @inlinable
    public var value: Value {
        unsafeAddress { UnsafePointer(pointer) }
        unsafeMutableAddress { pointer }
    }

    /// Where the value is, for a type whose own addressors forward to it (valid while the
    /// box lives).
    @inlinable
    public var address: UnsafeMutablePointer<Value> { pointer }
}
