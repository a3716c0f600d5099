import Foundation
import Inference
import JSON
import Testing
@testable import Service

/// The one-pass predict decoder against the general path (parse → validate → features):
/// it may decline a body, but whatever it returns must be exactly what the general path
/// gives, and it must never accept a body the general path refuses.
@Suite(.timeLimit(.minutes(10))) struct ListingDecoderTests {
    let serving: ServingModel

    init() throws {
        serving = ServingModel(model: try defaultModel.get(), maxBatchSize: 3)
    }

    /// What a path answers for a body: pipeline input, or the 400 / 422 error with its reason
    /// or every problem, so two paths agree only when a client could not tell them apart.
    enum Outcome: Equatable {
        case decoded([[FeatureValue]])
        case malformed(JSONParseError)
        case violation([FieldProblem])
        case other(String)

        init(_ body: () throws -> [[FeatureValue]]) {
            do {
                self = .decoded(try body())
            } catch let error as JSONParseError {
                self = .malformed(error)
            } catch ContractError.schemaViolation(let problems) {
                self = .violation(problems)
            } catch {
                self = .other("\(error)")
            }
        }

        var decoded: [[FeatureValue]]? {
            if case .decoded(let values) = self { values } else { nil }
        }
    }

    /// The production general path (parse → validate → features), bypassing the decoder.
    func generalPath(_ body: [UInt8]) -> Outcome { Outcome { try serving.generalInstances(of: body) } }

    static let listing = #"{"id":"L1","site_id":"MLB","title":"Pistola 9mm glock","category_id":"MLB1234","price_usd":850,"seller_age_days":3,"seller_sales":0,"seller_reputation":"new"}"#
    static let conforming: [String] = [
        #"{"instances":[\#(listing)]}"#,
        #" { "instances" : [ \#(listing) , {"id":"L2","site_id":"MLA","title":"Pistola de silicona \u00e7 \ud83d\ude00 \"x\"","category_id":"C","price_usd":12.5e0,"seller_age_days":900,"seller_sales":340,"seller_reputation":null} ] } "#,
        #"{"instances":[{"seller_sales":1,"price_usd":0,"extra":{"a":[1,{"b":null}]},"id":"x","site_id":"MLB","title":"t","category_id":"C","seller_age_days":1e2,"more":"ignored"}]}"#,
        #"{"instances":[{"id":"x","site_id":"MLB","ti\u0074le":"escaped name","category_id":"C","price_usd":-0,"seller_age_days":1,"seller_sales":1}]}"#,
    ]
    static let refused: [String] = [
        "", "{}", #"{"instances":[]}"#, #"{"instances":{}}"#, #"{"instances":[\#(listing)],"x":1}"#,
        #"{"instances":[\#(listing)],"instances":[\#(listing)]}"#, #"{"instances":[\#(listing),\#(listing),\#(listing),\#(listing)]}"#,
        #"{"instances":[{"id":"x","id":"y","site_id":"MLB","title":"t","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}]}"#,
        #"{"instances":[{"id":"x","site_id":"MLB","title":null,"category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}]}"#,
        #"{"instances":[{"id":"x","site_id":"MLB","title":["t"],"category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}]}"#,
        #"{"instances":[{"id":"x","site_id":"MLB","title":"t","category_id":"C","price_usd":-1,"seller_age_days":1,"seller_sales":1}]}"#,
        #"{"instances":[{"site_id":"MLB","title":"t","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}]}"#,
        #"{"instances":[{"id":"x","site_id":"MLB","title":"t","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1,"u":1,"u":2}]}"#,
        #"{"instances":[\#(listing)]} x"#, #"{"instances":[\#(listing)"#, #"{"instances":[NaN]}"#, "[1]",
    ]

    @Test func decodesConformingBodiesExactlyAsTheGeneralPath() throws {
        for text in Self.conforming {
            let body = Array(text.utf8)
            let expected = try #require(generalPath(body).decoded, "the general path accepts \(text)")
            #expect(serving.listingDecoder?.decode(body) == expected, "\(text)")
        }
    }

    @Test func declinesEveryBodyTheGeneralPathRefuses() {
        for text in Self.refused {
            let body = Array(text.utf8)
            #expect(generalPath(body).decoded == nil, "the general path refuses \(text)")
            #expect(serving.listingDecoder?.decode(body) == nil, "\(text)")
        }
    }

    /// Deterministic mutations of the bodies above (bytes replaced, inserted, deleted): the
    /// decoder's answer is the general path's or nothing.
    @Test func agreesWithTheGeneralPathOnMutatedBodies() {
        var state: UInt64 = 0x5EED_2026_1123
        func random(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \"\ntfnulrasxé"#.utf8) + [0x00, 0xC3, 0xFF]
        let seeds = (Self.conforming + Self.refused).map { Array($0.utf8) }.filter { !$0.isEmpty }
        var decoded = 0, agreed = 0
        for _ in 0..<20_000 {
            var body = seeds[random(seeds.count)]
            for _ in 0...random(3) {
                let at = random(body.count)
                switch random(3) {
                case 0: body[at] = alphabet[random(alphabet.count)]
                case 1: body.insert(alphabet[random(alphabet.count)], at: at)
                default: if body.count > 1 { body.remove(at: at) }
                }
            }
            let fast = serving.listingDecoder?.decode(body)
            let general = generalPath(body)
            if let fast {
                decoded += 1
                if .decoded(fast) == general { agreed += 1 } else { Issue.record("differs on \(String(decoding: body, as: UTF8.self))") }
            }
            // What the route answers (status, reason, problem list) is the general path's.
            let served = Outcome { try serving.instances(of: body) }
            #expect(served == general, "\(String(decoding: body, as: UTF8.self))")
            if case .other(let error) = general { Issue.record("neither 400 nor 422: \(error)") }
        }
        #expect(decoded > 100, "mutations that stay valid exercise the decoder (\(decoded))")
        #expect(agreed == decoded)
    }

    /// A signature wider than the decoder's 64-bit field mask has no one-pass decoder: every
    /// body, conforming or not, is answered by the general path, with the same outcome.
    @Test func aSignatureOfMoreThan64FieldsIsServedByTheGeneralPath() throws {
        let names = (0...64).map { "x\($0)" }
        let signature = Signature(fields: names.map { FieldSpec(name: $0, type: .number, required: true) })
        let pipeline = PipelineSpec(transformers: names.map { .numeric(NumericSpec(field: $0)) })
        let manifest = ModelManifest(
            formatVersion: 2, name: "wide", version: 1, created: "2026-12-03T00:00:00Z", algorithm: .logisticRegression,
            signature: signature, pipeline: pipeline,
            model: ModelParameters(weights: .inline(names.map { _ in 0.01 }), intercept: 0), threshold: 0.5, labels: ["0", "1"],
            example: Example(input: Dictionary(uniqueKeysWithValues: names.map { ($0, FeatureValue.number(0)) }), expectedScore: 0.5),
            dataset: DatasetInfo(name: "d", version: "1", fingerprint: "f"))
        let wide = ServingModel(model: try LoadedModel(manifest: manifest), maxBatchSize: 3)
        #expect(wide.listingDecoder == nil)

        let listing = "{" + names.enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}"
        let conforming = Array(#"{"instances":[\#(listing),\#(listing)]}"#.utf8)
        let general = Outcome { try wide.generalInstances(of: conforming) }
        #expect(general.decoded?.count == 2)
        #expect(general.decoded?.first?.count == 65)
        #expect(Outcome { try wide.instances(of: conforming) } == general)

        let missingLast = "{" + names.dropLast().map { #""\#($0)":1"# }.joined(separator: ",") + "}"
        let refused = Array(#"{"instances":[\#(missingLast)]}"#.utf8)
        let violation = Outcome { try wide.instances(of: refused) }
        guard case .violation(let problems) = violation else {
            Issue.record("a missing required field is a 422, got \(violation)")
            return
        }
        #expect(problems.contains { $0.pointer.contains("x64") || $0.problem.contains("x64") }, "\(problems)")
        #expect(violation == Outcome { try wide.generalInstances(of: refused) })
    }

    /// Around the nesting limit (64 levels) an ignored member nested deeper and deeper is
    /// decoded, then refused with the same reason, by the decoder and the general path alike.
    @Test func bothPathsAgreeAtTheNestingLimit() throws {
        var last: Outcome?
        var crossedTheLimit = false
        for depth in 55...66 {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let body = Array(#"{"instances":[{"id":"L1","site_id":"MLB","title":"t","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1,"extra":\#(nested)}]}"#.utf8)
            let general = generalPath(body)
            #expect(Outcome { try serving.instances(of: body) } == general, "depth \(depth)")
            if case .malformed(let error) = general {
                #expect(error.reason.contains("nest"), "\(error)")
                if last?.decoded != nil { crossedTheLimit = true }
            }
            last = general
        }
        #expect(crossedTheLimit, "the range spans the limit: accepted, then refused")
    }
}
