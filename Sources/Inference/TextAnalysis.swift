// Text preprocessing and analysis matching scikit-learn's vectorizers, without Foundation
// regex: lowercase → strip accents → word tokens (`(?u)\b\w\w+\b`) or char_wb n-grams.

/// Character classes of Python's `re` module and `str` methods, as scikit-learn sees them.
enum PythonCharacterClass {
    /// Python `re` `\w` for str patterns: `str.isalnum()` (letters Lu/Ll/Lt/Lm/Lo, and any
    /// scalar with a Numeric_Type — decimal, digit or numeric) or `_`. Combining marks (Mn/Mc/Me)
    /// and connector punctuation other than `_` are *not* word characters in Python's `re`.
    @inline(__always)
    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 {
            // [0-9A-Za-z_] as a 128-bit set.
            let bits: UInt64 = v < 64 ? 0x03FF_0000_0000_0000 : 0x07FF_FFFE_87FF_FFFE
            return bits >> UInt64(v & 63) & 1 != 0
        }
        if v < 0x1_0000 {
            let word = basicPlaneWordBits[Int(v >> 6)]
            return word & (1 << UInt64(v & 63)) != 0
        }
        return computeIsWord(scalar)
    }

    /// Out of line: inlined, its Unicode property lookups made every caller set up the
    /// standard library's property types first (about 120 instructions a call, ASCII or not).
    @inline(never)
    static func computeIsWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }

    /// `isWord` for the Basic Multilingual Plane as a bit set (8 KiB), built once on first use.
    static let basicPlaneWordBits: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 0x1_0000 / 64)
        for v in 0..<UInt32(0x1_0000) {
            guard let scalar = Unicode.Scalar(v) else { continue }  // surrogates
            if computeIsWord(scalar) { bits[Int(v >> 6)] |= 1 << UInt64(v & 63) }
        }
        return bits
    }()

    /// Python `str.isspace()` (what `str.split()` splits on): White_Space, plus the
    /// information separators U+001C…U+001F that Python also counts.
    @inline(__always)
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) || (v >= 0x1C && v <= 0x1F) }
        return isWhitespaceProperty(scalar)
    }

    /// Out of line, as `computeIsWord` is.
    @inline(never)
    static func isWhitespaceProperty(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }
}

/// scikit-learn's `strip_accents_unicode`: NFKD, then drop every scalar whose canonical
/// combining class is not 0. Implemented per scalar with a table generated from Python's
/// `unicodedata` (see `accentTableSource`): a direct array for U+0000…U+2FFF (Latin,
/// Greek, Cyrillic, punctuation, letterlike symbols …) and a dictionary for other scripts,
/// plus algorithmic Hangul decomposition. Per-scalar decomposition equals whole-string NFKD
/// here because canonical reordering only moves combining marks, which are dropped.
enum AccentStripper {
    /// Decomposition targets, concatenated; `directIndex`/`otherIndex` point into it.
    static let storage: [Unicode.Scalar] = tables.storage
    /// For v < 0x3000: 0 = maps to itself, else (start << 8 | count) + 1 into `storage`.
    static let directIndex: [UInt32] = tables.direct
    /// For other listed scalars: (start, count) into `storage`.
    static let otherIndex: [UInt32: (start: Int32, count: Int32)] = tables.other

    static let directLimit: UInt32 = 0x3000

    private static let tables: (storage: [Unicode.Scalar], direct: [UInt32], other: [UInt32: (start: Int32, count: Int32)]) = {
        var storage: [Unicode.Scalar] = []
        var direct = [UInt32](repeating: 0, count: Int(directLimit))
        var other: [UInt32: (start: Int32, count: Int32)] = [:]
        for entry in accentTableSource.split(separator: ";") {
            guard let colon = entry.firstIndex(of: ":"),
                  let key = UInt32(entry[entry.startIndex..<colon], radix: 16) else { continue }
            let start = storage.count
            for part in entry[entry.index(after: colon)...].split(separator: " ") {
                if let v = UInt32(part, radix: 16), let scalar = Unicode.Scalar(v) { storage.append(scalar) }
            }
            let count = storage.count - start
            if key < directLimit {
                direct[Int(key)] = (UInt32(start) << 8 | UInt32(count)) + 1
            } else {
                other[key] = (Int32(start), Int32(count))
            }
        }
        return (storage, direct, other)
    }()

