// Vigia-native text normalisation against disguised words (format 3). The exporter never
// writes these steps: a scikit-learn pipeline keeps scikit-learn's exact behaviour.
//
// Where they run (TermExtractor): `homoglyphs` maps each input scalar before lowercasing;
// the contextual steps run after lowercasing and accent stripping, in the fixed order
// separators → leetspeak → repeats, on the whole preprocessed text; then the analyzer cuts terms.

/// One normalisation step of a text transformer. JSON: the raw value, in `"normalize": [...]`.
public enum NormalizationStep: String, Codable, CaseIterable, Sendable, Equatable {
    /// Letters of other scripts that look like Latin ones become those Latin letters: Cyrillic
    /// and Greek look-alikes (`Homoglyphs.scriptTable`, with their accented forms), and every
    /// full-width, mathematical, letterlike or circled letter or digit whose compatibility
    /// decomposition is one ASCII letter or digit (`ｒ`, `𝐫`, `ℛ`, `ⓡ` → `r`/`R`).
    case homoglyphs
    /// A zero-width character (U+200B, U+200C, U+200D, U+2060, U+FEFF, U+00AD, U+180E) between
    /// two word characters is removed; then a run of single letters, each next to the one before
    /// it across exactly one separator, the same one throughout the run (`.`, `-`, `_` or a
    /// space), is rejoined: three or more letters, four or more when the separator is a space
    /// (`r.i.v.o t.r.i.l` → `rivo tril`). A single letter has no letter or digit on either side.
    case separators
    /// In a token (a maximal run of letters, ASCII digits and `@ $ !`) with at least three
    /// letters and at least one of `0 1 3 4 5 7 @ $ !` between two letters, each of those
    /// characters next to a letter becomes the letter it stands for: 0→o, 1→i, 3→e, 4→a, 5→s,
    /// 7→t, @→a, $→s, !→i (`r1v0tr1l` → `rivotril`). Other tokens are left alone (`60up7750`,
    /// `2mg`, `ps4`, `b12`).
    case leetspeak
    /// In a word (a maximal run of letters) of at least five letters that has a letter other
    /// than the Roman-numeral letters i v x l c d m, every run of three or more equal letters
    /// becomes one letter (`riiivotril` → `rivotril`; `xxxl`, `viii`, `xxiii` and `aaa` stay).
    case repeats
}

/// The set of normalisation steps a text transformer applies, always in the fixed order
/// homoglyphs → (lowercase, strip accents) → separators → leetspeak → repeats. Default: none.
public struct TextNormalization: Sendable, Equatable, Hashable {
    public var homoglyphs = false
    public var separators = false
    public var leetspeak = false
    public var repeats = false

    /// No normalisation (what every artifact without `normalize` does).
    public static let none = TextNormalization()
    /// Every step.
    public static let all = TextNormalization(NormalizationStep.allCases)

    public init() {}

    public init(_ steps: [NormalizationStep]) {
        for step in steps {
            switch step {
            case .homoglyphs: homoglyphs = true
            case .separators: separators = true
            case .leetspeak: leetspeak = true
            case .repeats: repeats = true
            }
        }
    }

    /// The steps, in the order they run.
    public var steps: [NormalizationStep] {
        NormalizationStep.allCases.filter { step in
            switch step {
            case .homoglyphs: homoglyphs
            case .separators: separators
            case .leetspeak: leetspeak
            case .repeats: repeats
            }
        }
    }

    public var isEmpty: Bool { !homoglyphs && !contextual }

    /// Whether a step needs the whole preprocessed text (all but `homoglyphs`).
    var contextual: Bool { separators || leetspeak || repeats }

    /// `text` through the steps without lowercasing or accent stripping (what the steps
    /// themselves do; `TermExtractor.preprocess` gives the full preprocessing).
    public func apply(to text: String) -> String {
        var scalars = text.unicodeScalars.map { homoglyphs ? Homoglyphs.latin($0) ?? $0 : $0 }
        let count = scalars.withUnsafeMutableBufferPointer { ContextualNormalizer.apply(self, to: $0, count: $0.count) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[..<count])
        return String(view)
    }
}

