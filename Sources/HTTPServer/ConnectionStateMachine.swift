/// The life of one HTTP/1.1 connection as a pure value: bytes, responses, timer expiries and
/// output pressure go in; actions come out. It never touches a socket or a clock — the time of
/// each event is passed in — so it is tested with a manual clock and no sockets.
///
/// Rules it implements:
/// - One request handled at a time; pipelined requests are parsed ahead (up to
///   `limits.maxPipelinedRequests`) and answered strictly in order.
/// - A parse failure is queued behind the requests before it and answered (problem+json,
///   `Connection: close`) in its turn; nothing after it is parsed.
/// - `Content-Length` over `maxBodyBytes` is answered 413 from the head, the body unread.
/// - `Expect: 100-continue` gets `100 Continue` before the body is read, only when the head
///   is acceptable, no earlier request is still unanswered, and none of the body has arrived.
/// - Head timeout (from the first byte of a head) and body timeout (from the end of the head)
///   answer 408 and close; an idle keep-alive connection is closed quietly.
/// - While the shell's output is over its high-water mark, nothing is read or handled.
/// - Draining happens in two steps. After `beginDrain` every response carries
///   `Connection: close` and the connection closes after it, unless the client has already
///   sent (part of) its next request, which is then answered too; an idle connection stays
///   open, since its client may be about to use it. After `shutdown` (the server stopped
///   accepting) a connection that has been idle since before the drain began closes at once;
///   any other one finishes its next request and closes.
public struct ConnectionStateMachine {
    /// Something that happened to the connection.
    public enum Event {
        /// Bytes read from the socket, in order.
        case received(ArraySlice<UInt8>)
        /// The peer will send nothing more (read returned 0).
        case inputClosed
        /// The response to the request last given out with `.handle`.
        case responded(HTTPResponse)
        /// The shell's unsent output went over its high-water mark.
        case outputBlocked
        /// The shell's output drained.
        case outputDrained
        /// The deadline in `deadline` may have passed (the machine checks against `now`).
        case timerFired
        /// The server began draining at that instant: from now on responses close their
        /// connection. (The server's instant, not the loop's: a connection accepted after it is
        /// new to the drain even if the loop hears of the drain later.)
        case beginDrain(at: MonotonicInstant)
        /// The server stopped accepting: close if idle since before the drain, else finish the
        /// next request and close. Implies `beginDrain`.
        case shutdown
    }

    /// What the shell must do, in order.
    public enum Action {
        /// Write `HTTP/1.1 100 Continue`.
        case sendContinue
        /// Serialize and write a response.
        case send(OutgoingResponse)
        /// Run the handler for this request, then report `.responded`.
        case handle(HTTPRequest)
        /// Close once everything written so far has been sent.
        case close
    }

    private enum Reading {
        /// Waiting for a head; `started` is when its first byte arrived (nil: none yet).
        case head(started: MonotonicInstant?)
        case body(head: HTTPRequestHead, remaining: BodyRemaining, body: [UInt8], deadline: MonotonicInstant)
        /// Nothing more is parsed on this connection (error, `Connection: close`, peer EOF).
        case stopped
    }

    private enum BodyRemaining {
        case length(Int)
        case chunked(ChunkedBodyDecoder)
    }


    public let limits: HTTPLimits
    private var input: [UInt8] = []
    private var reading: Reading = .head(started: nil)
    /// Requests parsed and not yet handed out, in order. Requests, not an enum of requests and
    /// failures: handing one out moves it, where matching it out of an enum copied it.
    private var queue: [HTTPRequest] = []
    /// A parse failure behind the queued requests (nothing after it is parsed, so it is last;
    /// at most one). An array, one word wide: an optional existential made every copy and
    /// nil test of the machine dearer.
    private var queuedFailure: [any HTTPResponseError] = []
    /// The request given out with `.handle` whose response has not come back.
    private var handling: (headOnly: Bool, keepAlive: Bool, version: HTTPVersion)?
    private var idleSince: MonotonicInstant
    private var blockedSince: MonotonicInstant?
    private var inputClosed = false
    /// A head can only complete at an LF, and only fail early at a size limit; re-scanning the
    /// buffer on every other byte would make a byte-at-a-time client cost O(n²).
    private var headNeedsParse = true
    /// How far the head being received has been scanned; fresh for each head.
    private var headProgress = HeadScanProgress()
    /// When `beginDrain` (or `shutdown`, if it came first) arrived.
    private var drainStartedAt: MonotonicInstant?
    /// `shutdown` arrived.
    private var stopping = false
    /// `shutdown` came with no `beginDrain` before it (no grace): every idle connection closes.
    private var stoppedWithoutGrace = false
    /// `.close` was emitted; the machine is finished.
    public private(set) var isClosed = false

    public init(limits: HTTPLimits, now: MonotonicInstant) {
        self.limits = limits
        self.idleSince = now
    }

    /// Whether the shell should read from the socket now.
    public var wantsToRead: Bool {
        if isClosed || inputClosed || blockedSince != nil { return false }
        if case .stopped = reading { return false }
        return queuedCount < max(1, limits.maxPipelinedRequests)
    }