    /// Appends the stripped form of `scalar` to `output`.
    @inline(__always)
    static func append(_ scalar: Unicode.Scalar, to output: inout [Unicode.Scalar]) {
        let v = scalar.value
        if v < 0x80 { output.append(scalar); return }
        if v < directLimit {
            let packed = directIndex[Int(v)]
            if packed == 0 { output.append(scalar); return }
            let start = Int((packed - 1) >> 8), count = Int((packed - 1) & 0xFF)
            output.append(contentsOf: storage[start..<start + count])
            return
        }
        if v >= 0xAC00 && v <= 0xD7A3 { appendHangul(v, to: &output); return }
        if let range = otherIndex[v] {
            output.append(contentsOf: storage[Int(range.start)..<Int(range.start + range.count)])
        } else {
            output.append(scalar)
        }
    }

    /// Unicode §3.12 Hangul syllable decomposition (L V [T]); all jamo have combining class 0.
    static func appendHangul(_ v: UInt32, to output: inout [Unicode.Scalar]) {
        let index = v - 0xAC00
        let l = 0x1100 + index / (21 * 28)
        let vowel = 0x1161 + (index % (21 * 28)) / 28
        let t = index % 28
        // All three are valid scalars by construction (0x1100…0x1112, 0x1161…0x1175, 0x11A8…0x11C2).
        output.append(Unicode.Scalar(l) ?? "\u{FFFD}")
        output.append(Unicode.Scalar(vowel) ?? "\u{FFFD}")
        if t != 0 { output.append(Unicode.Scalar(0x11A7 + t) ?? "\u{FFFD}") }
    }
}

/// Where `TermExtractor.normalize(_:into:)` puts scalars.
protocol ScalarSink {
    mutating func put(_ scalar: Unicode.Scalar)
    /// `count` (1…8) ASCII scalars, the low bytes of `bytes`, lowest first; the bytes above
    /// them mean nothing.
    mutating func putASCII(_ bytes: UInt64, count: Int)
}

extension ScalarSink {
    @inline(__always)
    mutating func putASCII(_ bytes: UInt64, count: Int) { putEachASCII(bytes, count: count) }

    /// The scalars of `putASCII` one `put` at a time.
    @inline(__always)
    mutating func putEachASCII(_ bytes: UInt64, count: Int) {
        for k in 0..<count { put(Unicode.Scalar(UInt8(truncatingIfNeeded: bytes >> UInt64(8 * k)))) }
    }
}

struct ClosureScalarSink: ScalarSink {
    let body: (Unicode.Scalar) -> Void
    @inline(__always) func put(_ scalar: Unicode.Scalar) { body(scalar) }
}

/// Scalars written to a buffer; `count` goes on past `capacity` (writing nothing more), so the
/// caller learns how much room the text needed.
struct BufferScalarSink: ScalarSink {
    let base: UnsafeMutablePointer<Unicode.Scalar>
    let capacity: Int
    var count = 0

    @inline(__always)
    mutating func put(_ scalar: Unicode.Scalar) {
        if count < capacity { base[count] = scalar }
        count += 1
    }

    @inline(__always)
    mutating func putASCII(_ bytes: UInt64, count added: Int) {
        guard count + 8 <= capacity else { putEachASCII(bytes, count: added); return }
        let out = UnsafeMutableRawPointer(base + count).assumingMemoryBound(to: UInt32.self)
        for k in 0..<8 { out[k] = UInt32(truncatingIfNeeded: bytes >> UInt64(8 * k)) & 0xFF }
        count += added
    }
}

/// Eight ASCII bytes at once (SWAR): which are high-bit bytes, and their lowercase.
enum ASCIIWord {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func isASCII(_ word: UInt64) -> Bool { word & highBits == 0 }

