import Foundation
import HTTPServer
import Inference
import JSON
import Logging
import Testing
@testable import Service

/// A request thread's reused rows and arrays (`ReusedStorage`): what comes back is emptied,
/// and nothing of an earlier request shows in a later one's listings or answers.
@Suite(.timeLimit(.minutes(5))) struct ReusedStorageTests {
    static let full = #"{"id":"A","site_id":"MLB","title":"Pistola 9mm glock com carregador extra","category_id":"MLB1234","price_usd":850,"seller_age_days":3,"seller_sales":0,"seller_reputation":"new"}"#
    /// Optional fields left out: a reused row must not keep the previous listing's values.
    static let sparse = #"{"id":"B","site_id":"MLA","title":"Bolsa de couro","category_id":"MLA999","price_usd":120,"seller_age_days":400,"seller_sales":12}"#

    @Test func takenBackRowsAndArraysComeBackEmpty() throws {
        let storage = ReusedStorage()
        let before = storage.testsOnly_counts
        var contents = MonitorJob.Contents()
        contents.listings = [[.string("a long title that is not a small string"), .number(1)], [.bool(true), .missing]]
        contents.predictions = []
        contents.predictions.reserveCapacity(4)
        contents.termCounts = [nil, nil, nil, nil]
        storage.takeBack(from: &contents)
        #expect(contents.listings.isEmpty && contents.predictions.isEmpty && contents.termCounts == nil)
        let after = storage.testsOnly_counts
        #expect(after.rows == before.rows + 2)
        #expect(after.listings == before.listings + 1 && after.predictions == before.predictions + 1)
        #expect(after.termCounts == before.termCounts + 1)

        // Rows come back as missing values, at the width asked for.
        #expect(storage.row(width: 2) == [.missing, .missing])
        #expect(storage.row(width: 5) == [FeatureValue](repeating: .missing, count: 5))
        #expect(storage.listings().isEmpty)
        #expect(storage.predictions(capacity: 3).isEmpty)
        #expect(storage.termCounts(count: 3) == [nil, nil, nil])
    }

    /// A listing's longer texts go into buffers the thread keeps; a kept buffer is written
    /// again only once nothing else holds the value that had it.
    @Test func textBuffersAreWrittenAgainOnlyWhenNothingElseHoldsThem() {
        let storage = ReusedStorage()
        func text(_ s: String) -> FeatureValue { Array(s.utf8).withUnsafeBufferPointer { storage.text($0) } }
        func buffer(_ value: FeatureValue) -> TextBuffer? {
            if case .string(let text) = value { return text.buffer }
            return nil
        }
        func giveBack(_ row: [FeatureValue]) {
            var contents = MonitorJob.Contents()
            contents.listings = [row]
            storage.takeBack(from: &contents)
        }
        // Up to 15 bytes a small String, which costs no allocation.
        #expect(text("fifteen bytes!!") == .string("fifteen bytes!!") && buffer(text("fifteen bytes!!")) == nil)

        func identity(_ value: FeatureValue?) -> ObjectIdentifier? { value.flatMap(buffer).map(ObjectIdentifier.init) }
        var first: FeatureValue? = text("Pistola 9mm glock com carregador")
        let firstBuffer = identity(first)
        #expect(first == .string("Pistola 9mm glock com carregador") && firstBuffer != nil)
        giveBack([first!, .number(1)])
        #expect(storage.testsOnly_textBuffers == 1)
        // `first` still holds the buffer (so it lives, and no new one can take its address):
        // the next text gets a new one, and `first` keeps its text.
        var second: FeatureValue? = text("Bolsa de couro legítimo")
        #expect(identity(second) != firstBuffer)
        #expect(first == .string("Pistola 9mm glock com carregador") && second == .string("Bolsa de couro legítimo"))
        first = nil

        // Given back with no other holder, the buffer is the next text's.
        let secondBuffer = identity(second)
        giveBack([second!])
        second = nil
        let third = text("Réplica de fuzil airsoft")
        #expect(identity(third) == secondBuffer && third == .string("Réplica de fuzil airsoft"))

        // A text longer than a kept buffer has its own, which is not kept.
        let long = String(repeating: "x", count: ReusedStorage.textBufferCapacity + 1)
        let before = storage.testsOnly_textBuffers
        giveBack([text(long)])
        #expect(storage.testsOnly_textBuffers == before)
        #expect(text(long) == .string(long))
    }

    @Test func keepsBoundedStorage() {
        let storage = ReusedStorage()
        var contents = MonitorJob.Contents()
        contents.listings = [[FeatureValue]](repeating: [.missing], count: ReusedStorage.maxRows + 10)
        storage.takeBack(from: &contents)
        #expect(storage.testsOnly_counts.rows <= ReusedStorage.maxRows)
        // An array with room for a huge batch is let go of, and arrays are kept only while
        // their capacities sum to at most the limit.
        var huge = MonitorJob.Contents()
        huge.predictions.reserveCapacity(ReusedStorage.maxKeptElements + 1)
        storage.takeBack(from: &huge)
        #expect(storage.testsOnly_counts.predictions == 0)
        for _ in 0..<(ReusedStorage.maxArrays * 2) {
            var contents = MonitorJob.Contents()
            contents.predictions.reserveCapacity(ReusedStorage.maxKeptElements / 16)
            storage.takeBack(from: &contents)
        }
        #expect(storage.testsOnly_counts.predictions <= ReusedStorage.maxArrays)
        #expect(storage.testsOnly_predictionElements <= ReusedStorage.maxKeptElements)
        #expect(storage.testsOnly_predictionElements > ReusedStorage.maxKeptElements / 2)
        // What is taken out is no longer counted.
        let before = storage.testsOnly_predictionElements
        _ = storage.predictions(capacity: 1)
        #expect(storage.testsOnly_predictionElements < before)
    }

    /// Through the router, with each request's monitor job finished before the next (as a
    /// worker that keeps up finishes it): every answer is the model's for that body alone.
    @Test func answersDoNotCarryAnEarlierRequestsValues() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let configuration = try ServiceConfiguration.resolve(file: nil, environment: [
            "VIGIA_STORAGE_PATH": storage.root.path, "VIGIA_LOGGING_ACCESS_LOG": "false",
        ])
        let service = VigiaService(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // One pass on this thread loads and publishes the version (no watcher to wait for).
        service.registry.testsOnly_pollNow()
        #expect(service.registry.isReady)
        let serving = try service.registry.handle(model: storage.model).servable

        // The optional field matters to the score, so a value left over would show.
        let sparseWithReputation = Array(#"{"instances":[\#(Self.sparse.dropLast()),"seller_reputation":"new"}]}"#.utf8)
        let withReputation = try serving.generalInstances(of: sparseWithReputation).map { serving.model.predict($0).score }
        let without = try serving.generalInstances(of: Array(#"{"instances":[\#(Self.sparse)]}"#.utf8)).map { serving.model.predict($0).score }
        #expect(withReputation != without)

        let bodies = [Self.full, Self.sparse, "\(Self.sparse),\(Self.full)", "\(Self.full),\(Self.sparse),\(Self.sparse)"]
            .map { Array(#"{"instances":[\#($0)]}"#.utf8) }
        for round in 0..<40 {
            let body = bodies[round % bodies.count]
            let path = "/v1/models/\(storage.model):predict"
            var head = HTTPRequestHead(method: "POST", target: path, path: path, query: nil, version: .http1_1,
                                       headers: ["Host": "127.0.0.1", "Content-Type": "application/json"],
                                       framing: .contentLength(body.count), keepAlive: true, expectsContinue: false)
            head.headers.add("Content-Length", String(body.count))
            let response = service.router.respond(to: HTTPRequest(head: head, body: body))
            service.benchOnly_finishMonitorJobs()
            #expect(response.status == .ok)
            let expected = try serving.generalInstances(of: body).map { serving.model.predict($0).score }
            guard case .array(let predictions)? = try JSONParser.parse(response.body)["predictions"] else {
                Issue.record("no predictions in \(String(decoding: response.body, as: UTF8.self))")
                return
            }
            let scores = predictions.map { prediction -> Double? in
                if case .number(let score)? = prediction["score"] { score } else { nil }
            }
            #expect(scores == expected, "round \(round)")
        }
        // The rows did come back to this thread (else this test proves nothing).
        #expect(ReusedStorage.perThread.current.testsOnly_counts.rows > 0)
    }
}
