import Testing
@testable import Posix

private final class Counted {
    nonisolated(unsafe) static var alive = 0
    init() { Self.alive += 1 }
    deinit { Self.alive -= 1 }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct ArrayShelfTests {
    /// Arrays short enough to be popped and longer ones emptied whole: each comes back empty
    /// with the room it had, and the elements it held are let go of when it is kept.
    @Test func keptArraysComeBackEmptyWithTheirRoomAndLetTheirElementsGo() {
        var shelf = ArrayShelf<Counted>(maxArrays: 4, maxElements: 1_000)
        for count in [1, ArrayShelf<Counted>.poppedAtMost, ArrayShelf<Counted>.poppedAtMost + 1, 100] {
            var array = (0..<count).map { _ in Counted() }
            array.reserveCapacity(count + 3)
            let capacity = array.capacity
            #expect(Counted.alive == count)
            shelf.keep(consume array)  // its only holder, as callers give arrays
            #expect(Counted.alive == 0, "\(count) elements released")
            let taken = shelf.take()
            #expect(taken?.isEmpty == true && taken?.capacity == capacity, "\(count)")
        }
        #expect(shelf.take() == nil)
    }

    @Test func keepsWithinItsLimits() {
        var shelf = ArrayShelf<Int>(maxArrays: 2, maxElements: 100, maxCapacity: 60)
        shelf.keep([Int](repeating: 1, count: 61))
        #expect(shelf.count == 0, "over the largest capacity")
        shelf.keep([])
        #expect(shelf.count == 0, "no room to keep")
        shelf.keep(Array(0..<50))
        shelf.keep(Array(0..<40))
        shelf.keep(Array(0..<5))
        #expect(shelf.count == 2 && shelf.elements >= 90 && shelf.elements <= 100)
    }
}
