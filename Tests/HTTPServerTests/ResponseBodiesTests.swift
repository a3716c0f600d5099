import Testing
@testable import HTTPServer

@Suite(.timeLimit(.minutes(1))) struct ResponseBodiesTests {
    @Test func aBodyGivenBackIsTheNextOneTakenEmptied() {
        var body = ResponseBodies.take(capacity: 300)
        body.append(contentsOf: Array("{\"predictions\":[]}".utf8))
        let storage = body.withUnsafeBufferPointer { $0.baseAddress }
        ResponseBodies.giveBack(&body)
        #expect(body.isEmpty, "the response's body is left empty")
        let next = ResponseBodies.take(capacity: 200)
        #expect(next.isEmpty && next.capacity >= 300)
        #expect(next.withUnsafeBufferPointer { $0.baseAddress } == storage, "the same storage, not a new allocation")
    }

    @Test func keepsAFewBodiesOfBoundedSize() {
        var huge = ResponseBodies.take(capacity: ResponseBodies.maxKeptCapacity + 1)
        let before = ResponseBodies.testsOnly_kept
        ResponseBodies.giveBack(&huge)
        #expect(ResponseBodies.testsOnly_kept == before, "a huge body is let go of")
        for _ in 0..<(ResponseBodies.maxKept * 2) {
            var body = [UInt8]()
            body.reserveCapacity(64)
            ResponseBodies.giveBack(&body)
        }
        #expect(ResponseBodies.testsOnly_kept == ResponseBodies.maxKept)
    }
}
