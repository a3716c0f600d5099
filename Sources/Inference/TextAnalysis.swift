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
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) || v == 0x5F
        }
        if v < 0x1_0000 {
            let word = basicPlaneWordBits[Int(v >> 6)]
            return word & (1 << UInt64(v & 63)) != 0
        }
        return computeIsWord(scalar)
    }

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
        return scalar.properties.isWhitespace
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
        output.append(Unicode.Scalar(l)!)  // in range by construction (0x1100…0x1112)
        output.append(Unicode.Scalar(vowel)!)  // 0x1161…0x1175
        if t != 0 { output.append(Unicode.Scalar(0x11A7 + t)!) }  // 0x11A8…0x11C2
    }
}

/// Text → terms, exactly as a scikit-learn vectorizer's `build_analyzer()` with
/// `token_pattern=r"(?u)\b\w\w+\b"` (see `TextSpec` for the semantics). Immutable and
/// `Sendable`; every call works on its own local buffers, so one instance serves all threads.
/// The trainer builds vocabularies with the same type so that training and serving agree.
public struct TermExtractor: Sendable, Equatable {
    /// Lowercase first (Python `str.lower()`, including the final-sigma rule). Default true.
    public let lowercase: Bool
    /// Then strip accents like `strip_accents='unicode'`. Default true.
    public let stripAccents: Bool
    /// Word or char_wb n-grams. Default word.
    public let analyzer: TextAnalyzer
    /// n-gram lengths `ngramMin...ngramMax`; callers validate 1 ≤ min ≤ max. Default 1...1.
    public let ngramMin: Int
    public let ngramMax: Int

