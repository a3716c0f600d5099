import Posix
import Testing
@testable import HTTPServer

/// The transport phase without sockets: handshake, open, lingering close, closed.
@Suite(.timeLimit(.minutes(10))) struct TransportPhaseTests {
    let start = MonotonicInstant(nanoseconds: 1_000_000_000)

    @Test func aPlainConnectionIsOpenAndReadsWhatHTTPWants() {
        var transport = TransportPhase.plain
        #expect(transport.isOpen && !transport.isTLS)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == .readable)
        #expect(transport.interest(httpWantsToRead: false, pendingOutput: 10) == .writable)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 10) == [.readable, .writable])
        let readAction1 = transport.read(.bytes)
        #expect(readAction1 == .deliver)
        let readAction2 = transport.read(.wouldBlock(needsWritable: false))
        #expect(readAction2 == .stop)
        let readAction3 = transport.read(.endOfInput)
        #expect(readAction3 == .inputClosed)
        #expect(transport.deadline(http: start) == start, "the HTTP side's deadline")
        let timerAction1 = transport.timerFired(now: start)
        #expect(timerAction1 == .httpTimer)
    }

    @Test func aTLSHandshakeWaitsForWhatTheTLSLayerAsksThenStartsHTTP() {
        var transport = TransportPhase.tls(now: start, handshakeTimeout: 10)
        #expect(transport.isHandshaking)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == .readable, "the client speaks first")
        #expect(!transport.shouldRead(httpWantsToRead: true), "no HTTP before the handshake")
        let handshakeAction1 = transport.handshake(.wantWrite)
        #expect(handshakeAction1 == .wait)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == .writable)
        #expect(transport.deadline(http: nil) == start.adding(seconds: 10))
        let handshakeAction2 = transport.handshake(.finished)
        #expect(handshakeAction2 == .startHTTP)
        #expect(transport.isOpen)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == .readable)
    }

    @Test func aHandshakeThatDoesNotFinishInTimeIsClosedAsATimeout() {
        var transport = TransportPhase.tls(now: start, handshakeTimeout: 2)
        let timerAction2 = transport.timerFired(now: start.adding(seconds: 1))
        #expect(timerAction2 == .httpTimer, "not due yet")
        #expect(transport.isHandshaking)
        let timerAction3 = transport.timerFired(now: start.adding(seconds: 2))
        #expect(timerAction3 == .closeHandshakeTimedOut)
        #expect(transport.phase == .closed)
    }

    @Test func plainHTTPOnTheTLSPortIsAnsweredThenLingers() {
        var transport = TransportPhase.tls(now: start, handshakeTimeout: 10)
        let handshakeAction3 = transport.handshake(.plainHTTP)
        #expect(handshakeAction3 == .answerPlainHTTPThenClose)
        #expect(transport.closeWhenFlushed)
        let lingers1 = transport.outputFlushed(now: start, lingerSeconds: 2)
        #expect(lingers1)
        #expect(transport.phase == .lingering(until: start.adding(seconds: 2)))
    }

    @Test func aFailedHandshakeCloses() {
        var transport = TransportPhase.tls(now: start, handshakeTimeout: 10)
        let handshakeAction4 = transport.handshake(.failed)
        #expect(handshakeAction4 == .close)
        #expect(transport.phase == .closed)
    }

    @Test func aTLSReadThatMustWriteFirstWaitsForWritableAndResumesReadingThere() {
        var transport = TransportPhase.tls(now: start, handshakeTimeout: 10)
        _ = transport.handshake(.finished)
        let readAction4 = transport.read(.wouldBlock(needsWritable: true))
        #expect(readAction4 == .stop)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == [.readable, .writable])
        #expect(transport.readResumesOnWritable(pendingOutput: 0))
        #expect(!transport.readResumesOnWritable(pendingOutput: 5), "a writable event then flushes output first")
        let readAction5 = transport.read(.bytes)
        #expect(readAction5 == .deliver)
        #expect(transport.interest(httpWantsToRead: true, pendingOutput: 0) == .readable, "the wish is spent")
    }

    @Test func afterTheLastResponseTheConnectionLingersDiscardingInputUntilEOFOrTheDeadline() {
        var transport = TransportPhase.plain
        let lingers2 = transport.outputFlushed(now: start, lingerSeconds: 2)
        #expect(!lingers2, "no close asked for: stays open")
        transport.closeRequested()
        #expect(transport.isOpen, "open until the output is flushed")
        let lingers3 = transport.outputFlushed(now: start, lingerSeconds: 2)
        #expect(lingers3)
        #expect(transport.isLingering)
        #expect(transport.shouldRead(httpWantsToRead: false), "lingering reads whatever HTTP wants")
        #expect(transport.interest(httpWantsToRead: false, pendingOutput: 0) == .readable)
        let readAction6 = transport.read(.bytes)
        #expect(readAction6 == .discard)
        #expect(transport.deadline(http: nil) == start.adding(seconds: 2))
        var timedOut = transport
        let timerAction4 = timedOut.timerFired(now: start.adding(seconds: 2))
        #expect(timerAction4 == .closeLingerOver)
        let readAction7 = transport.read(.endOfInput)
        #expect(readAction7 == .close, "the peer's FIN ends the linger early")
        #expect(transport.phase == .closed)
    }

    @Test func aResetWhileOpenOrLingeringCloses() {
        var open = TransportPhase.plain
        let readAction8 = open.read(.failed)
        #expect(readAction8 == .close)
        var lingering = TransportPhase.plain
        lingering.closeRequested()
        _ = lingering.outputFlushed(now: start, lingerSeconds: 2)
        let readAction9 = lingering.read(.failed)
        #expect(readAction9 == .close)
        #expect(open.phase == .closed && lingering.phase == .closed)
    }
}