    /// The high bit of each byte of `word` (all ASCII) that is a word character, [0-9A-Za-z_].
    /// As in `lowercased`, only the bytes below the first that is not ASCII are meaningful.
    @inline(__always)
    static func wordCharacters(_ word: UInt64) -> UInt64 {
        // byte + (0x80 − low) has its high bit set when byte ≥ low; ASCII bytes never carry.
        @inline(__always) func atLeast(_ low: UInt64) -> UInt64 { word &+ (0x80 - low) &* ones }
        let digit = atLeast(0x30) & ~atLeast(0x3A)
        let upper = atLeast(0x41) & ~atLeast(0x5B)
        let lower = atLeast(0x61) & ~atLeast(0x7B)
        let underscore = ~((word ^ 0x5F &* ones) &+ 0x7F &* ones)  // byte ^ 0x5F + 0x7F < 0x80 only for 0x5F
        return (digit | upper | lower | underscore) & highBits
    }

    /// How many of the low bytes of `word` are ASCII, up to 8.
    @inline(__always)
    static func asciiPrefix(_ word: UInt64) -> Int { (word & highBits).trailingZeroBitCount >> 3 }

    /// `word` (all ASCII) with A–Z turned into a–z. Bytes above the first that is not ASCII
    /// may come out wrong (a carry), those below it not.
    @inline(__always)
    static func lowercased(_ word: UInt64) -> UInt64 {
        let atLeastA = word &+ (0x80 - 0x41) &* ones  // high bit set where the byte is ≥ "A"
        let aboveZ = word &+ (0x80 - 0x5B) &* ones  // … and where it is > "Z"
        let upper = atLeastA & ~aboveZ & highBits
        return word | upper >> 2
    }
}

/// Lowercase-then-strip as one precomputed lookup for U+0000…U+2FFF (Latin, Greek, Cyrillic,
/// punctuation, letterlike symbols …), one table per configuration, built on first use.
/// Above U+2FFF the hot path falls back to `Unicode.Scalar.Properties` and `AccentStripper`.
///
/// The tables live as long as the process (three singletons) in memory of their own, read
/// through plain pointers: a `static let` array handed to every thread retained and released
/// its buffer on each text, a reference count that every scoring core wrote to.
struct ScalarMapTable: @unchecked Sendable {
    /// For v < limit: 0 = maps to itself, else ((start << 8) | count) + 1 into `storage`.
    let packed: UnsafeBufferPointer<UInt32>
    let storage: UnsafeBufferPointer<Unicode.Scalar>
    static let limit: UInt32 = 0x3000

    static let lowercaseAndStrip = ScalarMapTable(lowercase: true, stripAccents: true)
    static let lowercaseOnly = ScalarMapTable(lowercase: true, stripAccents: false)
    static let stripOnly = ScalarMapTable(lowercase: false, stripAccents: true)

    static func forConfiguration(lowercase: Bool, stripAccents: Bool) -> ScalarMapTable? {
        switch (lowercase, stripAccents) {
        case (true, true): lowercaseAndStrip
        case (true, false): lowercaseOnly
        case (false, true): stripOnly
        case (false, false): nil
        }
    }

    /// `values` in memory that is never freed.
    private static func immortalCopy<Element>(of values: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let copy = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(1, values.count))
        _ = copy.initialize(from: values)
        return UnsafeMutableBufferPointer(rebasing: copy[0..<values.count])
    }

    private init(lowercase: Bool, stripAccents: Bool) {
        var packed = [UInt32](repeating: 0, count: Int(Self.limit))
        var storage: [Unicode.Scalar] = []
        var mapped: [Unicode.Scalar] = []
        for v in 0..<Self.limit {
            guard let scalar = Unicode.Scalar(v) else { continue }
            // The same mapping as the scalars above the table take, so the two cannot differ.
            mapped.removeAll(keepingCapacity: true)
            mapped.append(contentsOf: TermExtractor.mapSlowly(scalar, lowercase: lowercase, stripAccents: stripAccents))
            if mapped.count == 1 && mapped[0] == scalar { continue }
            packed[Int(v)] = (UInt32(storage.count) << 8 | UInt32(mapped.count)) + 1
            storage.append(contentsOf: mapped)
        }
        self.packed = UnsafeBufferPointer(Self.immortalCopy(of: packed))
        self.storage = UnsafeBufferPointer(Self.immortalCopy(of: storage))
    }
}

