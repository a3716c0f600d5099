import Testing
@testable import HTTPServer

/// A hand-driven clock: tests move time explicitly, nothing sleeps.
struct ManualClock {
    private(set) var now = MonotonicInstant(nanoseconds: 1_000_000_000)
    mutating func advance(_ seconds: Double) { now = now.adding(seconds: seconds) }
}

/// Small views over actions, so expectations read plainly.
extension ConnectionStateMachine.Action {
    var handledRequest: HTTPRequest? { if case .handle(let r) = self { r } else { nil } }
    var sent: OutgoingResponse? { if case .send(let o) = self { o } else { nil } }
    var isClose: Bool { if case .close = self { true } else { false } }
    var isContinue: Bool { if case .sendContinue = self { true } else { false } }
}

@Suite(.timeLimit(.minutes(10))) struct ConnectionStateMachineTests {
    func bytes(_ text: String) -> ArraySlice<UInt8> { ArraySlice(text.utf8) }

    @Test func requestIsHandedOutAndItsResponseSentKeepAlive() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        let actions = machine.event(.received(bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(actions.count == 1)
        #expect(actions.first?.handledRequest?.path == "/a")
        #expect(!machine.wantsToRead || machine.deadline == nil)
        let after = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(after.count == 1)
        #expect(after[0].sent?.keepAlive == true)
        #expect(machine.wantsToRead)
    }

    @Test func pipelinedRequestsAreHandedOutOneAtATimeInOrder() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        let three = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
        var actions = machine.event(.received(bytes(three)), now: clock.now)
        var paths: [String] = []
        while let request = actions.compactMap(\.handledRequest).first {
            paths.append(request.path)
            #expect(actions.compactMap(\.handledRequest).count == 1)
            actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        }
        #expect(paths == ["/1", "/2", "/3"])
    }

    /// Bodies that arrive whole with their head and bodies that arrive in pieces give the same
    /// requests, pipelined behind one another, whatever the split.
    @Test func aBodyGivesTheSameRequestWhetherItArrivesWithItsHeadOrInPieces() {
        let stream = Array(("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
            + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n").utf8)
        for piece in [stream.count, 1, 3, 7, 45, 50, 51, 60] {
            let clock = ManualClock()
            var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
            var handled: [(path: String, body: String)] = []
            var at = 0
            while at < stream.count {
                let next = min(at + piece, stream.count)
                var actions = machine.event(.received(stream[at..<next]), now: clock.now)
                at = next
                while let request = actions.compactMap(\.handledRequest).first {
                    handled.append((request.path, String(decoding: request.body, as: UTF8.self)))
                    actions = machine.event(.responded(HTTPResponse()), now: clock.now)
                }
            }
            #expect(handled.map(\.path) == ["/a", "/b", "/c"], "pieces of \(piece)")
            #expect(handled.map(\.body) == ["hello", "xyz", ""], "pieces of \(piece)")
        }
    }

    @Test func whileOutputIsBlockedNothingIsReadOrHandledAndQueuedRequestsFollowInOrder() {
        let clock = ManualClock()
        var limits = HTTPLimits()
        limits.maxPipelinedRequests = 2
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        var actions = machine.event(.received(bytes("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(actions.compactMap(\.handledRequest).map(\.path) == ["/1"])
        #expect(machine.event(.outputBlocked, now: clock.now).isEmpty)
        #expect(!machine.wantsToRead)
        actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.compactMap(\.sent).count == 1 && actions.compactMap(\.handledRequest).isEmpty)
        // Bytes already read are parsed ahead (two, the limit; the third stays buffered), not handled.
        let three = (2...4).map { "GET /\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
        #expect(machine.event(.received(bytes(three)), now: clock.now).isEmpty)
        #expect(!machine.wantsToRead)
        var handled: [String] = []
        actions = machine.event(.outputDrained, now: clock.now)
        while let request = actions.compactMap(\.handledRequest).first {
            handled.append(request.path)
            actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        }
        #expect(handled == ["/2", "/3", "/4"])
        #expect(machine.wantsToRead)
    }

    @Test func headTimeoutAnswers408AndCloses() {
        var clock = ManualClock()
        var limits = HTTPLimits()
        limits.headerTimeout = 5
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("GET / HTTP/1.1\r\nHo")), now: clock.now)
        let deadline = clock.now.adding(seconds: 5)
        #expect(machine.deadline == deadline)
        clock.advance(4.9)
        #expect(machine.event(.timerFired, now: clock.now).isEmpty)
        clock.advance(0.2)
        let actions = machine.event(.timerFired, now: clock.now)
        #expect(actions.first?.sent?.response.status == .requestTimeout)
        #expect(actions.first?.sent?.keepAlive == false)
        #expect(actions.last?.isClose == true)
        #expect(machine.isClosed)
    }

    @Test func bodyTimeoutAnswers408AndCloses() {
        var clock = ManualClock()
        var limits = HTTPLimits()
        limits.bodyTimeout = 3
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")), now: clock.now)
        #expect(machine.deadline == clock.now.adding(seconds: 3))
        clock.advance(3)
        let actions = machine.event(.timerFired, now: clock.now)
        #expect(actions.first?.sent?.response.status == .requestTimeout)
        #expect(actions.last?.isClose == true)
    }

    @Test func idleKeepAliveTimeoutClosesQuietly() {
        var clock = ManualClock()
        var limits = HTTPLimits()
        limits.idleTimeout = 60
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        clock.advance(1)
        _ = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(machine.deadline == clock.now.adding(seconds: 60))
        clock.advance(60)
        let actions = machine.event(.timerFired, now: clock.now)
        #expect(actions.count == 1 && actions[0].isClose)
    }

    @Test func contentLengthOverTheLimitIsAnswered413WithoutContinueOrReading() {
        let clock = ManualClock()
        var limits = HTTPLimits()
        limits.maxBodyBytes = 100
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        let actions = machine.event(
            .received(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n")), now: clock.now)
        #expect(!actions.contains { $0.isContinue })
        #expect(actions.first?.sent?.response.status == .contentTooLarge)
        #expect(actions.last?.isClose == true)
        #expect(!machine.wantsToRead)
    }

    @Test func expectContinueIsSentOnlyBeforeAnyBodyArrives() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        #expect(machine.event(.received(bytes(head)), now: clock.now).map(\.isContinue) == [true])
        #expect(machine.event(.received(bytes("ok")), now: clock.now).first?.handledRequest?.body == Array("ok".utf8))

        var eager = ConnectionStateMachine(limits: limits, now: clock.now)
        let actions = eager.event(.received(bytes(head + "ok")), now: clock.now)
        #expect(!actions.contains { $0.isContinue })
        #expect(actions.first?.handledRequest != nil)
    }

    @Test func chunkedBodyArrivingInPiecesIsAssembled() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        var all: [ConnectionStateMachine.Action] = []
        for piece in ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r", "\nabc\r\n2\r\nde\r\n", "0\r\n\r\n"] {
            all += machine.event(.received(bytes(piece)), now: clock.now)
        }
        #expect(all.compactMap(\.handledRequest).map(\.body) == [Array("abcde".utf8)])
    }

    @Test func parseErrorIsAnsweredAfterTheRequestsBeforeIt() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        let input = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/9.9\r\nHost: x\r\n\r\n"
        var actions = machine.event(.received(bytes(input)), now: clock.now)
        #expect(actions.compactMap(\.handledRequest).map(\.path) == ["/ok"])
        actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.compactMap(\.sent).map(\.response.status) == [.ok, .versionNotSupported])
        #expect(actions.compactMap(\.sent).last?.response.headers["Content-Type"] == ProblemDetails.contentType)
        #expect(actions.last?.isClose == true)
    }

    @Test func headRequestIsMarkedHeadOnly() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(machine.event(.responded(HTTPResponse(body: [1, 2])), now: clock.now).first?.sent?.headOnly == true)
    }

    @Test func http10RequestIsAnsweredWithCloseUnlessKeepAliveWasAsked() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("GET / HTTP/1.0\r\n\r\n")), now: clock.now)
        let actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent?.keepAlive == false && actions.last?.isClose == true)

        var keepAlive = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = keepAlive.event(.received(bytes("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")), now: clock.now)
        let kept = keepAlive.event(.responded(HTTPResponse()), now: clock.now)
        #expect(kept.first?.sent?.keepAlive == true && kept.count == 1)
    }

    @Test func shutdownClosesAnIdleConnectionAtOnce() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        #expect(machine.event(.shutdown, now: clock.now).map(\.isClose) == [true])
    }

    @Test func shutdownLetsTheCurrentRequestFinishWithConnectionClose() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(machine.event(.shutdown, now: clock.now).isEmpty)
        let actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent?.keepAlive == false && actions.last?.isClose == true)
    }

    @Test func afterBeginDrainEveryResponseClosesButAnIdleConnectionStaysOpen() {
        var clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        _ = machine.event(.received(bytes("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(machine.event(.responded(HTTPResponse()), now: clock.now).first?.sent?.keepAlive == true)
        clock.advance(1)
        #expect(machine.event(.beginDrain(at: clock.now), now: clock.now).isEmpty, "idle: its client may be about to send")
        #expect(machine.wantsToRead)
        _ = machine.event(.received(bytes("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        let actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent?.keepAlive == false && actions.last?.isClose == true)
    }

    @Test func duringTheDrainAPipelinedRequestAlreadyReceivedIsAnsweredBeforeTheClose() {
        let clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        _ = machine.event(.beginDrain(at: clock.now), now: clock.now)
        let two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(machine.event(.received(bytes(two)), now: clock.now).first?.handledRequest?.path == "/1")
        let first = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(first.first?.sent?.keepAlive == true, "the next request is already here")
        #expect(first.last?.handledRequest?.path == "/2")
        let second = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(second.first?.sent?.keepAlive == false && second.last?.isClose == true)
    }

    @Test func shutdownAfterAGraceClosesOnlyConnectionsIdleSinceBeforeTheDrain() {
        var clock = ManualClock()
        var idleThroughout = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        clock.advance(1)
        _ = idleThroughout.event(.beginDrain(at: clock.now), now: clock.now)
        clock.advance(0.5)
        // Accepted during the grace, its request not read yet: kept for it.
        var madeDuringGrace = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        _ = madeDuringGrace.event(.beginDrain(at: clock.now), now: clock.now)
        clock.advance(0.5)
        #expect(idleThroughout.event(.shutdown, now: clock.now).map(\.isClose) == [true])
        #expect(madeDuringGrace.event(.shutdown, now: clock.now).isEmpty)
        #expect(madeDuringGrace.wantsToRead)
        _ = madeDuringGrace.event(.received(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        let actions = madeDuringGrace.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent?.keepAlive == false && actions.last?.isClose == true)
    }

    @Test func shutdownAfterAGraceKeepsAConnectionMidRequestUntilItsResponse() {
        var clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        _ = machine.event(.beginDrain(at: clock.now), now: clock.now)
        clock.advance(1)
        _ = machine.event(.received(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")), now: clock.now)
        #expect(machine.event(.shutdown, now: clock.now).isEmpty)
        #expect(machine.event(.received(bytes("cd")), now: clock.now).first?.handledRequest?.body == Array("abcd".utf8))
        let actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent?.keepAlive == false && actions.last?.isClose == true)
    }

    @Test func peerCloseAfterARequestStillAnswersThenCloses() {
        let clock = ManualClock()
        let limits = HTTPLimits()
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.received(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), now: clock.now)
        #expect(machine.event(.inputClosed, now: clock.now).isEmpty)
        let actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        #expect(actions.first?.sent != nil && actions.last?.isClose == true)
    }

    @Test func outputBlockedTooLongClosesWithoutAResponse() {
        var clock = ManualClock()
        var limits = HTTPLimits()
        limits.idleTimeout = 10
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.outputBlocked, now: clock.now)
        clock.advance(10)
        #expect(machine.event(.timerFired, now: clock.now).map(\.isClose) == [true])
    }
}

@Suite(.timeLimit(.minutes(10))) struct ConnectionStateMachineByteAtATimeTests {
    @Test func headFedOneByteAtATimeIsHandedOutOnceComplete() {
        let clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        let text = Array("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /q HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        var handled: [HTTPRequest] = []
        for byte in text {
            let actions = machine.event(.received([byte]), now: clock.now)
            for request in actions.compactMap(\.handledRequest) {
                handled.append(request)
                handled += machine.event(.responded(HTTPResponse()), now: clock.now).compactMap(\.handledRequest)
            }
        }
        #expect(handled.map(\.path) == ["/p", "/q"])
        #expect(handled.first?.body == Array("abc".utf8))
    }

    @Test func requestLineOverTheLimitWithoutALineEndIsAnswered414() {
        let clock = ManualClock()
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = 64
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        var statuses: [HTTPStatus] = []
        for byte in Array("GET /\(String(repeating: "a", count: 100))".utf8) where !machine.isClosed {
            statuses += machine.event(.received([byte]), now: clock.now).compactMap(\.sent).map(\.response.status)
        }
        #expect(statuses == [.uriTooLong])
    }
}

@Suite(.timeLimit(.minutes(10))) struct ConnectionStateMachineHalfCloseTests {
    @Test func requestsBufferedBeyondThePipelineLimitAreAnsweredAfterThePeerHalfCloses() {
        let clock = ManualClock()
        var limits = HTTPLimits()
        limits.maxPipelinedRequests = 1
        var machine = ConnectionStateMachine(limits: limits, now: clock.now)
        _ = machine.event(.outputBlocked, now: clock.now)
        let three = (1...3).map { "GET /\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
        #expect(machine.event(.received(ArraySlice(three.utf8)), now: clock.now).isEmpty)
        #expect(machine.event(.inputClosed, now: clock.now).isEmpty)
        var actions = machine.event(.outputDrained, now: clock.now)
        var handled: [String] = []
        while let request = actions.compactMap(\.handledRequest).first {
            handled.append(request.path)
            actions = machine.event(.responded(HTTPResponse()), now: clock.now)
        }
        #expect(handled == ["/1", "/2", "/3"])
        #expect(actions.last?.isClose == true)
    }

    @Test func halfCloseInTheMiddleOfAHeadClosesWithoutAnAnswer() {
        let clock = ManualClock()
        var machine = ConnectionStateMachine(limits: HTTPLimits(), now: clock.now)
        _ = machine.event(.received(ArraySlice("GET / HTTP/1.1\r\nHo".utf8)), now: clock.now)
        let actions = machine.event(.inputClosed, now: clock.now)
        #expect(actions.count == 1 && actions[0].isClose)
    }
}