    /// When the shell must report `.timerFired` (nil: no timer).
    public var deadline: MonotonicInstant? {
        if isClosed { return nil }
        if let blockedSince { return blockedSince.adding(seconds: limits.idleTimeout) }
        if handling != nil || hasQueued { return nil }
        switch reading {
        case .head(let started?): return started.adding(seconds: limits.headerTimeout)
        case .head(nil): return inputClosed ? nil : idleSince.adding(seconds: limits.idleTimeout)
        case .body(_, _, _, let deadline): return deadline
        case .stopped: return nil
        }
    }

    /// The actions `event` calls for, in a new array (tests, and shells that do not keep a buffer).
    public mutating func event(_ event: Event, now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        self.event(event, now: now, into: &actions)
        return actions
    }

    /// Appends the actions `event` calls for to `actions`, so a shell can reuse one buffer
    /// instead of receiving a new array for every event.
    public mutating func event(_ event: Event, now: MonotonicInstant, into actions: inout [Action]) {
        if isClosed { return }
        switch event {
        case .received(let bytes):
            if case .stopped = reading { return }
            let before = input.count
            input.append(contentsOf: bytes)
            if bytes.contains(UInt8(ascii: "\n")) || crossed(limits.maxRequestLineBytes, from: before)
                || crossed(limits.maxHeaderBytes, from: before)
            {
                headNeedsParse = true
            }
        case .inputClosed:
            // Whole requests already buffered are still parsed and answered; once nothing is
            // left to answer, `advance` closes (a request cut off mid-way can never complete).
            inputClosed = true
        case .responded(let response):
            guard let current = handling else { preconditionFailure("responded without a request") }
            handling = nil
            idleSince = now
            let keepAlive = current.keepAlive && (drainStartedAt == nil || nextRequestHasBegun)
            actions.append(.send(OutgoingResponse(
                response: response, headOnly: current.headOnly, keepAlive: keepAlive, requestVersion: current.version)))
            if !keepAlive { return finish(into: &actions) }
        case .outputBlocked:
            if blockedSince == nil { blockedSince = now }
            return
        case .outputDrained:
            blockedSince = nil
        case .timerFired:
            guard let deadline, now >= deadline else { return }
            if blockedSince != nil { return finish(into: &actions) }  // the peer stopped reading
            switch reading {
            case .head(started: nil):
                return finish(into: &actions)  // idle keep-alive: close quietly
            case .head, .body:
                let timeout = HTTPError(.requestTimeout, detail: "The request was not received in time.")
                actions.append(.send(failureResponse(timeout)))
                return finish(into: &actions)
            case .stopped:
                return
            }
        case .beginDrain(let startedAt):
            if drainStartedAt != nil { return }
            drainStartedAt = startedAt
        case .shutdown:
            if stopping { return }
            stopping = true
            if drainStartedAt == nil {
                drainStartedAt = now
                stoppedWithoutGrace = true
            }
        }
        advance(now: now, into: &actions)
    }

    /// Whether bytes of another request arrived after the one being answered (pipelined).
    private var nextRequestHasBegun: Bool {
        if hasQueued || !input.isEmpty { return true }
        if case .body = reading { return true }
        return false
    }

    /// Requests and a failure waiting to be answered.
    private var queuedCount: Int { queue.count + queuedFailure.count }
    private var hasQueued: Bool { !queue.isEmpty || !queuedFailure.isEmpty }

    /// Whether the input just grew past `limit` (where the parser's verdict can change
    /// without a line ending).
    private func crossed(_ limit: Int, from before: Int) -> Bool { before <= limit && input.count > limit }

    private mutating func finish(into actions: inout [Action]) {
        isClosed = true
        reading = .stopped
        queue.removeAll()
        queuedFailure.removeAll()
        input.removeAll()
        actions.append(.close)
    }

    private func failureResponse(_ error: any HTTPResponseError) -> OutgoingResponse {
        OutgoingResponse(
            response: ErrorResponder.response(for: error), headOnly: false, keepAlive: false, requestVersion: .http1_1)
    }

    /// Parses what it can and hands out the next request, until it must wait for something.
    private mutating func advance(now: MonotonicInstant, into actions: inout [Action]) {
        while !isClosed {
            if handling == nil, blockedSince == nil {
                if !queue.isEmpty {
                    // Mostly the only one: popLast moves it out, removeFirst copies it first.
                    let request = queue.count == 1 ? queue.removeLast() : queue.removeFirst()
                    handling = (request.method == "HEAD", request.head.keepAlive, request.head.version)
                    actions.append(.handle(request))
                    return  // wait for .responded
                }
                if let failure = queuedFailure.popLast() {
                    actions.append(.send(failureResponse(failure)))
                    finish(into: &actions)
                    return
                }
            }
            if queuedCount < max(1, limits.maxPipelinedRequests), parseStep(now: now, into: &actions) { continue }
            break
        }
        guard !isClosed, handling == nil, !hasQueued else { return }
        let idle: Bool
        if case .head(started: nil) = reading, input.isEmpty { idle = true } else { idle = false }
        var stopped = false
        if case .stopped = reading { stopped = true }
        // Peer EOF, a stop that finds the connection idle since before the drain began, or
        // nothing more to parse (`Connection: close`, an answered error): all requests are
        // answered, so close. A connection made or used during the drain stays open for the
        // request its client is about to send; each response then closes it.
        var idleThroughDrain = false
        if stopping, idle, let drainStartedAt { idleThroughDrain = stoppedWithoutGrace || idleSince < drainStartedAt }
        if inputClosed || idleThroughDrain || stopped { finish(into: &actions) }
    }