    public init(lowercase: Bool = true, stripAccents: Bool = true, analyzer: TextAnalyzer = .word,
                ngramMin: Int = 1, ngramMax: Int = 1) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.analyzer = analyzer
        self.ngramMin = max(1, ngramMin)
        self.ngramMax = max(max(1, ngramMin), ngramMax)
    }

    /// The extractor a text transformer spec describes.
    public init(_ spec: TextSpec) {
        self.init(lowercase: spec.lowercase, stripAccents: spec.stripAccents, analyzer: spec.analyzer,
                  ngramMin: spec.ngramMin, ngramMax: spec.ngramMax)
    }

    /// All terms of `text` in scikit-learn's order (duplicates kept: they are counts).
    public func terms(in text: String) -> [String] {
        let scalars = Self.preprocessScalars(text, lowercase: lowercase, stripAccents: stripAccents)
        switch analyzer {
        case .word:
            return Self.wordNGrams(Self.tokens(of: scalars), min: ngramMin, max: ngramMax)
        case .charWB:
            return Self.charWBNGrams(scalars, min: ngramMin, max: ngramMax)
        }
    }

    /// Lowercase and/or strip accents, in scikit-learn's order, as a String.
    public static func preprocess(_ text: String, lowercase: Bool = true, stripAccents: Bool = true) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: preprocessScalars(text, lowercase: lowercase, stripAccents: stripAccents))
        return String(out)
    }

    /// Lowercase and/or strip accents, as scalars (the form the analysers consume).
    static func preprocessScalars(_ text: String, lowercase: Bool, stripAccents: Bool) -> [Unicode.Scalar] {
        let input = text.unicodeScalars
        var lowered: [Unicode.Scalar] = []
        lowered.reserveCapacity(text.utf8.count)
        if lowercase {
            var previousNonIgnorableIsCased = false  // for the final-sigma rule
            var index = input.startIndex
            while index != input.endIndex {
                let scalar = input[index]
                let v = scalar.value
                if v < 0x80 {
                    lowered.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 32)) : scalar)
                    // ASCII letters are cased; ' . : ^ ` are case-ignorable (keep the state).
                    let isCaseIgnorable = v == 0x27 || v == 0x2E || v == 0x3A || v == 0x5E || v == 0x60
                    if !isCaseIgnorable {
                        previousNonIgnorableIsCased = (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                    }
                } else {
                    if v == 0x03A3 {
                        lowered.append(isFinalSigma(input, at: index, afterCased: previousNonIgnorableIsCased) ? "\u{03C2}" : "\u{03C3}")
                    } else if scalar.properties.changesWhenLowercased {
                        lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                    } else {
                        lowered.append(scalar)
                    }
                    if !scalar.properties.isCaseIgnorable { previousNonIgnorableIsCased = scalar.properties.isCased }
                }
                index = input.index(after: index)
            }
        } else {
            lowered.append(contentsOf: input)
        }
        guard stripAccents else { return lowered }
        var stripped: [Unicode.Scalar] = []
        stripped.reserveCapacity(lowered.count)
        for scalar in lowered { AccentStripper.append(scalar, to: &stripped) }
        return stripped
    }

    /// Python's Final_Sigma context for U+03A3 at `index`: preceded by a cased letter (skipping
    /// case-ignorable scalars) and not followed by one.
    private static func isFinalSigma(_ input: String.UnicodeScalarView, at index: String.UnicodeScalarView.Index,
                                     afterCased: Bool) -> Bool {
        guard afterCased else { return false }
        var next = input.index(after: index)
        while next != input.endIndex {
            let properties = input[next].properties
            if !properties.isCaseIgnorable { return !properties.isCased }
            next = input.index(after: next)
        }
        return true
    }

    /// Maximal runs of ≥ 2 word characters (`(?u)\b\w\w+\b` under Python's `re`).
    static func tokens(of scalars: [Unicode.Scalar]) -> [String] {
        var tokens: [String] = []
        var start = -1
        for i in 0...scalars.count {
            let isWord = i < scalars.count && PythonCharacterClass.isWord(scalars[i])
            if isWord {
                if start < 0 { start = i }
            } else if start >= 0 {
                if i - start >= 2 { tokens.append(makeString(scalars[start..<i])) }
                start = -1
            }
        }
        return tokens
    }

    /// scikit-learn `_word_ngrams`: all n-grams for n = min…max (n ≤ token count), n-grams
    /// joined by one space, shorter n first, left to right.
    static func wordNGrams(_ tokens: [String], min minN: Int, max maxN: Int) -> [String] {
        if maxN == 1 { return minN == 1 ? tokens : [] }
        var terms: [String] = []
        terms.reserveCapacity(tokens.count * (maxN - minN + 1))
        for n in minN...maxN where n <= tokens.count {
            if n == 1 { terms.append(contentsOf: tokens); continue }
            for i in 0...(tokens.count - n) {
                var term = tokens[i]
                for j in (i + 1)..<(i + n) {
                    term.append(" ")
                    term.append(tokens[j])
                }
                terms.append(term)
            }
        }
        return terms
    }

    /// scikit-learn `_char_wb_ngrams`: split on whitespace; pad each word with one space on
    /// both sides; emit its n-grams for n = min…max; a padded word shorter than n is emitted
    /// once as a whole and longer n are skipped for it.
    static func charWBNGrams(_ scalars: [Unicode.Scalar], min minN: Int, max maxN: Int) -> [String] {
        var terms: [String] = []
        var padded: [Unicode.Scalar] = []
        var i = 0
        while i < scalars.count {
            if PythonCharacterClass.isSpace(scalars[i]) { i += 1; continue }
            var end = i
            while end < scalars.count && !PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
            padded.removeAll(keepingCapacity: true)
            padded.append(" ")
            padded.append(contentsOf: scalars[i..<end])
            padded.append(" ")
            for n in minN...maxN {
                var offset = 0
                terms.append(makeString(padded[offset..<Swift.min(offset + n, padded.count)]))
                while offset + n < padded.count {
                    offset += 1
                    terms.append(makeString(padded[offset..<Swift.min(offset + n, padded.count)]))
                }
                if offset == 0 { break }  // a short word is counted once
            }
            i = end
        }
        return terms
    }

    @inline(__always)
    static func makeString(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
