import Testing
@testable import HTTPServer

/// Well-formed requests: what the parser extracts, and how it behaves on partial input.
@Suite(.timeLimit(.minutes(10))) struct ParserTests {
    typealias F = ParserFixture

    static let validRequests: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /v1/models/listing:predict?verbose=1 HTTP/1.1\r\nHost: vigia.local\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"instances\": []}",
        "PUT /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "\r\n\r\nGET http://example.com/p?q=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces: \t spaced value \t\r\n\r\n",
    ]

    @Test func parsesMinimalGET() {
        guard let head = F.head("GET /health/live HTTP/1.1\r\nHost: localhost:8080\r\n\r\n") else { return }
        #expect(head.method == "GET")
        #expect(head.target == "/health/live")
        #expect(head.path == "/health/live")
        #expect(head.query == nil)
        #expect(head.version == .http1_1)
        #expect(head.headers.fields == [HTTPField(name: "Host", value: "localhost:8080")])
        #expect(head.framing == BodyFraming.none)
        #expect(head.keepAlive)
        #expect(!head.expectsContinue)
    }

    /// Methods and header names that match a common string exactly come out as it; others
    /// (another case, a longer or shorter name sharing its start) come out as sent.
    @Test func commonNamesKeepTheSpellingTheyArrivedIn() {
        let head = F.head("POST /p HTTP/1.1\r\nhost: a\r\nHOST2: b\r\nContent-Typ: c\r\nCONTENT-TYPE: d\r\nX-Request-Id: e\r\nHos: f\r\n\r\n")
        #expect(head?.method == "POST")
        #expect(head?.headers.fields.map(\.name) == ["host", "HOST2", "Content-Typ", "CONTENT-TYPE", "X-Request-Id", "Hos"])
        #expect(head?.headers.fields.map(\.value) == ["a", "b", "c", "d", "e", "f"])
        #expect(F.head("PATCH /p HTTP/1.1\r\nHost: a\r\n\r\n")?.method == "PATCH")
        #expect(F.head("get /p HTTP/1.1\r\nHost: a\r\n\r\n")?.method == "get")
        for name in ["GET", "POST", "Host", "Content-Length", "Inference-Header-Content-Length"] {
            let bytes = Array(name.utf8)
            #expect(bytes.withUnsafeBytes { CommonStrings.match($0, in: CommonStrings.methods) ?? CommonStrings.match($0, in: CommonStrings.fieldNames) } == name)
            #expect(Array(bytes.dropLast()).withUnsafeBytes { CommonStrings.match($0, in: CommonStrings.methods) ?? CommonStrings.match($0, in: CommonStrings.fieldNames) } == nil)
        }
    }

    /// Head strings come from the thread's recent ones (`RecentStrings`) when their bytes
    /// were seen before, short and long alike: each must still be exactly what the bytes
    /// decode to, however many share a slot, and invalid UTF-8 (obs-text) must still become
    /// U+FFFD.
    @Test func repeatedStringsAreWhatTheirBytesDecodeTo() {
        for round in 0..<3 {
            for k in 0..<300 {
                let target = "/v1/models/model-number-\(k):predict"
                let agent = "client/\(k) (a long user agent)"
                let host = "h\(k % 7).example:\(k)"  // 13 to 17 bytes: either side of inline
                let head = F.head(
                    "POST \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(agent)\r\nX-Small: \(k)\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n")
                #expect(head?.target == target && head?.path == target, "round \(round)")
                #expect(head?.headers["User-Agent"] == agent)
                #expect(head?.headers["Host"] == host)
                #expect(head?.headers["X-Small"] == "\(k)")
                #expect(head?.headers["X-Empty"] == "")
            }
        }
        for value in ["abcdefghijklmnop", "abc"] {
            let obsText: [UInt8] = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Bytes: \(value)".utf8) + [0xFF, 0xFE] + Array("\r\n\r\n".utf8)
            let repaired = "\(value)\u{FFFD}\u{FFFD}"
            let replacement = "GET / HTTP/1.1\r\nHost: a\r\nX-Bytes: \(repaired)\r\n\r\n"
            for input in [obsText, obsText, F.bytes(replacement), obsText] {
                guard case .complete(let head, _) = F.parse(input) else { Issue.record("not parsed"); continue }
                #expect(head.headers["X-Bytes"] == repaired)
            }
        }
    }

    /// Credentials are made afresh for each request and never kept among the thread's recent
    /// strings; other long values are.
    @Test func credentialsAreNotKeptAmongRecentStrings() {
        let token = "Bearer 0123456789abcdef0123456789abcdef"
        let agent = "a-client-of-ours/1.2.3 (tests)"
        for name in ["Authorization", "authorization", "Proxy-Authorization", "Cookie", "X-Api-Key"] {
            for _ in 0..<2 {
                let head = F.head("GET / HTTP/1.1\r\nHost: a\r\n\(name): \(token)\r\nUser-Agent: \(agent)\r\n\r\n")
                #expect(head?.headers[name] == token)
            }
            #expect(!RecentStrings.testsOnly_keeps(token), "\(name)")
        }
        #expect(RecentStrings.testsOnly_keeps(agent))
    }

    @Test func splitsQueryFromPath() {
        let head = F.head("GET /v1/models?limit=5&x=%20 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(head?.path == "/v1/models")
        #expect(head?.query == "limit=5&x=%20")
        #expect(F.head("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n")?.query == "")
    }

    @Test func absoluteFormTargetGivesItsPathAndQuery() {
        let full = F.head("GET http://host:8080/p/q?x=1 HTTP/1.1\r\nHost: host\r\n\r\n")
        #expect(full?.target == "http://host:8080/p/q?x=1")
        #expect(full?.path == "/p/q")
        #expect(full?.query == "x=1")
        let bare = F.head("GET HTTPS://Host HTTP/1.1\r\nHost: host\r\n\r\n")
        #expect(bare?.path == "/")
        #expect(bare?.query == nil)
        let queryOnly = F.head("GET http://host?q HTTP/1.1\r\nHost: host\r\n\r\n")
        #expect(queryOnly?.path == "/")
        #expect(queryOnly?.query == "q")
    }

    @Test func acceptsAsteriskFormWithOPTIONS() {
        let head = F.head("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(head?.path == "*")
        #expect(head?.target == "*")
    }

    @Test func trimsOptionalWhitespaceAroundFieldValuesAndKeepsNamesAndOrder() {
        guard let head = F.head("GET / HTTP/1.1\r\nHost:a\r\nX-Spaces: \t spaced  value \t\r\nX-Empty:\r\nx-empty:  \r\n\r\n") else { return }
        #expect(head.headers.fields.map(\.name) == ["Host", "X-Spaces", "X-Empty", "x-empty"])
        #expect(head.headers["x-spaces"] == "spaced  value")
        #expect(head.headers.values("X-EMPTY") == ["", ""])
    }

    @Test func acceptsObsTextInFieldValues() {
        let head = F.head("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\u{e9}\r\n\r\n")
        #expect(head?.headers["X-Name"] == "café")
    }

    @Test func decidesFramingFromContentLengthOrChunked() {
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")?.framing == .contentLength(0))
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 0042\r\n\r\n")?.framing == .contentLength(42))
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")?.framing == .chunked)
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: , CHUNKED ,\r\n\r\n")?.framing == .chunked)
        #expect(F.head("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n")?.framing == .contentLength(3))
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: te,  KEEP-ALIVE \r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false),
    ])
    func keepAliveFollowsVersionAndConnectionTokens(request: String, keepAlive: Bool) {
        #expect(F.head(request)?.keepAlive == keepAlive)
    }

    @Test func notes100ContinueOnlyOnHTTP11() {
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue == true)
        #expect(F.head("POST / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n")?.expectsContinue == false)
        #expect(F.head("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")?.expectsContinue == false)
    }

    @Test func countsLeadingEmptyLinesInConsumed() {
        let text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(F.head(text, consumed: text.utf8.count)?.path == "/")
    }

    @Test func acceptsHTTP10WithoutHost() {
        #expect(F.head("GET / HTTP/1.0\r\n\r\n")?.version == .http1_0)
    }

    @Test(arguments: validRequests)
    func everyProperPrefixOfAValidRequestNeedsMore(request: String) {
        let input = F.bytes(request)
        guard case .complete(_, let consumed) = F.parse(input) else {
            Issue.record("\(request.debugDescription) does not parse")
            return
        }
        for cut in 0..<consumed {
            #expect(HTTPRequestParser.parseHead(input[0..<cut], limits: HTTPLimits()) == .needMore, "prefix \(cut)")
        }
    }

    @Test(arguments: validRequests)
    func feedingOneByteAtATimeGivesTheWholeResult(request: String) {
        let input = F.bytes(request)
        let whole = F.parse(input)
        var buffer: [UInt8] = []
        var result = HeadParseResult.needMore
        for byte in input where result == .needMore {
            buffer.append(byte)
            result = F.parse(buffer)
        }
        #expect(result == whole)
        if case .complete(_, let consumed) = whole { #expect(buffer.count == consumed) }
    }

    @Test func pipelinedRequestsConsumedPointsAtTheSecond() {
        let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        let second = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        let input = F.bytes(first + second)
        guard case .complete(let headA, let consumedA) = F.parse(input) else {
            Issue.record("first request did not parse")
            return
        }
        #expect(headA.path == "/a")
        #expect(consumedA == first.utf8.count)
        guard case .complete(let headB, let consumedB) = HTTPRequestParser.parseHead(input[consumedA...], limits: HTTPLimits()) else {
            Issue.record("second request did not parse")
            return
        }
        #expect(headB.path == "/b")
        #expect(headB.framing == .contentLength(2))
        #expect(consumedA + consumedB == input.count - 2)
    }

    @Test func sliceConvenienceCountsFromTheSliceStart() {
        let input = F.bytes("xxxxGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        guard case .complete(_, let consumed) = HTTPRequestParser.parseHead(input[4...], limits: HTTPLimits()) else {
            Issue.record("did not parse")
            return
        }
        #expect(consumed == input.count - 4)
    }

    @Test func tokenCharacterTableMatchesRFC9110() {
        let tchars = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ByteClass.isTokenChar(byte) == tchars.contains(byte), "byte \(byte)")
        }
    }

    /// The eight-bytes-at-a-time classes against the byte-at-a-time definitions: every byte
    /// value at every position, among neighbours that pass (so a carry or borrow out of the
    /// byte under test would show) and among neighbours that fail.
    @Test func wordClassesAgreeWithTheByteClassesAtEveryPosition() {
        let nameChars = Set("-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for position in 0..<8 {
            let shift = UInt64(8 * position)
            for byte in UInt8.min...UInt8.max {
                for filler: UInt8 in [UInt8(ascii: "a"), UInt8(ascii: "Z"), UInt8(ascii: "-"), UInt8(ascii: "9"), 0x00, 0x7F, 0xFF, 0x40] {
                    let fill = UInt64(filler) &* 0x0101_0101_0101_0101
                    let word = fill & ~(0xFF << shift) | UInt64(byte) << shift
                    let bytes = (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(8 * $0)) }
                    #expect(ByteClass.allNameChars(word) == bytes.allSatisfy(nameChars.contains), "\(byte) at \(position) among \(filler)")
                    #expect(
                        ByteClass.allPlainFieldValueChars(word)
                            == bytes.allSatisfy { ByteClass.isFieldValueChar($0) && $0 != ByteClass.htab },
                        "\(byte) at \(position) among \(filler)")
                    let lowered = (0..<8).map { UInt8(truncatingIfNeeded: ByteClass.lowercased(word: word) >> UInt64(8 * $0)) }
                    #expect(lowered == bytes.map(ByteClass.lowercased), "\(byte) at \(position) among \(filler)")
                }
            }
        }
    }

    /// Names compared eight bytes at a time (the last eight overlapping) and byte by byte
    /// below eight: equal in any case, unequal at any one byte.
    @Test func namesCompareIgnoringCaseAtEveryByte() {
        let names: [StaticString] = ["host", "expect", "content-length", "transfer-encoding", "connection", "keep-alive", "x-api-key"]
        for name in names {
            let lower = Array(String(describing: name).utf8)
            for variant in [lower, lower.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 }] {
                let padded = [UInt8(ascii: "<")] + variant + [UInt8(ascii: ">")]
                #expect(padded.withUnsafeBytes { $0.equalsIgnoringCase(1..<(1 + variant.count), name) }, "\(name)")
                for k in variant.indices {
                    for changed: UInt8 in [variant[k] ^ 0x20, variant[k] ^ 0x01, 0x0D, 0xC0] where ByteClass.lowercased(changed) != lower[k] {
                        var other = padded
                        other[1 + k] = changed
                        #expect(!other.withUnsafeBytes { $0.equalsIgnoringCase(1..<(1 + variant.count), name) }, "\(name) byte \(k)")
                    }
                }
                #expect(!padded.withUnsafeBytes { $0.equalsIgnoringCase(1..<variant.count, name) }, "shorter")
            }
        }
    }
}