/// Text → terms, exactly as a scikit-learn vectorizer's `build_analyzer()` with
/// `token_pattern=r"(?u)\b\w\w+\b"` (see `TextSpec` for the semantics). Immutable and
/// `Sendable`; every call works on its own local buffers, so one instance serves all threads.
/// The trainer builds vocabularies with the same type so that training and serving agree.
///
/// The hot path (`forEachTerm`) hands out each term as UTF-8 bytes without creating Strings:
/// kept tokens are written into one buffer separated by single spaces, so every word n-gram
/// is a contiguous byte range of it.
///
/// A class of constants rather than a struct: the scoring path reached a struct held by a
/// text block through copies (its stop-word set retained and released), four a text.
public final class TermExtractor: Sendable, Equatable {
    /// Lowercase first (Python `str.lower()`, including the final-sigma rule). Default true.
    public let lowercase: Bool
    /// Then strip accents like `strip_accents='unicode'`. Default true.
    public let stripAccents: Bool
    /// Strip like `strip_accents='ascii'` instead: NFKD, then drop every non-ASCII scalar. Default false.
    public let asciiOnly: Bool
    /// UTF-8 bytes of tokens dropped before word n-grams (bytes, as Python compares code
    /// points; `String ==` would equate canonically equivalent text). Default empty.
    public let stopWords: Set<[UInt8]>
    /// Word or char_wb n-grams. Default word.
    public let analyzer: TextAnalyzer
    /// n-gram lengths `ngramMin...ngramMax`, clamped to 1 ≤ min ≤ max. Default 1...1.
    public let ngramMin: Int
    public let ngramMax: Int
    /// Vigia-native normalisation against disguised words (`TextNormalization`). Default none.
    public let normalization: TextNormalization
    /// For `asciiOnly`: the unicode stripping whose non-ASCII scalars it then drops.
    private let unicodeStripping: TermExtractor?

    public init(lowercase: Bool = true, stripAccents: Bool = true, analyzer: TextAnalyzer = .word,
                ngramMin: Int = 1, ngramMax: Int = 1, asciiOnly: Bool = false, stopWords: [String] = [],
                normalization: TextNormalization = .none) {
        self.normalization = normalization
        self.lowercase = lowercase
        self.stripAccents = stripAccents || asciiOnly
        self.asciiOnly = asciiOnly
        self.stopWords = Set(stopWords.map { Array($0.utf8) })
        self.analyzer = analyzer
        self.ngramMin = max(1, ngramMin)
        self.ngramMax = max(max(1, ngramMin), ngramMax)
        // strip_accents='ascii' is NFKD then "drop non-ASCII"; combining marks are non-ASCII,
        // so unicode stripping followed by the ASCII filter gives the same scalars.
        unicodeStripping = asciiOnly
            ? TermExtractor(lowercase: lowercase, stripAccents: true,
                            normalization: normalization.homoglyphs ? TextNormalization([.homoglyphs]) : .none)
            : nil
    }

    /// Builds the lazily initialised lookup tables this extractor uses (word-character bit set,
    /// accent and case tables) so that the first request does not pay for them. Idempotent and
    /// thread-safe (Swift `static let` initialisation runs once).
    public func warmUp() {
        _ = PythonCharacterClass.basicPlaneWordBits.count
        _ = AccentStripper.storage.count
        _ = ScalarMapTable.forConfiguration(lowercase: lowercase, stripAccents: stripAccents)?.packed.count
        if normalization.homoglyphs { _ = Homoglyphs.tables.greekCyrillic.count }
    }

    public static func == (a: TermExtractor, b: TermExtractor) -> Bool {
        a.lowercase == b.lowercase && a.stripAccents == b.stripAccents && a.asciiOnly == b.asciiOnly
            && a.stopWords == b.stopWords && a.analyzer == b.analyzer && a.ngramMin == b.ngramMin
            && a.ngramMax == b.ngramMax && a.normalization == b.normalization
    }