/// Look-alike letters of other scripts → Latin (`NormalizationStep.homoglyphs`).
enum Homoglyphs {
    /// Hand-picked Cyrillic and Greek look-alikes, upper and lower case.
    static let scriptTable: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs: [(String, String)] = [
            // Cyrillic
            ("\u{0410}\u{0430}", "Aa"), ("\u{0412}\u{0432}", "Bb"), ("\u{0415}\u{0435}", "Ee"), ("\u{0405}\u{0455}", "Ss"),
            ("\u{0406}\u{0456}", "Ii"), ("\u{0408}\u{0458}", "Jj"), ("\u{041A}\u{043A}", "Kk"), ("\u{041C}\u{043C}", "Mm"),
            ("\u{041D}\u{043D}", "Hh"), ("\u{041E}\u{043E}", "Oo"), ("\u{0420}\u{0440}", "Pp"), ("\u{0421}\u{0441}", "Cc"),
            ("\u{0422}\u{0442}", "Tt"), ("\u{0423}\u{0443}", "Yy"), ("\u{0425}\u{0445}", "Xx"), ("\u{0500}\u{0501}", "Dd"),
            ("\u{04BA}\u{04BB}", "Hh"), ("\u{051A}\u{051B}", "Qq"), ("\u{051C}\u{051D}", "Ww"), ("\u{04AE}\u{04AF}", "Yy"),
            ("\u{04C0}\u{04CF}", "Il"), ("\u{0433}", "r"), ("\u{043F}", "n"), ("\u{044C}", "b"),
            // Greek
            ("\u{0391}\u{03B1}", "Aa"), ("\u{0392}\u{03B2}", "Bb"), ("\u{0395}\u{03B5}", "Ee"), ("\u{0396}", "Z"),
            ("\u{0397}\u{03B7}", "Hn"), ("\u{0399}\u{03B9}", "Ii"), ("\u{039A}\u{03BA}", "Kk"), ("\u{039C}\u{03BC}", "Mu"),
            ("\u{039D}\u{03BD}", "Nv"), ("\u{039F}\u{03BF}", "Oo"), ("\u{03A1}\u{03C1}", "Pp"), ("\u{03A4}\u{03C4}", "Tt"),
            ("\u{03A5}\u{03C5}", "Yu"), ("\u{03A7}\u{03C7}", "Xx"), ("\u{03F9}\u{03F2}", "Cc"), ("\u{03B3}", "y"),
            ("\u{03C9}", "w"),
        ]
        var table: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (from, to) in pairs {
            for (a, b) in zip(from.unicodeScalars, to.unicodeScalars) { table[a] = b }
        }
        return table
    }()

    /// The ranges the step maps; everything else maps to itself.
    static let greekCyrillic: ClosedRange<UInt32> = 0x0370...0x052F
    static let symbolBlocks: ClosedRange<UInt32> = 0x2100...0x24FF  // letterlike … enclosed alphanumerics
    static let fullWidth: ClosedRange<UInt32> = 0xFF00...0xFF5F
    static let mathematical: ClosedRange<UInt32> = 0x1D400...0x1D7FF

    /// One lookup table per range: ASCII value of the Latin form, 0 = maps to itself.
    static let tables: (greekCyrillic: [UInt8], symbols: [UInt8], fullWidth: [UInt8], mathematical: [UInt8]) = {
        func build(_ range: ClosedRange<UInt32>, _ map: (Unicode.Scalar) -> Unicode.Scalar?) -> [UInt8] {
            range.map { v in
                guard let scalar = Unicode.Scalar(v), let latin = map(scalar) else { return 0 }
                return UInt8(truncatingIfNeeded: latin.value)
            }
        }
        // A Greek or Cyrillic letter with an accent maps like its base letter (ё → е → e).
        let script = build(greekCyrillic) { scalar in
            if let direct = scriptTable[scalar] { return direct }
            var base: [Unicode.Scalar] = []
            AccentStripper.append(scalar, to: &base)
            return base.count == 1 ? scriptTable[base[0]] : nil
        }
        return (script, build(symbolBlocks, compatibilityForm), build(fullWidth, compatibilityForm),
                build(mathematical, compatibilityForm))
    }()

    /// The one ASCII letter or digit `scalar` decomposes to under NFKD (marks dropped), or nil.
    static func compatibilityForm(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        var decomposed: [Unicode.Scalar] = []
        AccentStripper.append(scalar, to: &decomposed)
        guard decomposed.count == 1, decomposed[0] != scalar else { return nil }
        let v = decomposed[0].value
        let alphanumeric = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        return alphanumeric ? decomposed[0] : nil
    }

    /// The Latin form of `scalar`, or nil when it maps to itself.
    @inline(__always)
    static func latin(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let v = scalar.value
        if v < greekCyrillic.lowerBound { return nil }
        let ascii: UInt8
        if v <= greekCyrillic.upperBound {
            ascii = tables.greekCyrillic[Int(v - greekCyrillic.lowerBound)]
        } else if symbolBlocks.contains(v) {
            ascii = tables.symbols[Int(v - symbolBlocks.lowerBound)]
        } else if fullWidth.contains(v) {
            ascii = tables.fullWidth[Int(v - fullWidth.lowerBound)]
        } else if mathematical.contains(v) {
            ascii = tables.mathematical[Int(v - mathematical.lowerBound)]
        } else {
            return nil
        }
        return ascii == 0 ? nil : Unicode.Scalar(ascii)
    }
}