    /// One parsing step over `input`; true if it made progress.
    private mutating func parseStep(now: MonotonicInstant, into actions: inout [Action]) -> Bool {
        switch reading {
        case .stopped:
            return false
        case .head(let started):
            if input.isEmpty { return false }
            let start = started ?? now
            reading = .head(started: start)
            guard headNeedsParse else { return false }
            if headProgress.fieldStorage.capacity == 0 { headProgress.fieldStorage = RequestStorage.takeFieldBuffer() }
            switch HTTPRequestParser.parseHead(input[...], limits: limits, progress: &headProgress) {
            case .needMore:
                headNeedsParse = false
                return false
            case .failure(let error):
                headProgress.reset()
                queuedFailure = [error]
                reading = .stopped
                input.removeAll()
                return true
            case .complete(let head, let consumed):
                headProgress.reset()
                beginBody(head, after: consumed, now: now, into: &actions)
                return true
            }
        case .body(let head, var remaining, var body, let deadline):
            if input.isEmpty { return false }
            reading = .stopped  // placeholder while `body` is uniquely owned below
            switch remaining {
            case .length(let count):
                let take = min(count, input.count)
                body.append(contentsOf: input[..<take])
                input.removeFirst(take)
                if take == count {
                    completeRequest(head, body: body)
                } else {
                    reading = .body(head: head, remaining: .length(count - take), body: body, deadline: deadline)
                }
                return true
            case .chunked(var decoder):
                let result = input.withUnsafeBytes { decoder.decode($0, into: &body) }
                switch result {
                case .needMore(let consumed):
                    input.removeFirst(consumed)
                    remaining = .chunked(decoder)
                    reading = .body(head: head, remaining: remaining, body: body, deadline: deadline)
                    return consumed > 0
                case .complete(let consumed):
                    input.removeFirst(consumed)
                    completeRequest(head, body: body)
                    return true
                case .failure(let error):
                    queuedFailure = [error]
                    input.removeAll()
                    return true
                }
            }
        }
    }

    /// Removes the first `count` bytes of `input`; all of them (the usual case) without a
    /// shift.
    private mutating func dropInput(_ count: Int) {
        if count == input.count { input.removeAll(keepingCapacity: true) } else { input.removeFirst(count) }
    }

    /// Starts the body of `head`, which took the first `consumed` bytes of `input`. A body that
    /// came whole with its head (a small request's usual case) is copied out once and the
    /// request completed here: through `.body` the head moved in and out of `reading` and
    /// `input` shifted twice.
    private mutating func beginBody(
        _ head: consuming HTTPRequestHead, after consumed: Int, now: MonotonicInstant, into actions: inout [Action]
    ) {
        let remaining: BodyRemaining
        switch head.framing {
        case .none, .contentLength(0):
            dropInput(consumed)
            completeRequest(head, body: [])
            return
        case .contentLength(let length) where length > limits.maxBodyBytes:
            queuedFailure = [HTTPParseError.bodyTooLarge]  // 413 from the head; body never read
            reading = .stopped
            input.removeAll()
            return
        case .contentLength(let length) where input.count - consumed >= length:
            var body = RequestStorage.takeBody(capacity: length)
            body.append(contentsOf: input[consumed..<(consumed + length)])
            dropInput(consumed + length)
            completeRequest(head, body: body)
            return
        case .contentLength(let length):
            remaining = .length(length)
        case .chunked:
            remaining = .chunked(ChunkedBodyDecoder(maxBodyBytes: limits.maxBodyBytes))
        }
        dropInput(consumed)
        if head.expectsContinue, head.version == .http1_1, input.isEmpty, !hasQueued, handling == nil {
            actions.append(.sendContinue)
        }
        let expected = if case .length(let length) = remaining { length } else { 0 }
        reading = .body(head: head, remaining: remaining, body: RequestStorage.takeBody(capacity: expected),
                        deadline: now.adding(seconds: limits.bodyTimeout))
    }

    private mutating func completeRequest(_ head: consuming HTTPRequestHead, body: consuming [UInt8]) {
        // The head and body move into the request (no field-by-field copy).
        reading = head.keepAlive ? .head(started: nil) : .stopped
        headNeedsParse = true  // what is left in `input` may hold a whole pipelined head
        queue.append(HTTPRequest(head: head, body: body))
    }
}
