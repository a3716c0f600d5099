/// Values keyed by file descriptor, in an array indexed by the descriptor: the kernel hands out
/// the lowest free numbers, so the array stays as long as the most descriptors open at once,
/// and a lookup on every readiness event is an index, not a hash. Loop-thread only.
struct DescriptorMap<Value> {
    private var slots: [Value?] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(fd: Int32) -> Value? {
        get {
            let index = Int(fd)
            return index >= 0 && index < slots.count ? slots[index] : nil
        }
        set {
            let index = Int(fd)
            precondition(index >= 0, "a negative descriptor")
            if index >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count))
            }
            switch (slots[index] != nil, newValue != nil) {
            case (false, true): count += 1
            case (true, false): count -= 1
            default: break
            }
            slots[index] = newValue
        }
    }

    /// The values, in descriptor order (a new array: callers may change the map meanwhile).
    var values: [Value] { slots.compactMap { $0 } }
}
