import FoundationEssentials
import Testing
@testable import Inference

/// Texts no step may change: prices, sizes, model numbers, fractions, dates, abbreviations of
/// two letters, ordinary words with double letters, Roman numerals and XXXL sizes.
private let ordinaryTexts = [
    "r$ 25,90", "us$ 1.299,00", "2mg", "100 ml", "60up7750", "1/2/3/4", "12x sem juros", "ps4", "i7-8700k", "b12",
    "mp3", "4k", "h2o", "covid-19", "1080p", "usb 3.0", "s.a.", "carro", "arroz", "cachorro", "guarda-chuva",
    "camiseta xxxl", "rocky iii", "henrique viii", "xxiii", "pilha aaa", "wi-fi", "ak-47", "kit c/ 3", "tamanhos p m g",
    "pistola de pressão", "snake_case", "60 un", "10.000 mah", "2 a 3", "e-mail", "50%", "fone bluetooth 5.0",
]

private func steps(_ list: [NormalizationStep]) -> TextNormalization { TextNormalization(list) }

@Suite(.timeLimit(.minutes(10))) struct TextNormalizationTests {
    @Test func noStepChangesOrdinaryText() {
        for step in NormalizationStep.allCases {
            for text in ordinaryTexts {
                #expect(steps([step]).apply(to: text) == text, "\(step): \(text)")
            }
        }
        for text in ordinaryTexts { #expect(TextNormalization.all.apply(to: text) == text, "all: \(text)") }
    }

    @Test(arguments: [
        ("rivotril", "rivotril"),
        ("rіvоtrіl", "rivotril"),  // Cyrillic і, о
        ("ΡΙΣΤΟΛΑ", "PIΣTOΛA"),  // Greek capitals: Ρ Ι Τ Ο Α map; Σ and Λ have no Latin look-alike
        ("ԁ һ ԛ ԝ ӏ", "d h q w l"),
        ("ёлка", "eлka"),  // accented Cyrillic maps like its base letter
        ("ｒｉｖｏｔｒｉｌ ６０", "rivotril 60"),  // full-width
        ("𝐫𝐢𝐯𝐨 𝑹𝑰𝑽𝑶 𝟗𝐦𝐦", "rivo RIVO 9mm"),  // mathematical bold, bold italic, bold digits
        ("ℛℯ𝓂ℯ𝒹𝒾ℴ ⓡⓘⓥⓞ", "Remedio rivo"),  // letterlike script letters, circled letters
        ("ℓ ™ ① ⑩ №", "l ™ 1 ⑩ №"),  // several-letter decompositions stay
        ("日本 العربية 한국", "日本 العربية 한국"),
    ])
    func homoglyphsMapLookAlikesToLatin(input: String, expected: String) {
        #expect(steps([.homoglyphs]).apply(to: input) == expected)
    }

    @Test(arguments: [
        ("r.i.v.o.t.r.i.l", "rivotril"),
        ("r-i-v-o-t-r-i-l 2mg", "rivotril 2mg"),
        ("r_i_v_o", "rivo"),
        ("r i v o t r i l", "rivotril"),
        ("compre r.i.v.o.t.r.i.l. já", "compre rivotril. já"),
        ("a.b.c", "abc"),  // three letters suffice with dots, hyphens and underscores
        ("a b c", "a b c"),  // … four with spaces
        ("a b c d", "abcd"),
        ("r\u{200B}i\u{200B}v\u{200B}o", "rivo"),  // zero-width characters between letters
        ("g\u{00AD}lo\u{200D}\u{200C}ck", "glock"),  // soft hyphen, ZWJ + ZWNJ
        ("\u{200B}oi \u{200B}", "\u{200B}oi \u{200B}"),  // not between two word characters
        ("👨\u{200D}👩", "👨\u{200D}👩"),  // emoji sequences keep their joiner
        ("u.s.a", "usa"),
        ("r.i.v.o t.r.i.l", "rivo tril"),  // one separator per run: the space between words stays
        ("r.i-v_o", "r.i-v_o"),
        ("a. b. c.", "a. b. c."),  // two separators between letters: not a run
        ("ab.c.d", "ab.c.d"),  // the first piece is not a single letter
        ("1.2.3.4", "1.2.3.4"),
    ])
    func separatorsRejoinSeparatedLetters(input: String, expected: String) {
        #expect(steps([.separators]).apply(to: input) == expected)
    }

    @Test(arguments: [
        ("r1v0tr1l", "rivotril"),
        ("0x1c0d0n4", "oxicodona"),  // edges too, once the token has a leet character inside
        ("pist0la 9mm", "pistola 9mm"),
        ("c@nn@b!s", "cannabis"),
        ("m4c0nh4 $k4nk", "maconha skank"),
        ("v1agr4 100mg", "viagra 100mg"),
        ("ab12cd", "ab12cd"),  // 2 is no leet character: 1 is not between letters
        ("4pack", "4pack"),  // a digit at the edge only: left alone
        ("3ritromicina", "3ritromicina"),
        ("kit3pcs", "kitepcs"),  // the documented limit: a digit glued between letters is read
    ])
    func leetspeakReadsDigitsAndSymbolsAsLetters(input: String, expected: String) {
        #expect(steps([.leetspeak]).apply(to: input) == expected)
    }

    @Test(arguments: [
        ("riiivotril", "rivotril"),
        ("RIIIIIVOTRIL", "RIVOTRIL"),
        ("gloooock", "glock"),
        ("carrro", "caro"),  // three or more become one, whatever the language's double letters
        ("carro", "carro"),
        ("aaah", "aaah"),  // shorter than five letters
        ("xxxxl", "xxxxl"),  // Roman-numeral letters only
        ("vvviagra", "viagra"),
    ])
    func repeatsCollapseLongRuns(input: String, expected: String) {
        #expect(steps([.repeats]).apply(to: input) == expected)
    }

    /// Skipping the steps a survey finds nothing for gives what running every step gives:
    /// random texts over single letters, separators, digits, leetspeak, repeats, accents and
    /// zero-width characters, runs that rejoining or leetspeak make included.
    @Test func skippedStepsWouldNotHaveChangedTheText() {
        let alphabet: [Unicode.Scalar] = ["a", "b", "x", "I", "1", "3", "@", "$", "!", ".", "-", "_", " ", " ", "é", "ß",
                                          "\u{200B}", "\u{00AD}", "o", "o", "7"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var scalars = (0..<Int.random(in: 0...14, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            var reference = scalars
            let skipped = scalars.withUnsafeMutableBufferPointer { buffer in
                ContextualNormalizer.apply(.all, present: ContextualNormalizer.survey(buffer, count: buffer.count), to: buffer, count: buffer.count)
            }
            let full = reference.withUnsafeMutableBufferPointer { ContextualNormalizer.apply(.all, to: $0, count: $0.count) }
            #expect(Array(scalars[0..<skipped]) == Array(reference[0..<full]), "\(String(String.UnicodeScalarView(reference)))")
            if Array(scalars[0..<skipped]) != Array(reference[0..<full]) { return }
        }
    }

    /// Runs that an earlier step makes are collapsed too, in scoring as in `apply(to:)`: the
    /// documented order is separators → leetspeak → repeats.
    @Test(arguments: [
        ("r.i.i.i.v.o.t.r.i.l", "rivotril"),  // rejoined, then collapsed
        ("gl0o0ck", "glock"),  // read, then collapsed
        ("gloo\u{200B}oock", "glock"),  // joined across a zero-width space, then collapsed
    ])
    func runsMadeByEarlierStepsCollapse(input: String, expected: String) {
        #expect(TextNormalization.all.apply(to: input) == expected)
        let extractor = TermExtractor(ngramMin: 1, ngramMax: 1, normalization: .all)
        #expect(extractor.terms(in: input) == [expected])
    }

    @Test func stepsRunInTheirFixedOrderWhateverTheListOrder() {
        #expect(TextNormalization([.repeats, .homoglyphs]) == TextNormalization([.homoglyphs, .repeats]))
        #expect(TextNormalization([.repeats, .leetspeak, .separators, .homoglyphs]).steps == NormalizationStep.allCases)
        #expect(TextNormalization.none.isEmpty && TextNormalization.none.steps.isEmpty)
    }

    @Test func theExtractorNormalisesAroundLowercasingAndAccentStripping() {
        let extractor = TermExtractor(ngramMin: 1, ngramMax: 1, normalization: .all)
        #expect(extractor.terms(in: "R.I.V.O.T.R.I.L 2mg") == ["rivotril", "2mg"])
        #expect(extractor.terms(in: "R1V0TR1L") == ["rivotril"])
        #expect(extractor.terms(in: "РІЅТОLА Glock") == ["pistola", "glock"])  // Cyrillic capitals, lowercased after mapping
        #expect(extractor.terms(in: "Remédiooo contrôlado") == ["remedio", "controlado"])  // accents stripped before repeats
        #expect(extractor.terms(in: "Smart TV 60UP7750 R$ 2.999") == TermExtractor(ngramMin: 1, ngramMax: 1).terms(in: "Smart TV 60UP7750 R$ 2.999"))
        #expect(TermExtractor.preprocess("Ｐ.Ｉ.Ｓ.Ｔ.Ｏ.Ｌ.Ａ", normalization: .all) == "pistola")
        // char_wb n-grams read the normalised text too.
        let chars = TermExtractor(analyzer: .charWB, ngramMin: 3, ngramMax: 3, normalization: .all)
        #expect(chars.terms(in: "g.l.o.c.k") == chars.terms(in: "glock"))
    }

    @Test func withoutStepsTheExtractorIsUnchanged() {
        let plain = TermExtractor(ngramMin: 1, ngramMax: 2)
        for text in ["r1v0tr1l", "r.i.v.o", "rіvоtrіl", "riiiivotril", "Ｆｕｌｌ 𝐛𝐨𝐥𝐝"] {
            #expect(plain.terms(in: text) == TermExtractor(ngramMin: 1, ngramMax: 2, normalization: .none).terms(in: text))
        }
        #expect(plain.terms(in: "r1v0tr1l") == ["r1v0tr1l"])
        #expect(plain.terms(in: "rіvоtrіl") == ["rіvоtrіl"])
    }

    @Test func aTextThatGrowsUnderDecompositionTakesTheHeapPathAndGivesTheSameTerms() {
        // U+FDFA decomposes to 18 scalars: the buffer sized from the UTF-8 length overflows.
        let text = String(repeating: "\u{FDFA}", count: 40) + " r.i.v.o.t.r.i.l"
        let terms = TermExtractor(ngramMin: 1, ngramMax: 1, normalization: .all).terms(in: text)
        #expect(terms.last == "rivotril")
        #expect(terms.count == TermExtractor(ngramMin: 1, ngramMax: 1).terms(in: String(repeating: "\u{FDFA}", count: 40)).count + 1)
    }

    @Test func theArtifactRecordsTheStepsAndNeedsFormatThree() throws {
        var spec = Fixture.titleSpec()
        spec.normalization = TextNormalization([.leetspeak, .homoglyphs])
        var manifest = Fixture.manifest(pipeline: PipelineSpec(transformers: [.text(spec), .categorical(Fixture.category),
                                                                              .numeric(Fixture.price), .boolean(Fixture.warranty)]))
        #expect(manifest.requiredFormat.version == 3)
        #expect(manifest.formatVersion == 3)
        let json = String(decoding: try ArtifactWriter.encodeManifest(manifest), as: UTF8.self)
        #expect(json.contains("\"normalize\" : [\n") && json.contains("\"homoglyphs\",\n") && json.contains("\"leetspeak\"\n"))
        let decoded = try LoadedModel.decodeManifest(Array(json.utf8))
        #expect(decoded == manifest)
        // Served as trained: the disguised title scores like the clean one.
        let model = try LoadedModel(manifest: manifest, verifyExample: false)
        var clean = Fixture.exampleValues, disguised = Fixture.exampleValues
        clean[1] = .string("pistola glock")
        disguised[1] = .string("р1ѕт0lа gl0ck")
        #expect(model.predict(disguised).score == model.predict(clean).score)
        // A format 2 manifest may not carry the steps.
        manifest.formatVersion = 2
        #expect(throws: ArtifactError(.unsupportedFormatVersion, "")) { try LoadedModel(manifest: manifest, verifyExample: false) }
    }

    @Test func artifactsWithoutStepsStayFormatOneAndByteForByteTheSame() throws {
        let manifest = Fixture.manifest()
        #expect(manifest.requiredFormat.version == 1)
        let json = String(decoding: try ArtifactWriter.encodeManifest(manifest), as: UTF8.self)
        #expect(!json.contains("normalize"))
        #expect(try ArtifactWriter.encodeManifest(try LoadedModel.decodeManifest(Array(json.utf8))) == Array(json.utf8))
    }

    @Test func anUnknownStepIsRejectedNamingIt() throws {
        let json = #"{"type": "text", "field": "title", "normalize": ["leetspeak", "soundex"], "vectorizer": {"type": "hashing", "n_features": 8}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TransformerSpec.self, from: Data(json.utf8)) }
    }
}