/// The resumable scan: a head sent a line at a time is scanned once, not once per line.
@Suite(.timeLimit(.minutes(10))) struct ResumableHeadScanTests {
    @Test func aResumedScanStartsAtTheFirstIncompleteLine() throws {
        let requestLine = "POST /v1/models/m:predict HTTP/1.1\r\n"
        let fields = (0..<50).map { "X-Field-\($0): value \($0)\r\n" }
        let head = requestLine + fields.joined() + "Host: x\r\nContent-Length: 2\r\n\r\n"
        let bytes = Array(head.utf8)
        var progress = HeadScanProgress()
        var limits = HTTPLimits()
        limits.maxHeaderCount = 100
        // Up to the middle of field 30: the request line and 30 fields are settled.
        let settled = requestLine.utf8.count + fields.prefix(30).map(\.utf8.count).reduce(0, +)
        let partial = settled + 7
        #expect(HTTPRequestParser.parseHead(bytes[0..<partial], limits: limits, progress: &progress) == .needMore)
        #expect(progress.resumeAt == settled)
        #expect(progress.fields.count == 30)
        #expect(progress.requestLine != nil)
        guard case .complete(let parsed, let consumed) = HTTPRequestParser.parseHead(bytes[...], limits: limits, progress: &progress) else {
            Issue.record("the whole head did not parse")
            return
        }
        #expect(consumed == bytes.count)
        #expect(parsed.headers.count == 52 && parsed.framing == .contentLength(2))
        #expect(HTTPRequestParser.parseHead(bytes[...], limits: limits) == .complete(parsed, consumed: consumed))
    }

    @Test func aFieldLimitIsStillEnforcedAcrossResumedScans() {
        var limits = HTTPLimits()
        limits.maxHeaderCount = 3
        let head = "GET / HTTP/1.1\r\n" + (0..<5).map { "A\($0): b\r\n" }.joined() + "\r\n"
        ParserFixture.expectFailure(head, .tooManyHeaders, status: 431, limits: limits)
    }
}