/// The contextual steps over a preprocessed text held in a buffer: each pass rewrites the
/// buffer in place (the text only keeps or loses scalars) and returns the new length.
enum ContextualNormalizer {
    /// What a text contains that some pass acts on (a pass without it leaves the text as it is).
    struct Present {
        var zeroWidth = false
        var separator = false
        var leet = false
        var triple = false
        /// Letters with no letter or digit on either side: a rejoined run needs three.
        var singleLetters = 0

        /// What lets every step run (for a text not surveyed).
        static let anything = Present(zeroWidth: true, separator: true, leet: true, triple: true, singleLetters: .max)
    }

    /// Classes of an ASCII scalar, as bits.
    static let leetClass: UInt8 = 1, separatorClass: UInt8 = 2, letterClass: UInt8 = 4, alphanumericClass: UInt8 = 8

    /// `leetClass` …: the classes of each ASCII scalar, from the predicates the passes use.
    static let asciiClasses: [UInt8] = (0..<128).map { v in
        let scalar = Unicode.Scalar(UInt8(v))
        var classes: UInt8 = 0
        if v >= 0x30 && v <= 0x39 || v == 0x40 || v == 0x24 || v == 0x21 { classes |= leetClass }
        if isSeparator(scalar) { classes |= separatorClass }
        if isLetter(scalar) { classes |= letterClass }
        if isAlphanumeric(scalar) { classes |= alphanumericClass }
        return classes
    }

    /// One pass over `buffer[0..<count]` for what the passes would act on.
    static func survey(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Present {
        var present = Present()
        var seen: UInt8 = 0
        var last: UInt32 = 0, run = 0
        // Scalars k − 2 and k − 1: alphanumeric, and a letter (k − 1).
        var alphanumericBefore = false, alphanumericPrevious = false, letterPrevious = false
        asciiClasses.withUnsafeBufferPointer { table in
            for k in 0..<count {
                let scalar = buffer[k]
                let v = scalar.value
                let classes: UInt8
                if v < 0x80 {
                    classes = table[Int(v)]
                } else {
                    if isZeroWidth(scalar) { present.zeroWidth = true }
                    classes = (isLetter(scalar) ? letterClass : 0) | (isAlphanumeric(scalar) ? alphanumericClass : 0)
                }
                seen |= classes
                if v == last { run += 1; if run >= 3 { present.triple = true } } else { last = v; run = 1 }
                let alphanumeric = classes & alphanumericClass != 0
                if letterPrevious && !alphanumericBefore && !alphanumeric { present.singleLetters += 1 }
                alphanumericBefore = alphanumericPrevious
                alphanumericPrevious = alphanumeric
                letterPrevious = classes & letterClass != 0
            }
        }
        if letterPrevious && !alphanumericBefore { present.singleLetters += 1 }
        present.leet = seen & leetClass != 0
        present.separator = seen & separatorClass != 0
        return present
    }

    /// The steps of `normalization` that can change a text with `present`, in `apply`'s order.
    static func apply(_ normalization: TextNormalization, present: Present,
                      to buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        var count = count
        // An earlier step can make a run the survey did not see (`r.i.i.i.v.o` rejoined,
        // `gl0o0ck` read): then `repeats` runs whatever the survey found.
        var rewritten = false
        if normalization.separators && (present.zeroWidth || present.separator) {
            if present.zeroWidth {
                count = removeZeroWidth(buffer, count: count)
                rewritten = true
            }
            // Without zero-width characters (whose removal can join letters), fewer than three
            // single letters leave nothing to rejoin.
            if present.zeroWidth || present.singleLetters >= 3 {
                count = rejoinSeparatedLetters(buffer, count: count)
                rewritten = true
            }
        }
        if normalization.leetspeak && present.leet {
            readLeetspeak(buffer, count: count)
            rewritten = true
        }
        if normalization.repeats && (present.triple || rewritten) { count = collapseRepeats(buffer, count: count) }
        return count
    }

    /// Every step of `normalization`, in order.
    static func apply(_ normalization: TextNormalization, to buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        apply(normalization, present: .anything, to: buffer, count: count)
    }

    @inline(__always)
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 { return (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A }
        return scalar.properties.isAlphabetic
    }

    /// A letter or a digit (a word character other than `_`).
    @inline(__always)
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "_" && PythonCharacterClass.isWord(scalar)
    }

