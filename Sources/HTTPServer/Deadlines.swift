import Posix

/// A point on the monotonic clock, in nanoseconds. The connection state machine takes these as
/// values (never reads a clock itself), so tests drive time by hand.
public struct MonotonicInstant: Sendable, Comparable, Hashable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The monotonic clock now.
    public static func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: MonotonicClock.nanoseconds()) }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `self` plus `seconds` (negative or NaN seconds count as zero).
    public func adding(seconds: Double) -> MonotonicInstant {
        let delta = seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : 0
        return MonotonicInstant(nanoseconds: nanoseconds &+ delta)
    }

    public var description: String { "t+\(Double(nanoseconds) / 1e9)s" }
}

/// Deadlines keyed by connection (its descriptor): a binary min-heap with a position index, so
/// a connection's deadline is moved or removed in O(log n) instead of leaving stale entries
/// behind (a busy keep-alive connection re-arms its idle timer on every request). Loop-thread only.
struct DeadlineHeap {
    typealias Key = Int32
    private var entries: [(deadline: MonotonicInstant, key: Key)] = []
    private var positions = DescriptorMap<Int>()

    var count: Int { entries.count }
    var earliest: MonotonicInstant? { entries.first?.deadline }

    func deadline(of key: Key) -> MonotonicInstant? { positions[key].map { entries[$0].deadline } }

    /// Sets, moves or (with nil) removes `key`'s deadline.
    mutating func set(_ key: Key, _ deadline: MonotonicInstant?) {
        if let index = positions[key] {
            guard let deadline else { removeAt(index); return }
            let old = entries[index].deadline
            entries[index].deadline = deadline
            if deadline < old { siftUp(index) } else { siftDown(index) }
        } else if let deadline {
            entries.append((deadline, key))
            positions[key] = entries.count - 1
            siftUp(entries.count - 1)
        }
    }

    /// Removes and returns every key whose deadline is at or before `now`, earliest first.
    mutating func popExpired(now: MonotonicInstant) -> [Key] {
        var expired: [Key] = []
        while let first = entries.first, first.deadline <= now {
            expired.append(first.key)
            removeAt(0)
        }
        return expired
    }

    private mutating func removeAt(_ index: Int) {
        let key = entries[index].key
        let last = entries.count - 1
        if index != last {
            entries.swapAt(index, last)
            positions[entries[index].key] = index
        }
        entries.removeLast()
        positions[key] = nil
        if index < entries.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { return }
            swap(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { return }
            swap(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swap(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        positions[entries[a].key] = a
        positions[entries[b].key] = b
    }
}