    /// The extractor a text transformer spec describes.
    public convenience init(_ spec: TextSpec) {
        self.init(lowercase: spec.lowercase, stripAccents: spec.stripAccents, analyzer: spec.analyzer,
                  ngramMin: spec.ngramMin, ngramMax: spec.ngramMax, asciiOnly: spec.asciiOnly, stopWords: spec.stopWords,
                  normalization: spec.normalization)
    }

    /// All terms of `text` in scikit-learn's order (duplicates kept: they are counts).
    public func terms(in text: String) -> [String] {
        var terms: [String] = []
        forEachTerm(in: text) { terms.append(String(decoding: $0, as: UTF8.self)) }
        return terms
    }

    /// Calls `body` with the UTF-8 bytes of each term of `text`, in scikit-learn's order. The
    /// buffer is only valid during the call.
    public func forEachTerm(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch analyzer {
        case .word:
            let tokens = tokenize(text)
            let count = tokens.starts.count
            tokens.bytes.withUnsafeBufferPointer { bytes in
                for n in ngramMin...ngramMax where n <= count {
                    for i in 0...(count - n) {
                        body(UnsafeBufferPointer(rebasing: bytes[tokens.starts[i]..<tokens.ends[i + n - 1]]))
                    }
                }
            }
        case .charWB:
            var scalars: [Unicode.Scalar] = []
            scalars.reserveCapacity(text.utf8.count)
            forEachAnalysedScalar(text) { scalars.append($0) }
            TermExtractor.forEachCharWBNGram(scalars, min: ngramMin, max: ngramMax, body)
        case .char:
            var scalars: [Unicode.Scalar] = []
            scalars.reserveCapacity(text.utf8.count)
            forEachAnalysedScalar(text) { scalars.append($0) }
            TermExtractor.forEachCharNGram(TermExtractor.collapsingWhitespaceRuns(scalars), min: ngramMin, max: ngramMax, body)
        }
    }

    /// Lowercase and/or strip accents, in scikit-learn's order (lowercase first), with the
    /// normalisation steps around them (homoglyphs before, the contextual steps after).
    public static func preprocess(_ text: String, lowercase: Bool = true, stripAccents: Bool = true,
                                  asciiOnly: Bool = false, normalization: TextNormalization = .none) -> String {
        var view = String.UnicodeScalarView()
        TermExtractor(lowercase: lowercase, stripAccents: stripAccents, asciiOnly: asciiOnly, normalization: normalization)
            .forEachAnalysedScalar(text) { view.append($0) }
        return String(view)
    }

