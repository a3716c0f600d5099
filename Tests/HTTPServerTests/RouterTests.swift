import Foundation
import Testing
@testable import HTTPServer
import Posix

@Suite(.timeLimit(.minutes(10))) struct RouterTests {
    func table() -> RouteTable {
        var router = Router()
        let ok: HTTPHandler = { _ in HTTPResponse() }
        router.add("GET", "/health/live", ok)
        router.add("GET", "/v1/models", ok)
        router.add("GET", "/v1/models/{name}", ok)
        router.add("POST", "/v1/models/{name}:predict", ok)
        router.add("POST", "/v1/models/{name}/versions/{version}:predict", ok)
        router.add("GET", "/v1/models/special", ok)
        return router.frozen()
    }

    func parameters(_ method: String, _ path: String) -> [String: String]? {
        if case .handler(_, let parameters) = table().resolve(method: method, path: path) { return parameters.dictionary }
        return nil
    }

    func failure(_ method: String, _ path: String) -> HTTPError? {
        if case .failure(let error) = table().resolve(method: method, path: path) { return error }
        return nil
    }

    @Test func verbRouteBindsTheNameBeforeTheColon() {
        #expect(parameters("POST", "/v1/models/spam:predict") == ["name": "spam"])
        #expect(parameters("POST", "/v1/models/spam/versions/3:predict") == ["name": "spam", "version": "3"])
    }

    @Test func routeWithoutVerbDoesNotMatchAPathWithOne() {
        #expect(failure("GET", "/v1/models/x:predict")?.status == .methodNotAllowed)  // only POST there
        #expect(failure("GET", "/v1/models/x:explain")?.status == .notFound)
    }

    @Test func literalSegmentWinsOverAParameter() {
        #expect(parameters("GET", "/v1/models/special") == [:])
        #expect(parameters("GET", "/v1/models/other") == ["name": "other"])
    }

    /// Routes without parameters are found by their exact path text; what they answer must
    /// be what the segment scan answers: HEAD by GET, 405 with Allow, exact case and slashes.
    /// With few literal routes they are matched on bytes, with more than 64 hashed: both alike.
    @Test(arguments: [0, 70]) func literalRoutesAnswerAsTheScanDoes(extraLiteralRoutes: Int) {
        var router = Router()
        let ok: HTTPHandler = { _ in HTTPResponse() }
        for k in 0..<extraLiteralRoutes { router.add("GET", "/extra/route-\(k)", ok) }
        router.add("GET", "/health/live", ok)
        router.add("GET", "/", ok)
        router.add("POST", "/v1/models/special:reload", ok)
        router.add("POST", "/v1/models/{name}:reload", ok)
        let table = router.frozen()
        func outcome(_ method: String, _ path: String) -> String {
            switch table.resolve(method: method, path: path) {
            case .handler(_, let parameters): "handler \(parameters.dictionary.sorted { $0.key < $1.key })"
            case .failure(let error): "\(error.status.code) \(error.extraHeaders["Allow"] ?? "")"
            }
        }
        #expect(outcome("GET", "/health/live") == "handler []")
        #expect(outcome("HEAD", "/health/live") == "handler []")
        #expect(outcome("POST", "/health/live") == "405 GET, HEAD")
        #expect(outcome("GET", "/health/live/") == "404 ")
        #expect(outcome("GET", "/Health/live") == "404 ")
        #expect(outcome("GET", "/health//live") == "404 ")
        #expect(outcome("GET", "/") == "handler []")
        #expect(outcome("POST", "/v1/models/special:reload") == "handler []")
        #expect(outcome("POST", "/v1/models/other:reload") == #"handler [(key: "name", value: "other")]"#)
        #expect(outcome("GET", "/v1/models/special:reload") == "405 POST")
        #expect(outcome("POST", "/v1/models/special:relo") == "404 ")
        #expect(outcome("GET", "/extra/route-7") == (extraLiteralRoutes > 7 ? "handler []" : "404 "))
        #expect(outcome("GET", "/extra/route-") == "404 ")
    }

    /// A thread keeps the routes it resolved (`ResolvedRoutes`); what it answers from them must
    /// be what matching answers, per table, method and path, whatever collides in its slots.
    @Test func recentResolutionsAnswerAsMatchingDoes() {
        func table(status: Int) -> RouteTable {
            var router = Router()
            router.add("GET", "/items/{id}") { request in
                HTTPResponse(status: HTTPStatus(status), body: Array((request.pathParameters["id"] ?? "?").utf8))
            }
            router.add("POST", "/items/{id}:score") { _ in HTTPResponse(status: HTTPStatus(status + 1)) }
            return router.frozen()
        }
        let first = table(status: 200), second = table(status: 202)
        func answer(_ table: RouteTable, _ method: String, _ path: String) -> String {
            switch table.resolve(method: method, path: path) {
            case .handler(let handler, let parameters):
                var request = HTTPRequest(head: HTTPRequestHead(
                    method: method, target: path, path: path, query: nil, version: .http1_1, headers: [:],
                    framing: .none, keepAlive: true, expectsContinue: false))
                request.pathParameters = parameters
                guard let response = try? handler(request) else { return "threw" }
                return "\(response.status.code) \(String(decoding: response.body, as: UTF8.self))"
            case .failure(let error):
                return "\(error.status.code)"
            }
        }
        // 200 paths, over three rounds: more than the 64 slots, so entries collide and are
        // replaced, also by entries of the same table and method.
        for round in 0..<3 {
            for k in 0..<200 {
                #expect(answer(first, "GET", "/items/item-\(k)") == "200 item-\(k)", "round \(round)")
            }
            for k in 0..<200 {
                let path = "/items/item-\(k)"
                #expect(answer(second, "GET", path) == "202 item-\(k)", "the other table's handler")
                #expect(answer(first, "HEAD", path) == "200 item-\(k)")
                #expect(answer(first, "POST", path) == "405", "not the GET route kept for the path")
                #expect(answer(first, "POST", path + ":score") == "201 ")
            }
        }
        #expect(answer(first, "GET", "/items/a%2Fb") == "400", "refused parameters are matched every time")
        #expect(answer(first, "GET", "/items/a%2Fb") == "400")
    }

    @Test func headerNamesCompareWithoutCaseAndOnlyForLetters() {
        #expect(HTTPHeaders.sameName("Content-Length", "content-length"))
        #expect(HTTPHeaders.sameName("X-REQUEST-ID", "x-request-id"))
        #expect(!HTTPHeaders.sameName("Content-Length", "Content-Lengt"))
        #expect(!HTTPHeaders.sameName("a-b", "a_b"))
        #expect(!HTTPHeaders.sameName("a@", "a`"), "0x40 and 0x60 differ by 0x20 but are not letters")
        #expect(HTTPHeaders.sameName("", ""))
        #expect(!HTTPHeaders.sameName("", "a"))
        // Names of 8 bytes and more are compared a word at a time: a difference at any byte,
        // in the words or in the tail, and the pairs that differ by 0x20 without being letters.
        let name = Array("Inference-Header-Content-Length".utf8)
        #expect(HTTPHeaders.sameName(String(decoding: name, as: UTF8.self), "inference-header-content-length"))
        for k in name.indices {
            for changed: UInt8 in [name[k] ^ 0x20, name[k] ^ 0x01] {
                var other = name
                other[k] = changed
                let letter = ByteClass.lowercased(changed) == ByteClass.lowercased(name[k])
                #expect(HTTPHeaders.sameName(String(decoding: name, as: UTF8.self), String(decoding: other, as: UTF8.self)) == letter, "byte \(k)")
            }
        }
        #expect(!HTTPHeaders.sameName("accept-@@@@", "accept-````"))
        #expect(!HTTPHeaders.sameName("x-[\\]^-long-name", "x-{|}~-long-name"))
    }

    @Test func settingAHeaderReplacesItInPlaceAndDropsItsRepeats() {
        var headers: HTTPHeaders = ["A": "1", "x-request-id": "old", "B": "2"]
        headers.set("X-Request-Id", "new")
        #expect(headers.fields.map { "\($0.name)=\($0.value)" } == ["A=1", "X-Request-Id=new", "B=2"])
        headers.add("x-REQUEST-id", "again")
        headers.add("C", "3")
        headers.set("X-Request-Id", "last")
        #expect(headers.fields.map { "\($0.name)=\($0.value)" } == ["A=1", "X-Request-Id=last", "B=2", "C=3"])
        headers.set("D", "4")
        #expect(headers["d"] == "4" && headers.count == 5)
    }

    /// New ids: `<process prefix>-<counter in hex>`, one apart, visible ASCII only.
    @Test func generatedRequestIDsCountInHexAfterAProcessPrefix() throws {
        let ids = (0..<40).map { _ in RequestID.generate() }
        var previous: UInt64?
        for id in ids {
            let parts = id.split(separator: "-")
            #expect(parts.count == 2, "\(id)")
            #expect(parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { ByteClass.hexValue($0) != nil && !($0 >= 0x41 && $0 <= 0x46) } }, "\(id)")
            #expect(parts.first == ids[0].split(separator: "-").first)
            let counter = try #require(UInt64(parts.last ?? "", radix: 16))
            if let previous { #expect(counter > previous, "\(id)") }
            previous = counter
        }
        // Other tests generate ids concurrently, so consecutive calls here are increasing, not adjacent.
        #expect(Set(ids).count == ids.count)
    }

    @Test func parametersArePercentDecoded() {
        #expect(parameters("GET", "/v1/models/spam%20filter") == ["name": "spam filter"])
        #expect(parameters("GET", "/v1/models/a%3Ab") == ["name": "a:b"])
    }

    @Test func segmentsKeepEmptyOnesInOrder() {
        /// The segments `segmentBounds` finds, as strings.
        func segments(of path: String) -> [String] {
            var path = path
            return path.withUTF8 { bytes in
                let count = bytes.count { $0 == UInt8(ascii: "/") }
                var bounds = [Range<Int>](repeating: 0..<0, count: count)
                bounds.withUnsafeMutableBufferPointer { RouteTable.segmentBounds(of: bytes, into: $0) }
                return bounds.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
            }
        }
        #expect(segments(of: "/") == [""])
        #expect(segments(of: "/v1/models/x:predict") == ["v1", "models", "x:predict"])
        #expect(segments(of: "/a//b/") == ["a", "", "b", ""])
        #expect(segments(of: "/caf\u{E9}/\u{1F600}") == ["caf\u{E9}", "\u{1F600}"])
    }

    @Test func parametersWithoutEscapesAreTakenAsTheyAre() {
        #expect(PercentDecoding.pathParameter("prohibited-items") == "prohibited-items")
        #expect(PercentDecoding.pathParameter("caf\u{E9}") == "caf\u{E9}")
        #expect(PercentDecoding.pathParameter("a\u{0}b") == nil)
        #expect(PercentDecoding.pathParameter("a/b") == nil)
        #expect(PercentDecoding.pathParameter(".") == nil)
        #expect(PercentDecoding.pathParameter("") == nil)
        #expect(PercentDecoding.pathParameter("caf%C3%A9") == "caf\u{E9}")
        #expect(PercentDecoding.pathParameter("%C3") == nil)  // not UTF-8 once decoded
    }

    @Test func parametersThatCouldLeaveADirectoryAre400() {
        for path in ["/v1/models/..%2Fetc", "/v1/models/%2e%2e", "/v1/models/a%00b", "/v1/models/%zz", "/v1/models/.."] {
            #expect(failure("GET", path)?.status == .badRequest, "\(path)")
        }
    }

    @Test func unknownPathIs404() {
        #expect(failure("GET", "/nope")?.status == .notFound)
        #expect(failure("GET", "/health/live/extra")?.status == .notFound)
        #expect(failure("GET", "/v1/models/")?.status == .notFound)
    }

    @Test func wrongMethodIs405WithSortedAllowIncludingHead() {
        let error = failure("DELETE", "/v1/models/x")
        #expect(error?.status == .methodNotAllowed)
        #expect(error?.extraHeaders["Allow"] == "GET, HEAD")
    }

    @Test func headIsServedByTheGetRoute() {
        #expect(parameters("HEAD", "/health/live") == [:])
    }

    @Test func throwingHandlerBecomesA500AndTheDetailGoesToTheLogOnly() {
        struct Secret: Error {}
        var router = Router()
        router.add("GET", "/x") { _ in throw Secret() }
        var logged: [String] = []
        let head = HTTPRequestHead(
            method: "GET", target: "/x", path: "/x", query: nil, version: .http1_1, headers: [:], framing: .none,
            keepAlive: true, expectsContinue: false)
        let response = router.frozen().respond(to: HTTPRequest(head: head), log: { logged.append($0) })
        #expect(response.status == .internalServerError)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("Secret"))
        #expect(logged.count == 1 && logged[0].contains("Secret"))
    }

    @Test func handlerErrorWithAStatusKeepsItsStatusAndHeaders() {
        var router = Router()
        router.add("GET", "/x") { _ in throw HTTPError(.tooManyRequests, detail: "slow down", headers: ["Retry-After": "1"]) }
        let head = HTTPRequestHead(
            method: "GET", target: "/x", path: "/x", query: nil, version: .http1_1, headers: [:], framing: .none,
            keepAlive: true, expectsContinue: false)
        let response = router.frozen().respond(to: HTTPRequest(head: head), log: nil)
        #expect(response.status == .tooManyRequests)
        #expect(response.headers["Retry-After"] == "1")
        #expect(response.headers["Content-Type"] == "application/problem+json")
    }
}

@Suite(.timeLimit(.minutes(10))) struct ProblemDetailsTests {
    @Test func encodesAllFieldsWithEscaping() {
        var problem = ProblemDetails(status: .unprocessableContent, detail: "bad \"title\"\n\u{01}é", instance: "/v1/x")
        problem.errors = [.init(pointer: "/instances/0/price_usd", problem: "must be a number")]
        let json = String(decoding: problem.jsonBytes(), as: UTF8.self)
        #expect(json == #"{"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"bad \"title\"\n\u0001é","instance":"/v1/x","errors":[{"pointer":"/instances/0/price_usd","problem":"must be a number"}]}"#)
    }

    @Test func omitsInstanceAndEmptyErrors() {
        let json = String(decoding: ProblemDetails(status: .notFound, detail: "x").jsonBytes(), as: UTF8.self)
        #expect(json == #"{"type":"about:blank","title":"Not Found","status":404,"detail":"x"}"#)
    }

    @Test func parseErrorsMapToTheirStatus() {
        let response = ErrorResponder.response(for: HTTPParseError.headersTooLarge)
        #expect(response.status == .headerFieldsTooLarge)
        #expect(String(decoding: response.body, as: UTF8.self).contains("\"status\":431"))
    }
}

@Suite(.timeLimit(.minutes(10))) struct ResponseEncoderTests {
    func encode(_ response: HTTPResponse, headOnly: Bool = false, keepAlive: Bool = true, version: HTTPVersion = .http1_1) -> String {
        var out: [UInt8] = []
        ResponseEncoder.encode(
            OutgoingResponse(response: response, headOnly: headOnly, keepAlive: keepAlive, requestVersion: version),
            date: "Sun, 06 Nov 1994 08:49:37 GMT", into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func serverOwnsFramingHeaders() {
        let text = encode(HTTPResponse(
            headers: ["Content-Length": "999", "X-A": "1", "Connection": "upgrade", "X-Request-Id": "r1"], body: Array("hi".utf8)))
        #expect(text == "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-Request-Id: r1\r\nContent-Length: 2\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nhi")
    }

    @Test func aResponseWithoutARequestIdGetsANewOne() {
        let first = encode(HTTPResponse())
        let second = encode(HTTPResponse())
        let id = { (text: String) in text.split(separator: "\r\n").first { $0.hasPrefix("X-Request-Id: ") } }
        #expect(id(first) != nil && id(second) != nil && id(first) != id(second))
    }

    /// Two bindings in place, more in the array; replacing and removing keep the order.
    @Test func pathParametersBindReplaceAndRemoveInOrder() {
        var parameters = PathParameters()
        #expect(parameters.isEmpty && parameters["a"] == nil)
        for (k, name) in ["a", "b", "c", "d"].enumerated() { parameters[name] = "\(k)" }
        #expect(!parameters.isEmpty && parameters.dictionary == ["a": "0", "b": "1", "c": "2", "d": "3"])
        parameters["b"] = "x"
        parameters["c"] = nil
        #expect(parameters["a"] == "0" && parameters["b"] == "x" && parameters["c"] == nil && parameters["d"] == "3")
        parameters["a"] = nil
        parameters["b"] = nil
        #expect(parameters.dictionary == ["d": "3"] && !parameters.isEmpty)
        parameters["d"] = nil
        #expect(parameters.isEmpty)
        let literal: PathParameters = ["name": "items", "version": "2"]
        #expect(literal["name"] == "items" && literal["version"] == "2")
    }

    /// The route chain's id goes in `requestID` (no copy of a shared response's headers); a
    /// header of the handler's own is written instead when there is one.
    @Test func theResponsesRequestIDIsWrittenUnlessAHeaderNamesOne() {
        let shared = HTTPResponse(headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        var answered = shared
        answered.requestID = "chain-1"
        #expect(encode(answered) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: chain-1\r\n"
            + "Content-Length: 2\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n{}")
        var own = HTTPResponse(headers: ["x-request-id": "handler-1"])
        own.requestID = "chain-2"
        let text = encode(own)
        #expect(text.contains("x-request-id: handler-1\r\n") && !text.contains("chain-2"))
    }

    @Test func headKeepsContentLengthButDropsTheBody() {
        let text = encode(HTTPResponse(body: Array("hello".utf8)), headOnly: true, keepAlive: false)
        #expect(text.hasSuffix("Content-Length: 5\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n"))
    }

    @Test func http10KeepAliveSaysSo() {
        #expect(encode(HTTPResponse(), version: .http1_0).contains("Connection: keep-alive\r\n"))
    }

    @Test func noContentHasNoLengthOrBody() {
        #expect(encode(HTTPResponse(status: .noContent, headers: ["X-Request-Id": "r2"], body: [1]))
            == "HTTP/1.1 204 No Content\r\nX-Request-Id: r2\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n")
    }

    /// Server-owned headers first, between and last, and bytes already in the buffer (a
    /// pipelined response before this one): the head is counted and written exactly.
    @Test func headsAreWrittenExactlyAfterWhatTheBufferHolds() {
        var out = Array("previous".utf8)
        ResponseEncoder.encode(
            OutgoingResponse(
                response: HTTPResponse(
                    status: .notFound,
                    headers: ["Date": "x", "A": "1", "transfer-encoding": "chunked", "B": "", "X-Request-Id": "r3", "Content-Length": "1"],
                    body: Array("nope".utf8)),
                headOnly: false, keepAlive: false, requestVersion: .http1_0),
            date: "Sun, 06 Nov 1994 08:49:37 GMT", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "previousHTTP/1.1 404 Not Found\r\nA: 1\r\nB: \r\nX-Request-Id: r3\r\n"
            + "Content-Length: 4\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\nnope")
    }

    @Test func dateIsIMFFixdate() {
        #expect(DateCache.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}

@Suite(.timeLimit(.minutes(10))) struct DeadlineHeapTests {
    func at(_ seconds: UInt64) -> MonotonicInstant { MonotonicInstant(nanoseconds: seconds * 1_000_000_000) }

    @Test func popsExpiredKeysEarliestFirstAndHonoursMovesAndRemovals() {
        var heap = DeadlineHeap()
        for key in Int32(1)...10 { heap.set(key, at(UInt64(20 - key))) }
        heap.set(3, at(1))      // moved earlier
        heap.set(10, at(100))   // moved later
        heap.set(5, nil)        // removed
        #expect(heap.earliest == at(1))
        #expect(heap.popExpired(now: at(12)) == [3, 9, 8])
        #expect(heap.popExpired(now: at(99)) == [7, 6, 4, 2, 1])
        #expect(heap.count == 1 && heap.deadline(of: 10) == at(100))
    }
}

@Suite(.timeLimit(.minutes(10))) struct DescriptorMapTests {
    /// Against a dictionary doing the same, over random sets and removals of descriptors.
    @Test func behavesAsADictionaryKeyedByDescriptor() {
        var map = DescriptorMap<Int>()
        var reference: [Int32: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let fd = Int32.random(in: 0..<300, using: &generator)
            let value: Int? = Bool.random(using: &generator) ? step : nil
            map[fd] = value
            reference[fd] = value
            #expect(map.count == reference.count)
            #expect(map[fd] == reference[fd])
            let probe = Int32.random(in: -3..<400, using: &generator)
            #expect(map[probe] == reference[probe])
        }
        #expect(map.values == reference.keys.sorted().map { reference[$0]! })
        #expect(map[-1] == nil && map[10_000] == nil)
        for fd in reference.keys { map[fd] = nil }
        #expect(map.isEmpty && map.values.isEmpty)
    }
}

@Suite(.timeLimit(.minutes(10))) struct ServerConfigurationTests {
    @Test func defaultsListenOnLoopback8080WithOneLoopPerCore() {
        let configuration = ServerConfiguration()
        #expect(configuration.host == "127.0.0.1" && configuration.port == 8080)
        // Counted independently: the kernel's online CPU list ("0-1", "0,2-3").
        let online = (try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? ""
        let cpus = online.filter { !$0.isWhitespace }.split(separator: ",").map { range -> Int in
            let ends = range.split(separator: "-").compactMap { Int($0) }
            return ends.count == 2 ? ends[1] - ends[0] + 1 : 1
        }.reduce(0, +)
        #expect(cpus > 0)
        #expect(configuration.eventLoopCount == cpus)
        #expect(configuration.backlog == 1024 && configuration.drainTimeout == 10)
    }

    @Test func startingTwiceIsAnError() throws {
        let server = HTTPServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1), router: Router())
        _ = try server.start()
        #expect(throws: HTTPServerError.alreadyStarted) { _ = try server.start() }
        server.stop()
        server.waitUntilStopped()
    }

    @Test func hostThatIsNotAnAddressFailsToStart() {
        let server = HTTPServer(configuration: ServerConfiguration(host: "not-an-ip", port: 0, eventLoopCount: 1), router: Router())
        #expect(throws: SystemError.self) { _ = try server.start() }
    }
}
