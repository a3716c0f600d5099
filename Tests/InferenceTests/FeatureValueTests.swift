import FoundationEssentials
import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct FeatureValueTests {
    @Test func decodesJSONScalarsWithoutConfusingNumbersAndBooleans() throws {
        let json = #"{"one": 1, "zero": 0, "yes": true, "no": false, "none": null, "text": "1", "real": 2.5}"#
        let values = try JSONDecoder().decode([String: FeatureValue].self, from: Data(json.utf8))
        #expect(values == ["one": .number(1), "zero": .number(0), "yes": .bool(true), "no": .bool(false),
                           "none": .missing, "text": .string("1"), "real": .number(2.5)])
    }

    @Test func rejectsArraysAndObjects() {
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([String: FeatureValue].self, from: Data(#"{"a": [1]}"#.utf8))
        }
    }

    @Test func roundTripsThroughJSON() throws {
        let values: [FeatureValue] = [.string("ação"), .number(-3.25), .bool(true), .missing]
        let data = try JSONEncoder().encode(values)
        #expect(try JSONDecoder().decode([FeatureValue].self, from: data) == values)
    }

    static func buffered(_ text: String) -> FeatureText {
        var none: TextBuffer?
        return FeatureText(buffer: Array(text.utf8).withUnsafeBufferPointer { TextBuffer.holding($0, reusing: &none, minimumCapacity: 0) })
    }

    /// A text in a buffer is the same value as the String of its bytes: equal, hashed alike,
    /// encoded alike, read alike.
    @Test func aBufferedTextIsTheStringOfItsBytes() throws {
        for text in ["", "short", "Pistola 9mm glock com carregador", "Envío réplica 東京 😀"] {
            let buffered = Self.buffered(text)
            #expect(buffered.buffer != nil && FeatureText(text).buffer == nil)
            #expect(buffered == FeatureText(text) && FeatureText(text) == buffered)
            #expect(buffered.hashValue == FeatureText(text).hashValue)
            #expect(buffered.string == text && buffered.utf8Count == text.utf8.count)
            #expect(buffered.withUTF8 { Array($0) } == Array(text.utf8))
            #expect(FeatureValue.string(buffered) == .string(text))
            #expect(try JSONEncoder().encode(FeatureValue.string(buffered)) == JSONEncoder().encode(FeatureValue.string(text)))
        }
        #expect(Self.buffered("abc") != FeatureText("abd"))
        // Canonically equivalent texts are equal, as Strings are (é precomposed and decomposed).
        #expect(Self.buffered("\u{E9}") == FeatureText("e\u{301}"))
    }

    /// A buffer is written again only when nothing else holds it and the text fits.
    @Test func aBufferIsWrittenAgainOnlyWhenUnsharedAndLargeEnough() {
        func holding(_ text: String, reusing given: TextBuffer?, minimum: Int = 0) -> TextBuffer {
            var kept = given
            return Array(text.utf8).withUnsafeBufferPointer { TextBuffer.holding($0, reusing: &kept, minimumCapacity: minimum) }
        }
        let first = holding("a title of thirty-two bytes, ok", reusing: nil, minimum: 64)
        #expect(first.capacity == 64)
        let held = FeatureText(buffer: first)  // a value holds it: it must keep its text
        let second = holding("another title", reusing: first)
        #expect(second !== first && held.string == "a title of thirty-two bytes, ok")

        var unshared: TextBuffer? = holding("x", reusing: nil, minimum: 8)
        let address = ObjectIdentifier(unshared!)
        let refilled = Array("eight b!".utf8).withUnsafeBufferPointer { TextBuffer.holding($0, reusing: &unshared, minimumCapacity: 0) }
        #expect(ObjectIdentifier(refilled) == address && FeatureText(buffer: refilled).string == "eight b!")
        let grown = holding("nine bytes", reusing: refilled)  // shared with `refilled` here, and too small
        #expect(grown.capacity >= 10 && FeatureText(buffer: grown).string == "nine bytes")
    }

    /// The pipeline scores a buffered text exactly as the same String.
    @Test func theModelScoresABufferedTitleAsTheString() throws {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try LoadedModel.load(directory: root.appending(path: "models/prohibited-items/1").path, checkLocation: false)
        let titleIndex = try #require(model.manifest.signature.index(of: "title"))
        for title in ["Pistola Glock 9mm réplica com carregador", "Bolsa de couro legítimo, nova", "ÉÇÃ ΣΑΣ ﬁ ①"] {
            var values = model.manifest.signature.fields.map { _ in FeatureValue.missing }
            values[titleIndex] = .string(title)
            var buffered = values
            buffered[titleIndex] = .string(Self.buffered(title))
            #expect(model.predict(buffered).score == model.predict(values).score, "\(title)")
            #expect(model.features(buffered) == model.features(values))
        }
    }
}
