import HTTPTestClient
import Synchronization
import Testing

/// The bound of `.exclusive(timeLimit:)`: a test that finishes is untouched, one that runs past
/// the limit is cancelled and fails with the limit named.
@Suite(.timeLimit(.minutes(10))) struct ExclusiveTraitTests {
    @Test func aFunctionThatFinishesIsNotCutShort() async throws {
        let timedOut = Flag()
        let ran = Flag()
        try await ExclusiveTrait.runBounded(limit: .seconds(3600), { ran.set() }) {
            timedOut.set()
        }
        #expect(ran.isSet)
        #expect(!timedOut.isSet)
    }

    @Test func aFunctionPastItsLimitIsCancelledAndFails() async throws {
        let timedOut = Flag()
        let cancelled = Flag()
        do {
            try await ExclusiveTrait.runBounded(limit: .milliseconds(10), {
                do {
                    try await Task.sleep(for: .seconds(3600))
                } catch is CancellationError {
                    cancelled.set()
                    throw CancellationError()
                }
            }) {
                timedOut.set()
            }
            Issue.record("an hour-long function inside a 10 ms limit returned normally")
        } catch let error as ExclusiveTimeLimitExceeded {
            #expect(error.limit == .milliseconds(10))
            #expect(error.description == "exclusive time limit of 0.01 seconds exceeded")
        }
        #expect(timedOut.isSet)
        #expect(cancelled.isSet)
    }

    @Test func anErrorOfTheFunctionIsItsOwn() async {
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await ExclusiveTrait.runBounded(limit: .seconds(3600), { throw Boom() }) {}
        }
    }
}

/// A flag shared with the closures under test.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
