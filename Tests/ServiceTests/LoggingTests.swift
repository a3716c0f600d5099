import Logging
import Synchronization
import Testing
@testable import Service

@Suite struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLineWithDottedMetadata() throws {
        let lines = Mutex<[[UInt8]]>([])
        var logger = Logger(label: "vigia.test") { label in
            JSONLogHandler(label: label, level: .debug, sink: LogSink { bytes in lines.withLock { $0.append(bytes) } })
        }
        logger[metadataKey: "request.id"] = "r-1"
        logger.info("request finished", metadata: ["http.status": "200", "duration_ms": .stringConvertible(1.5)])
        logger.trace("not written")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try JSONParser.parse(Array(line.dropLast()))
        #expect(object["msg"] == "request finished")
        #expect(object["level"] == "info")
        #expect(object["logger"] == "vigia.test")
        #expect(object["request.id"] == "r-1")
        #expect(object["http.status"] == "200")
        #expect(object["duration_ms"] == 1.5)
        let timestamp = try #require(object["ts"]?.stringValue)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
    }
}
