import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(1))) struct ConfinedBoxTests {
    final class Tracked {}

    struct State {
        var numbers: [Int] = []
        var object: Tracked?
    }

    @Test func modifiesItsValueInPlaceAndReleasesItWithTheBox() {
        weak var released: Tracked?
        do {
            let box = ConfinedBox(State())
            box.value.numbers.append(1)
            box.value.numbers.append(contentsOf: [2, 3])
            #expect(box.value.numbers.popLast() == 3)
            let tracked = Tracked()
            released = tracked
            box.value.object = tracked
            #expect(box.value.numbers == [1, 2])
            #expect(box.value.object === tracked)
            // A copy read out is a copy: changing it leaves the box's value as it was.
            var copy = box.value
            copy.numbers.append(9)
            #expect(box.value.numbers == [1, 2])
        }
        #expect(released == nil, "the box's value is deinitialized with the box")
    }

    @Test func passesFromThreadToThreadOneAtATime() async {
        let box = ConfinedBox(State())
        // One thread at a time: each task runs after the previous one finished.
        for round in 0..<100 {
            await Task.detached { box.value.numbers.append(round) }.value
        }
        #expect(box.value.numbers == Array(0..<100))
    }
}
