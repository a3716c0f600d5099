import FoundationEssentials
import Testing
@testable import HTTPServer

/// Replays the fuzzer's committed inputs (fuzz/seeds, and any crash kept in fuzz/regressions)
/// through the same invariants the fuzzer checks, so `swift test` guards them without libFuzzer.
@Suite(.timeLimit(.minutes(10))) struct ParserSeedReplayTests {
    typealias F = ParserFixture

    static let fuzzDirectory = URL(filePath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "fuzz")

    /// Every input in `fuzz/<folder>`; a missing folder or unreadable file is an error, never
    /// an empty list that would make the replay check nothing.
    static func inputs(in folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = fuzzDirectory.appending(path: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try names.filter { !$0.hasSuffix(".md") }.sorted().map { name in
            (name, Array(try Data(contentsOf: directory.appending(path: name))))
        }
    }

    /// What each seed must parse to: a head with this framing, or a failure.
    static let expectedSeedOutcomes: [String: HeadParseResultKind] = [
        "absolute-form-http10": .complete(.none),
        "chunk-size-overflow": .complete(.chunked),
        "get-minimal": .complete(.none),
        "obs-fold": .failure(.obsoleteLineFolding),
        "options-asterisk": .complete(.none),
        "pipelined": .complete(.none),
        "post-chunked-trailer": .complete(.chunked),
        "post-content-length": .complete(.contentLength(2)),
        "smuggle-cl-te": .failure(.contentLengthWithTransferEncoding),
        "te-gzip-chunked": .failure(.unsupportedTransferCoding),
        "version-2": .failure(.unsupportedVersion),
    ]

    enum HeadParseResultKind: Equatable {
        case complete(BodyFraming)
        case failure(HTTPParseError)
    }

    @Test func everySeedParsesToItsExpectedOutcome() throws {
        let seeds = try Self.inputs(in: "seeds")
        #expect(Set(seeds.map(\.name)) == Set(Self.expectedSeedOutcomes.keys))
        for (name, bytes) in seeds {
            let kind: HeadParseResultKind? = switch F.parse(bytes) {
            case .complete(let head, _): .complete(head.framing)
            case .failure(let error): .failure(error)
            case .needMore: nil
            }
            #expect(kind == Self.expectedSeedOutcomes[name], "\(name)")
        }
    }

    @Test func fuzzInputsKeepTheFuzzerInvariants() throws {
        let inputs = try Self.inputs(in: "seeds") + Self.inputs(in: "regressions")
        #expect(inputs.count >= Self.expectedSeedOutcomes.count)
        for (name, bytes) in inputs {
            let whole = F.parse(bytes)
            for cut in 0..<bytes.count {
                let prefix = HTTPRequestParser.parseHead(bytes[0..<cut], limits: HTTPLimits())
                #expect(prefix == .needMore || prefix == whole, "\(name) prefix \(cut)")
            }
            guard case .complete(let head, let consumed) = whole else { continue }
            #expect(consumed > 0 && consumed <= bytes.count, "\(name)")
            // Headers read where they arrived answer as the same fields in a list do.
            let list = HTTPHeaders(head.headers.fields)
            for field in head.headers.fields {
                #expect(head.headers[field.name] == list[field.name], "\(name): \(field.name)")
                #expect(head.headers.values(field.name.uppercased()) == list.values(field.name), "\(name): \(field.name)")
                let sameBytes = head.headers.firstValue(field.name) { Array($0) == Array(list[field.name]!.utf8) }
                #expect(sameBytes == true || list[field.name]!.unicodeScalars.contains("\u{FFFD}"), "\(name): \(field.name)")
            }
            guard head.framing == .chunked else { continue }
            let rest = Array(bytes[consumed...])
            let wholeBody = F.decodeChunked(rest, maxBodyBytes: HTTPLimits().maxBodyBytes)
            for cut in 0...rest.count {
                let split = F.decodeChunked(rest, cuts: [cut], maxBodyBytes: HTTPLimits().maxBodyBytes)
                #expect(split.0 == wholeBody.0 && split.1 == wholeBody.1, "\(name) chunked cut \(cut)")
            }
        }
    }
}