    @inline(__always)
    static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E: true
        default: false
        }
    }

    /// Zero-width characters between two word characters (skipping further zero-width ones) go.
    static func removeZeroWidth(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        var write = 0
        for read in 0..<count {
            let scalar = buffer[read]
            if isZeroWidth(scalar), write > 0, PythonCharacterClass.isWord(buffer[write - 1]) {
                var next = read + 1
                while next < count && isZeroWidth(buffer[next]) { next += 1 }
                if next < count && PythonCharacterClass.isWord(buffer[next]) { continue }
            }
            buffer[write] = scalar
            write += 1
        }
        return write
    }

    @inline(__always)
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "." || scalar == "-" || scalar == "_" || scalar == " "
    }

    /// Runs of single letters across one separator each are rejoined (see `.separators`).
    static func rejoinSeparatedLetters(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        var write = 0, read = 0
        var previous: Unicode.Scalar = " "  // the original scalar before `read`
        func single(at k: Int) -> Bool {  // a letter at k with no letter or digit after it
            isLetter(buffer[k]) && (k + 1 == count || !isAlphanumeric(buffer[k + 1]))
        }
        while read < count {
            if !isAlphanumeric(previous) && single(at: read) {
                var letters = 1, next = read + 1
                let separator = next < count ? buffer[next] : " "
                while next + 1 < count && buffer[next] == separator && isSeparator(separator) && single(at: next + 1) {
                    letters += 1
                    next += 2
                }
                if letters >= (separator == " " ? 4 : 3) {
                    let last = buffer[next - 1]
                    var k = read
                    while k < next { buffer[write] = buffer[k]; write += 1; k += 2 }
                    previous = last
                    read = next
                    continue
                }
            }
            previous = buffer[read]
            buffer[write] = buffer[read]
            write += 1
            read += 1
        }
        return write
    }

    /// The letter a leetspeak character stands for, or nil.
    @inline(__always)
    static func leetLetter(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "0": "o"
        case "1", "!": "i"
        case "3": "e"
        case "4", "@": "a"
        case "5", "$": "s"
        case "7": "t"
        default: nil
        }
    }

    @inline(__always)
    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || (scalar.value >= 0x30 && scalar.value <= 0x39) || scalar == "@" || scalar == "$" || scalar == "!"
    }

    /// Tokens written in leetspeak are read as letters (see `.leetspeak`); the length is kept.
    static func readLeetspeak(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) {
        var start = 0
        while start < count {
            guard isTokenScalar(buffer[start]) else { start += 1; continue }
            var end = start, letters = 0, interior = false
            while end < count && isTokenScalar(buffer[end]) {
                if isLetter(buffer[end]) {
                    letters += 1
                } else if end > start, end + 1 < count, leetLetter(buffer[end]) != nil,
                          isLetter(buffer[end - 1]), isLetter(buffer[end + 1]) {
                    interior = true
                }
                end += 1
            }
            if interior && letters >= 3 {
                var previousWasLetter = false  // the original scalar before k
                for k in start..<end {
                    let original = buffer[k]
                    if let letter = leetLetter(original),
                       previousWasLetter || (k + 1 < end && isLetter(buffer[k + 1])) {
                        buffer[k] = letter
                    }
                    previousWasLetter = isLetter(original)
                }
            }
            start = end
        }
    }

    @inline(__always)
    static func isRomanNumeralLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "i", "v", "x", "l", "c", "d", "m", "I", "V", "X", "L", "C", "D", "M": true
        default: false
        }
    }

    /// Runs of three or more equal letters in longer words become one (see `.repeats`).
    static func collapseRepeats(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        var write = 0, read = 0
        while read < count {
            guard isLetter(buffer[read]) else {
                buffer[write] = buffer[read]
                write += 1
                read += 1
                continue
            }
            var end = read, numeralsOnly = true
            while end < count && isLetter(buffer[end]) {
                if !isRomanNumeralLetter(buffer[end]) { numeralsOnly = false }
                end += 1
            }
            let collapse = end - read >= 5 && !numeralsOnly
            var k = read
            while k < end {
                var run = k + 1
                while run < end && buffer[run] == buffer[k] { run += 1 }
                let keep = collapse && run - k >= 3 ? 1 : run - k
                for _ in 0..<keep { buffer[write] = buffer[k]; write += 1 }
                k = run
            }
            read = end
        }
        return write
    }
}
