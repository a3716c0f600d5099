/// Empty arrays kept for reuse, by whoever owns the shelf (a thread's, in a `ConfinedBox`):
/// at most `maxArrays` of them, with room for at most `maxElements` elements together, none
/// with room for more than `maxCapacity`. `keep` empties what it keeps, after checking the
/// limits (an array let go of is not emptied for nothing). Inlinable, so that it is
/// specialized for its element where it is used: unspecialized, each call would look the
/// array type's metadata up in the runtime.
public struct ArrayShelf<Element> {
    public let maxArrays: Int
    public let maxElements: Int
    public let maxCapacity: Int
    @usableFromInline var arrays: [[Element]] = []
    /// Arrays of up to this many elements are emptied by popping them (`keep`).
    @usableFromInline static var poppedAtMost: Int { 8 }
    @usableFromInline var capacities = 0
    /// The kept arrays' capacities, summed.
    @inlinable public var elements: Int { capacities }

    public init(maxArrays: Int, maxElements: Int, maxCapacity: Int = .max) {
        self.maxArrays = maxArrays
        self.maxElements = maxElements
        self.maxCapacity = maxCapacity
    }

    /// Arrays kept now.
    @inlinable public var count: Int { arrays.count }

    /// An empty array with the room it had, or nil when none is kept.
    @inlinable
    public mutating func take() -> [Element]? {
        guard let array = arrays.popLast() else { return nil }
        capacities -= array.capacity
        return array
    }

    /// Keeps `array`, emptied, when the limits leave room for it (no one else should hold it:
    /// a shared array would be copied when emptied or next written).
    @inlinable
    public mutating func keep(_ array: consuming [Element]) {
        let capacity = array.capacity
        guard capacity > 0, capacity <= maxCapacity, arrays.count < maxArrays, capacities + capacity <= maxElements
        else { return }
        // A few elements are popped one by one: emptying the array whole goes through the
        // standard library's range replacement, which costs more than popping up to about 8.
        if array.count <= Self.poppedAtMost {
            while array.popLast() != nil {}
        } else {
            array.removeAll(keepingCapacity: true)
        }
        capacities += capacity
        arrays.append(array)
    }
}
