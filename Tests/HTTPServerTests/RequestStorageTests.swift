import Testing
@testable import HTTPServer

/// Header buffers and bodies of answered requests, given back and parsed into again.
@Suite(.timeLimit(.minutes(1))) struct RequestStorageTests {
    func storage<Element>(_ array: [Element]) -> UnsafeRawPointer? {
        array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    /// A connection's next request reads its head and body into what the previous one gave back.
    @Test func theNextRequestIsParsedIntoTheStorageTheLastGaveBack() throws {
        let clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        let post = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n"
        var first = try #require(machine.event(.received(ArraySlice(post.utf8)), now: clock.now).compactMap(\.handledRequest).first)
        #expect(first.body == Array("{\"a\":\"bc\"}\n".utf8))
        let fields = storage(try #require(first.head.headers.testsOnly_receivedBuffer)), body = storage(first.body)
        RequestStorage.giveBack(&first)
        #expect(first.body.isEmpty && first.headers.count == 0, "the request is left without them")
        _ = machine.event(.responded(HTTPResponse()), now: clock.now)
        let second = try #require(machine.event(.received(ArraySlice(post.utf8)), now: clock.now).compactMap(\.handledRequest).first)
        #expect(second.headers["content-type"] == "application/json" && second.headers.count == 3)
        #expect(second.body == Array("{\"a\":\"bc\"}\n".utf8))
        #expect(storage(try #require(second.head.headers.testsOnly_receivedBuffer)) == fields, "the same header buffer, emptied and filled again")
        #expect(storage(second.body) == body, "the same body")
    }

    /// A part still held elsewhere keeps its contents: the kept one is a copy, emptied.
    @Test func aSharedBodyIsNotEmptiedUnderItsHolder() throws {
        var request = HTTPRequest(head: try #require(Self.head()), body: Array("payload".utf8))
        request.body.reserveCapacity(64)
        let held = request.body
        RequestStorage.giveBack(&request)
        #expect(held == Array("payload".utf8))
        let taken = RequestStorage.takeBody(capacity: 16)
        #expect(taken.isEmpty)
        #expect(storage(taken) != storage(held))
    }

    @Test func keepsAFewPartsOfBoundedSize() throws {
        let head = try #require(Self.head())
        var huge = HTTPRequest(head: head, body: [UInt8](repeating: 1, count: RequestStorage.maxKeptBodyCapacity + 1))
        let before = RequestStorage.testsOnly_kept.bodies
        RequestStorage.giveBack(&huge)
        #expect(RequestStorage.testsOnly_kept.bodies == before, "a huge body is let go of")
        for _ in 0..<(RequestStorage.maxKept * 2) {
            var request = HTTPRequest(head: head, body: Array("x".utf8))
            RequestStorage.giveBack(&request)
        }
        #expect(RequestStorage.testsOnly_kept.bodies == RequestStorage.maxKept)
        #expect(RequestStorage.testsOnly_kept.fields == RequestStorage.maxKept)
    }

    static func head() -> HTTPRequestHead? {
        let bytes = Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        guard case .complete(let head, _) = HTTPRequestParser.parseHead(bytes[...], limits: HTTPLimits()) else { return nil }
        return head
    }
}