    /// Feeds `body` the scalars the analyzers read: `forEachNormalizedScalar`, then the
    /// contextual normalisation steps. Without contextual steps this is `forEachNormalizedScalar`
    /// itself; with them the text goes through `withAnalysedScalars`' buffer, and only a text
    /// that grows beyond it under lowercasing and decomposition takes a heap array.
    @inline(__always)
    func forEachAnalysedScalar(_ text: String, _ body: (Unicode.Scalar) -> Void) {
        guard normalization.contextual else { forEachNormalizedScalar(text, body); return }
        let fitted = withAnalysedScalars(text) { scalars in for scalar in scalars { body(scalar) } }
        if fitted { return }
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count)
        forEachNormalizedScalar(text) { scalars.append($0) }
        scalars.withUnsafeMutableBufferPointer { all in
            let kept = ContextualNormalizer.apply(normalization, to: all, count: all.count)
            for k in 0..<kept { body(all[k]) }
        }
    }

    /// The contextual steps over normalised scalars in `buffer[0..<count]`, skipping those that
    /// cannot change this text (no zero-width character, fewer than three single letters, no
    /// digit or `@ $ !`, no scalar three times in a row); returns the new count.
    func applyContextualSteps(_ buffer: UnsafeMutableBufferPointer<Unicode.Scalar>, count: Int) -> Int {
        let present = ContextualNormalizer.survey(buffer, count: count)
        return ContextualNormalizer.apply(normalization, present: present, to: buffer, count: count)
    }

    /// Tokens as UTF-8 in one buffer, separated by single spaces; token k is `starts[k]..<ends[k]`.
    struct Tokens {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var ends: [Int] = []
    }

    /// Maximal runs of ≥ 2 word characters (`(?u)\b\w\w+\b` under Python's `re`) of the
    /// preprocessed text.
    func tokenize(_ text: String) -> Tokens {
        var tokens = Tokens()
        tokens.bytes.reserveCapacity(text.utf8.count + 8)
        tokens.starts.reserveCapacity(16)
        tokens.ends.reserveCapacity(16)
        var runMark = 0  // bytes.count before the run (and its separating space)
        var runStart = 0  // first byte of the run
        var runScalars = 0  // scalars in the current run; 0 = not in a run
        forEachAnalysedScalar(text) { scalar in
            if PythonCharacterClass.isWord(scalar) {
                if runScalars == 0 {
                    runMark = tokens.bytes.count
                    if !tokens.starts.isEmpty { tokens.bytes.append(0x20) }
                    runStart = tokens.bytes.count
                }
                runScalars += 1
                TermExtractor.appendUTF8(scalar, to: &tokens.bytes)
            } else if runScalars > 0 {
                endRun(&tokens, runMark: runMark, runStart: runStart, runScalars: runScalars)
                runScalars = 0
            }
        }
        if runScalars > 0 { endRun(&tokens, runMark: runMark, runStart: runStart, runScalars: runScalars) }
        return tokens
    }

    /// Keeps the run that just ended as a token when it has ≥ 2 scalars and is not a stop
    /// word; otherwise removes its bytes (and the space before it).
    @inline(__always)
    private func endRun(_ tokens: inout Tokens, runMark: Int, runStart: Int, runScalars: Int) {
        if runScalars >= 2 && (stopWords.isEmpty || !stopWords.contains(Array(tokens.bytes[runStart...]))) {
            tokens.starts.append(runStart)
            tokens.ends.append(tokens.bytes.count)
        } else {
            tokens.bytes.removeLast(tokens.bytes.count - runMark)
        }
    }

    @inline(__always)
    static func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        if scalar.value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: scalar.value))
        } else {
            UTF8.encode(scalar) { bytes.append($0) }
        }
    }

    /// Feeds `body` the scalars of `text` after lowercasing and/or accent stripping.
    @inline(__always)
    func forEachNormalizedScalar(_ text: String, _ body: (Unicode.Scalar) -> Void) {
        withoutActuallyEscaping(body) { body in
            var sink = ClosureScalarSink(body: body)
            normalize(text, into: &sink)
        }
    }

    /// `forEachNormalizedScalar` into any sink: specialised for a buffer, its count stays in a
    /// register instead of a closure's captured variable.
    @inline(__always)
    func normalize<Sink: ScalarSink>(_ text: String, into sink: inout Sink) {
        normalize(FeatureText(text), into: &sink)
    }

    /// `normalize` of a value's text, read from its UTF-8 (a `String` is made only for the
    /// rare paths: Unicode stripping, no mapping table, a capital sigma).
    @inline(__always)
    func normalize<Sink: ScalarSink>(_ text: FeatureText, into sink: inout Sink) {
        if let unicodeStripping {
            unicodeStripping.forEachNormalizedScalar(text.string) { scalar in
                if scalar.value < 0x80 { sink.put(scalar) }
            }
            return
        }
        guard let table = ScalarMapTable.forConfiguration(lowercase: lowercase, stripAccents: stripAccents) else {
            let homoglyphs = normalization.homoglyphs
            for scalar in text.string.unicodeScalars { sink.put(homoglyphs ? Homoglyphs.latin(scalar) ?? scalar : scalar) }
            return
        }
        // Decoding the UTF-8 here costs a few instructions an ASCII byte, where the scalar
        // view's indices cost dozens. (`withUTF8` copies only a string that is not contiguous.)
        // The sink is worked on as a local copy, and other scalars than ASCII are mapped out of
        // line: a sink reached through the closure's capture, or a loop holding every mapping's
        // state, had its state stored to the stack and loaded back around each byte.
        let lowercase = self.lowercase, homoglyphs = normalization.homoglyphs
        text.withUTF8(walk)
        func walk(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let base = bytes.baseAddress else { return }
            var local = sink
            defer { sink = local }
            var offset = 0
            let count = bytes.count
            while offset < count {
                // The ASCII bytes among the next eight, up to the first that is not (or the end).
                let available = count &- offset
                var word: UInt64 = 0
                if available >= 8 {
                    word = UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
                } else {
                    withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + offset, count: available)) }
                    word = UInt64(littleEndian: word)
                }
                let ascii = min(ASCIIWord.asciiPrefix(word), available)
                if ascii > 0 {
                    // No homoglyph (their table starts at U+0370), no accent.
                    local.putASCII(lowercase ? ASCIIWord.lowercased(word) : word, count: ascii)
                    offset &+= ascii
                    if ascii == 8 || offset == count { continue }
                }
                let (decoded, length) = TermExtractor.decodeUTF8(bytes, at: offset, lead: base[offset])
                var scalar = decoded
                if homoglyphs, let latin = Homoglyphs.latin(scalar) { scalar = latin }
                let v = scalar.value
                if v < 0x80 {
                    local.put(lowercase && v &- 0x41 < 26 ? Unicode.Scalar(UInt8(truncatingIfNeeded: v | 0x20)) : scalar)
                } else if v < ScalarMapTable.limit && !(lowercase && v == 0x03A3) {
                    let entry = table.packed[Int(v)]
                    if entry == 0 {
                        local.put(scalar)
                    } else {
                        let start = Int((entry &- 1) >> 8), end = start &+ Int((entry &- 1) & 0xFF)
                        for k in start..<end { local.put(table.storage[k]) }
                    }
                } else {
                    // Through a copy: the local's address never escapes, so it stays in registers.
                    var rare = local
                    putRarely(scalar, at: offset, of: bytes, into: &rare)
                    local = rare
                }
                offset &+= length
            }
        }
    }

    /// The mapping of scalars that the table does not hold: Σ (final or not), and scalars
    /// above it. `utf8` is the whole text's (the walk's own bytes: capturing the text itself
    /// in the walk retained it on every call).
    @inline(never)
    private func putRarely<Sink: ScalarSink>(_ scalar: Unicode.Scalar, at offset: Int, of utf8: UnsafeBufferPointer<UInt8>, into sink: inout Sink) {
        if lowercase && scalar.value == 0x03A3 {
            let text = String(decoding: utf8, as: UTF8.self)
            let index = text.utf8.index(text.startIndex, offsetBy: offset)
            sink.put(TermExtractor.isFinalSigma(text.unicodeScalars, at: index) ? "\u{03C2}" : "\u{03C3}")  // unaffected by stripping
        } else {
            for mapped in TermExtractor.mapSlowly(scalar, lowercase: lowercase, stripAccents: stripAccents) { sink.put(mapped) }
        }
    }

    /// The scalar whose UTF-8 starts at `offset` with `lead` ≥ 0x80, and its length in bytes.
    /// The bytes are a String's, hence valid UTF-8.
    @inline(__always)
    static func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, lead: UInt8) -> (Unicode.Scalar, Int) {
        var value: UInt32
        let length: Int
        if lead < 0xE0 {
            value = UInt32(lead & 0x1F); length = 2
        } else if lead < 0xF0 {
            value = UInt32(lead & 0x0F); length = 3
        } else {
            value = UInt32(lead & 0x07); length = 4
        }
        for k in 1..<length { value = value << 6 | UInt32(bytes[offset + k] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// Lowercase + strip for scalars above the table (CJK, Hangul, historic scripts, emoji …).
    /// Returns the scalars rather than calling back, so that a caller's per-scalar state is not
    /// captured by a closure on its hot path.
    static func mapSlowly(_ scalar: Unicode.Scalar, lowercase: Bool, stripAccents: Bool) -> [Unicode.Scalar] {
        var lowered: [Unicode.Scalar] = []
        if lowercase && scalar.properties.changesWhenLowercased {
            lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        } else {
            lowered.append(scalar)
        }
        guard stripAccents else { return lowered }
        var stripped: [Unicode.Scalar] = []
        for s in lowered { AccentStripper.append(s, to: &stripped) }
        return stripped
    }

    /// Python's Final_Sigma context for U+03A3 at `index`: preceded by a cased letter (skipping
    /// case-ignorable scalars) and not followed by one.
    private static func isFinalSigma(_ input: String.UnicodeScalarView, at index: String.UnicodeScalarView.Index) -> Bool {
        var previous = index
        var afterCased = false
        while previous != input.startIndex {
            previous = input.index(before: previous)
            let properties = input[previous].properties
            if !properties.isCaseIgnorable { afterCased = properties.isCased; break }
        }
        guard afterCased else { return false }
        var next = input.index(after: index)
        while next != input.endIndex {
            let properties = input[next].properties
            if !properties.isCaseIgnorable { return !properties.isCased }
            next = input.index(after: next)
        }
        return true
    }

    /// scikit-learn's `_white_spaces.sub(" ", text)` with `_white_spaces = re.compile(r"\s\s+")`:
    /// every run of two or more whitespace scalars becomes one space; a lone one stays as it is.
    static func collapsingWhitespaceRuns(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var i = 0
        while i < scalars.count {
            guard PythonCharacterClass.isSpace(scalars[i]) else { out.append(scalars[i]); i += 1; continue }
            var end = i + 1
            while end < scalars.count && PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
            out.append(end - i >= 2 ? " " : scalars[i])
            i = end
        }
        return out
    }

    /// scikit-learn `_char_ngrams` (after whitespace collapsing): every window of n scalars for
    /// n = min…max, windows longer than the text skipped.
    static func forEachCharNGram(_ scalars: [Unicode.Scalar], min minN: Int, max maxN: Int,
                                 _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var bytes: [UInt8] = []
        var boundaries: [Int] = []  // byte offset of each scalar, plus the end
        bytes.reserveCapacity(scalars.count)
        for scalar in scalars {
            boundaries.append(bytes.count)
            appendUTF8(scalar, to: &bytes)
        }
        boundaries.append(bytes.count)
        let length = scalars.count
        guard minN <= length else { return }
        bytes.withUnsafeBufferPointer { buffer in
            for n in minN...Swift.min(maxN, length) {
                for start in 0...(length - n) {
                    body(UnsafeBufferPointer(rebasing: buffer[boundaries[start]..<boundaries[start + n]]))
                }
            }
        }
    }

    /// scikit-learn `_char_wb_ngrams`: split on whitespace; pad each word with one space on
    /// both sides; emit its n-grams (in scalars) for n = min…max; a padded word shorter than n is
    /// emitted once as a whole and longer n are skipped for it.
    static func forEachCharWBNGram(_ scalars: [Unicode.Scalar], min minN: Int, max maxN: Int,
                                   _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var padded: [UInt8] = []
        var boundaries: [Int] = []  // byte offset of each scalar of the padded word, plus the end
        var i = 0
        while i < scalars.count {
            if PythonCharacterClass.isSpace(scalars[i]) { i += 1; continue }
            var end = i
            while end < scalars.count && !PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
            padded.removeAll(keepingCapacity: true)
            boundaries.removeAll(keepingCapacity: true)
            boundaries.append(0)
            padded.append(0x20)
            for k in i..<end {
                boundaries.append(padded.count)
                appendUTF8(scalars[k], to: &padded)
            }
            boundaries.append(padded.count)
            padded.append(0x20)
            boundaries.append(padded.count)
            let length = boundaries.count - 1  // scalars in the padded word
            padded.withUnsafeBufferPointer { bytes in
                for n in minN...maxN {
                    var offset = 0
                    body(UnsafeBufferPointer(rebasing: bytes[boundaries[offset]..<boundaries[Swift.min(offset + n, length)]]))
                    while offset + n < length {
                        offset += 1
                        body(UnsafeBufferPointer(rebasing: bytes[boundaries[offset]..<boundaries[offset + n]]))
                    }
                    if offset == 0 { break }  // a short word is counted once
                }
            }
            i = end
        }
    }
}
