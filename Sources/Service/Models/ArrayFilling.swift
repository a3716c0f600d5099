extension Array {
    /// `count` copies of `value`, for arrays made on every request. The standard library's
    /// `init(repeating:count:)` and `init(unsafeUninitializedCapacity:initializingWith:)`
    /// allocate in a function compiled into the standard library, not specialized for the
    /// element type, which looks the storage class's generic metadata up in the runtime on
    /// every call (about 330 instructions for an element type of this package). Reserving
    /// and appending allocates in code specialized here, which reads that metadata from a cache.
    @inline(__always)
    init(filledWith value: Element, count: Int) {
        self.init()
        reserveCapacity(count)
        for _ in 0..<count { append(value) }
    }
}
