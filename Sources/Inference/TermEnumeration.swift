// The scoring path's term enumeration: the same terms as `TermExtractor.forEachTerm(in:)`, in
// another order, from analysed scalars held in a caller's buffer, each with its vocabulary
// hash (a character window's extended from the shorter one at the same start), in temporary
// buffers (on the stack up to 1 KiB each: titles up to about 120
// characters; Swift's runtime decides for larger ones).

/// The hash a `TermTable` files a term under: a seed from the term's length, its UTF-8 bytes
/// eight at a time, each word but the last folded in with a multiply and a rotation and the
/// last (zero-filled past the end) XORed in, finished with a 64-bit mixer so that every bit
/// of the result depends on every byte (the table takes its slot from the low bits and keeps
/// the high ones). A word at a time rather than a byte: a title's terms end at lengths no
/// branch predictor guesses, and a byte loop paid a mispredicted exit per term (about a fifth
/// of a word walk's mispredictions). A term of up to 8 bytes (most words, every short
/// character window) is one XOR and the mixer.
enum TermHash {
    static let start: UInt64 = 0xCBF2_9CE4_8422_2325
    /// What each byte of length adds to the seed.
    static let lengthStep: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    static func adding(word: UInt64, to hash: UInt64) -> UInt64 {
        let product = (hash ^ word) &* 0x9FB2_1C65_1E98_DF25
        return product << 31 | product >> 33
    }

    @inline(__always)
    static func finished(_ hash: UInt64) -> UInt64 {
        var x = hash
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    /// The hash before its words: the length, so that zero fill never equals zero bytes (a
    /// sum, so that a window one byte longer adds `lengthStep`).
    @inline(__always)
    static func seeded(count: Int) -> UInt64 {
        start &+ UInt64(truncatingIfNeeded: count) &* lengthStep
    }

    /// The hash of the `count` bytes at `bytes`, of which at least `TermExtractor.termPadding`
    /// more past the last are readable (their values do not matter: the last word is masked).
    @inline(__always)
    static func of(padded bytes: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        of(bytes, count: count) { lowBytes(word(at: $0), $1) }
    }

    /// The hash of a whole term (no bytes past it read): what `of(padded:count:)` gives.
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = bytes.baseAddress else { return finished(seeded(count: 0)) }
        return of(base, count: bytes.count, lastWord: partialWord(at:count:))
    }

    /// The one definition both forms share: every word but the last folded in, the last
    /// (1…8 bytes, as `lastWord` reads them at a position) XORed in.
    @inline(__always)
    private static func of(_ bytes: UnsafePointer<UInt8>, count: Int,
                           lastWord: (UnsafePointer<UInt8>, Int) -> UInt64) -> UInt64 {
        var hash = seeded(count: count)
        var offset = 0
        while count &- offset > 8 {
            hash = adding(word: word(at: bytes + offset), to: hash)
            offset &+= 8
        }
        if count > 0 { hash ^= lastWord(bytes + offset, count &- offset) }
        return finished(hash)
    }

    /// `of(padded:count:)` for a term of 1…8 bytes whose first eight bytes (and any past it)
    /// are `word`.
    @inline(__always)
    static func of(word: UInt64, count: Int) -> UInt64 {
        finished(seeded(count: count) ^ lowBytes(word, count))
    }

    /// The low `count` (1…8) bytes of `word`, the others zero. A masking shift: the shift is
    /// below 64, and a checked one selected between two results on every term.
    @inline(__always)
    static func lowBytes(_ word: UInt64, _ count: Int) -> UInt64 {
        word & ~0 &>> UInt64(truncatingIfNeeded: 64 &- 8 &* count)
    }

    /// The `count` (0…8) bytes at `p` as the low bytes of a word, the others zero, reading
    /// no byte past them: two overlapping loads (the bytes both read are the same, so OR
    /// keeps them), where a byte loop ended at a length no predictor guesses.
    @inline(__always)
    static func partialWord(at p: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        if count >= 4 {
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
            return low | high << UInt64(8 * (count - 4))
        }
        guard count > 0 else { return 0 }
        let middle = count >> 1
        return UInt64(p[0]) | UInt64(p[middle]) << UInt64(8 * middle) | UInt64(p[count - 1]) << UInt64(8 * (count - 1))
    }

    /// Eight bytes at `p`, little-endian (the first byte lowest).
    @inline(__always)
    static func word(at p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }
}

/// What a term walk (`TermExtractor.visitUnorderedTerms`) hands each term to: its UTF-8 bytes
/// (valid during the call) and its `TermHash`.
protocol TermVisitor {
    mutating func visit(_ term: UnsafeBufferPointer<UInt8>, hash: UInt64)
    /// Whether the walk should call `expect(hash:)` with each term's hash before it visits
    /// any: worth it when `visit` reads memory the caches are unlikely to hold.
    var expectsHashes: Bool { get }
    /// Lets the visitor start loading what `visit` will read for `hash` (a vocabulary table's
    /// slot, say).
    func expect(hash: UInt64)
}

extension TermVisitor {
    @inline(__always) var expectsHashes: Bool { false }
    @inline(__always) func expect(hash: UInt64) {}
}

extension TermExtractor {
    /// Whether `other` turns a text into the same scalars (case, accents, normalisation), so
    /// that two analyzers of one field can share one pass over it.
    func analysesLike(_ other: TermExtractor) -> Bool {
        lowercase == other.lowercase && stripAccents == other.stripAccents && asciiOnly == other.asciiOnly
            && normalization == other.normalization
    }

    /// Calls `body` with the scalars the analyzers read (`forEachAnalysedScalar`) in a
    /// temporary buffer of `text`'s UTF-8 length plus 16 (on the stack when it fits there).
    /// Returns false without calling `body` when the text grows beyond that under lowercasing
    /// and decomposition (a few compatibility characters expand to many scalars).
    func withAnalysedScalars(_ text: String, _ body: (UnsafeBufferPointer<Unicode.Scalar>) -> Void) -> Bool {
        withAnalysedScalars(FeatureText(text), body)
    }

    func withAnalysedScalars(_ text: FeatureText, _ body: (UnsafeBufferPointer<Unicode.Scalar>) -> Void) -> Bool {
        let capacity = text.utf8Count + 16
        return withUnsafeTemporaryAllocation(of: Unicode.Scalar.self, capacity: capacity) { buffer in
            guard let base = buffer.baseAddress else { return false }
            var sink = BufferScalarSink(base: base, capacity: capacity)
            normalize(text, into: &sink)
            guard sink.count <= capacity else { return false }
            let count = normalization.contextual ? applyContextualSteps(buffer, count: sink.count) : sink.count
            body(UnsafeBufferPointer(rebasing: buffer[0..<count]))
            return true
        }
    }

    /// Hands `visitor` each term of the analysed scalars (UTF-8 bytes, valid during the call)
    /// and its `TermHash`: the multiset of `forEachTerm(in:)` on the text they came from, in
    /// another order (by start position, then length). Counts do not depend on order; the
    /// vectorizer sorts by column. At least `termPadding` readable bytes follow each term's
    /// start (zeros past the text), for `TermTable.Lookup.column(ofPadded:hash:)`. A visitor
    /// type rather than a closure, so that what the caller does with a term (a vocabulary
    /// lookup, say) inlines into the walk.
    @inline(__always)
    func visitUnorderedTerms<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ visitor: inout Visitor) {
        switch analyzer {
        case .word: forEachWordNGram(scalars, &visitor)
        case .charWB: forEachCharWBNGram(scalars, &visitor)
        case .char: forEachCharNGram(scalars, &visitor)
        }
    }

    /// `tokenize` then word n-grams: tokens go into one byte buffer separated by single spaces,
    /// so the n-gram starting at token i extends the (n−1)-gram's bytes and hash.
    private func forEachWordNGram<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                  _ visitor: inout Visitor) {
        let n = scalars.count
        // What the walk reads of `self`, as locals: a closure that used `self` copied the whole
        // extractor (its sets and tables retained, then released) twice a call.
        let stopWords = self.stopWords
        let ngrams = ngramMin...ngramMax
        // Every scalar at most 4 bytes and a separator: the tokens always fit. Wrapping
        // arithmetic in the per-scalar loops: counts are bounded by the buffer sizes, and each
        // overflow check was two instructions a scalar.
        TermExtractor.withBuffers(bytes: 5 * n + 1, offsets: n + 2) { bytes, bounds in
            var byteCount = 0, tokenCount = 0
            var i = 0
            while i < n {
                guard PythonCharacterClass.isWord(scalars[i]) else { i &+= 1; continue }
                let runMark = byteCount  // before the run and its separating space
                if tokenCount > 0 { bytes[byteCount] = 0x20; byteCount &+= 1 }
                let runStart = byteCount
                let first = i
                repeat {
                    byteCount &+= TermExtractor.writeUTF8(scalars[i], to: bytes + byteCount)
                    i &+= 1
                } while i < n && PythonCharacterClass.isWord(scalars[i])
                if i &- first >= 2 {
                    bounds[2 * tokenCount] = Int32(truncatingIfNeeded: runStart)
                    bounds[2 * tokenCount + 1] = Int32(truncatingIfNeeded: byteCount)
                    tokenCount &+= 1
                } else {
                    byteCount = runMark
                }
            }
            if !stopWords.isEmpty {
                WordTokenizer.dropStopWords(stopWords, bytes: bytes, bounds: bounds, tokenCount: &tokenCount, byteCount: &byteCount)
            }
            TermExtractor.zeroPadding(at: bytes + byteCount)
            TermExtractor.visitWordNGrams(WordTokens(bytes: bytes, bounds: bounds, count: tokenCount), ngrams, &visitor)
        }
    }

    /// Whether `withWordTokens` can tokenise this extractor's texts: word n-grams, and no
    /// contextual normalisation step (those read the whole analysed text).
    var tokenizesFromUTF8: Bool { analyzer == .word && !normalization.contextual }

    /// Calls `body` with the word tokens of `text`, lowercased, stripped and tokenised in one
    /// pass over its UTF-8, without the analysed scalars in between (`tokenizesFromUTF8`
    /// extractors only). Returns false without calling `body` when the tokens outgrow buffers
    /// of three bytes per byte of the text (Hangul syllables decompose to three jamo) and a
    /// token per two: a few compatibility characters expand to many scalars, and
    /// `withAnalysedScalars` then takes the text.
    func withWordTokens(_ text: FeatureText, _ body: (WordTokens) -> Void) -> Bool {
        let length = text.utf8Count
        let capacity = 3 * length + 16
        let tokenCapacity = length / 2 + 4
        var fitted = false
        // The extractor unretained, its stop words borrowed: every scoring thread shares them,
        // and a retain and release per text moved their reference counts from core to core.
        // The closures capture it as a plain value, which they copy without a retain.
        let unretained = Unmanaged.passUnretained(self)
        TermExtractor.withBuffers(bytes: capacity + WordTokenizer.slack, offsets: 2 * tokenCapacity) { bytes, bounds in
            unretained._withUnsafeGuaranteedRef { extractor in
                var tokenizer = WordTokenizer(bytes: bytes, capacity: capacity, bounds: bounds, tokenCapacity: tokenCapacity)
                extractor.normalize(text, into: &tokenizer)
                guard let tokens = tokenizer.finish(droppingStopWords: extractor.stopWords) else { return }
                fitted = true
                body(tokens)
            }
        }
        return fitted
    }

    /// The word n-grams of `tokens` with lengths in `ngrams`: the n-gram starting at token i
    /// extends the (n−1)-gram's bytes and hash. For a visitor that `expectsHashes`, two passes:
    /// every hash first, each handed to `visitor.expect` (the loads its lookups wait for then
    /// run side by side rather than one after the other), then the visits.
    @inline(__always)
    static func visitWordNGrams<Visitor: TermVisitor>(_ tokens: WordTokens, _ ngrams: ClosedRange<Int>, _ visitor: inout Visitor) {
        let bytes = tokens.bytes, bounds = tokens.bounds, tokenCount = tokens.count
        let ngramMin = ngrams.lowerBound
        let longest = min(ngrams.upperBound, tokenCount)
        guard longest >= ngramMin else { return }
        /// Each n-gram's start, end and hash, by start then length.
        @inline(__always) func forEachNGram(_ body: (Int, Int, UInt64) -> Void) {
            for i in 0..<tokenCount {
                let first = Int(bounds[2 * i])
                for length in ngramMin...longest {
                    let last = i &+ length &- 1
                    if last >= tokenCount { break }
                    let end = Int(bounds[2 * last + 1])
                    body(first, end, TermHash.of(padded: bytes + first, count: end &- first))
                }
            }
        }
        guard visitor.expectsHashes else {
            forEachNGram { first, end, hash in visitor.visit(UnsafeBufferPointer(start: bytes + first, count: end &- first), hash: hash) }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: tokenCount * (longest - ngramMin + 1)) { hashes in
            guard let hashes = hashes.baseAddress else { return }
            var k = 0
            forEachNGram { _, _, hash in
                visitor.expect(hash: hash)
                hashes[k] = hash
                k &+= 1
            }
            k = 0
            for i in 0..<tokenCount {
                let first = Int(bounds[2 * i])
                for length in ngramMin...longest {
                    let last = i &+ length &- 1
                    if last >= tokenCount { break }
                    let end = Int(bounds[2 * last + 1])
                    visitor.visit(UnsafeBufferPointer(start: bytes + first, count: end &- first), hash: hashes[k])
                    k &+= 1
                }
            }
        }
    }

    /// scikit-learn `_char_wb_ngrams`: per whitespace-separated word padded with a space on each
    /// side, every window of ngram_min…ngram_max scalars shorter than the padded word, and the
    /// padded word itself once when it is at most ngram_max long.
    private func forEachCharWBNGram<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                  _ visitor: inout Visitor) {
        let ngrams = ngramMin...ngramMax
        TermExtractor.withPaddedWords(scalars) { words in
            while let word = words.next() { TermExtractor.visitCharWBWindows(of: word, ngrams, &visitor) }
        }
    }

    /// A whitespace-separated word padded with a space on each side (`char_wb`'s unit: its
    /// n-grams never cross it), as UTF-8 followed by `termPadding` zero bytes, with the byte
    /// offset of each scalar. Valid during the call it is handed to.
    struct PaddedWord {
        let bytes: UnsafeBufferPointer<UInt8>
        /// `boundaries[k]`: byte offset of scalar k; `boundaries[length]`: the end.
        let boundaries: UnsafeMutablePointer<Int32>
        /// Scalars, the two spaces included.
        let length: Int
    }

    /// Runs `body` with the words of `scalars` as `char_wb` pads them, to take one at a time,
    /// in order: a loop over `next()` keeps its work in the caller's function, where a closure
    /// per word was compiled out of line in the word-cache walk (a call and its context
    /// reloaded per word).
    @inline(__always)
    static func withPaddedWords(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ body: (inout PaddedWords) -> Void) {
        let n = scalars.count
        TermExtractor.withBuffers(bytes: 4 * n + 2, offsets: n + 3) { padded, boundaries in
            var words = PaddedWords(scalars: scalars, padded: padded, boundaries: boundaries)
            body(&words)
        }
    }

    /// The padded words of `scalars`, written one at a time into buffers of `4n + 2` bytes
    /// (and `termPadding`) and `n + 3` offsets; each word is valid until the next.
    struct PaddedWords {
        let scalars: UnsafeBufferPointer<Unicode.Scalar>
        let padded: UnsafeMutablePointer<UInt8>
        let boundaries: UnsafeMutablePointer<Int32>
        private var i = 0

        init(scalars: UnsafeBufferPointer<Unicode.Scalar>, padded: UnsafeMutablePointer<UInt8>,
             boundaries: UnsafeMutablePointer<Int32>) {
            self.scalars = scalars
            self.padded = padded
            self.boundaries = boundaries
        }

        @inline(__always)
        mutating func next() -> PaddedWord? {
            let n = scalars.count
            while i < n && PythonCharacterClass.isSpace(scalars[i]) { i += 1 }
            guard i < n else { return nil }
            var end = i
            while end < n && !PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
            padded[0] = 0x20
            boundaries[0] = 0
            var byteCount = 1
            for k in i..<end {
                boundaries[k - i + 1] = Int32(truncatingIfNeeded: byteCount)
                byteCount += TermExtractor.writeUTF8(scalars[k], to: padded + byteCount)
            }
            let length = end - i + 2
            boundaries[length - 1] = Int32(truncatingIfNeeded: byteCount)
            padded[byteCount] = 0x20
            TermExtractor.zeroPadding(at: padded + byteCount + 1)
            boundaries[length] = Int32(truncatingIfNeeded: byteCount + 1)
            i = end
            return PaddedWord(bytes: UnsafeBufferPointer(start: padded, count: byteCount + 1), boundaries: boundaries, length: length)
        }
    }

    /// The `char_wb` n-grams of one padded word, of lengths in `ngrams`. Static, so that the
    /// per-word closures that call it capture no extractor.
    @inline(__always)
    static func visitCharWBWindows<Visitor: TermVisitor>(of word: PaddedWord, _ ngrams: ClosedRange<Int>, _ visitor: inout Visitor) {
        guard let base = word.bytes.baseAddress else { return }
        TermExtractor.forEachWindow(UnsafeMutablePointer(mutating: base), word.boundaries, length: word.length,
                                    min: ngrams.lowerBound, max: ngrams.upperBound, wholeOnce: true, &visitor)
    }

    /// scikit-learn `_char_ngrams`: runs of ≥ 2 whitespace scalars become one space, then every
    /// window of ngram_min…ngram_max scalars that fits.
    private func forEachCharNGram<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                  _ visitor: inout Visitor) {
        let n = scalars.count
        TermExtractor.withBuffers(bytes: 4 * n + 1, offsets: n + 1) { bytes, boundaries in
            var length = 0, byteCount = 0
            var i = 0
            while i < n {
                var scalar = scalars[i]
                var end = i + 1
                if PythonCharacterClass.isSpace(scalar) {
                    while end < n && PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
                    if end - i >= 2 { scalar = " " }
                }
                boundaries[length] = Int32(truncatingIfNeeded: byteCount)
                byteCount += TermExtractor.writeUTF8(scalar, to: bytes + byteCount)
                length += 1
                i = end
            }
            boundaries[length] = Int32(truncatingIfNeeded: byteCount)
            TermExtractor.zeroPadding(at: bytes + byteCount)
            TermExtractor.forEachWindow(bytes, boundaries, length: length, min: ngramMin, max: ngramMax, wholeOnce: false, &visitor)
        }
    }

    /// Windows of `min…max` scalars over `length` scalars whose byte offsets are `boundaries`,
    /// by start then length. `wholeOnce` (char_wb): a window never covers the whole sequence
    /// unless it is the sequence itself, given once whatever `min` is, when `length ≤ max`.
    @inline(__always)
    private static func forEachWindow<Visitor: TermVisitor>(_ bytes: UnsafeMutablePointer<UInt8>, _ boundaries: UnsafeMutablePointer<Int32>,
                                      length: Int, min minN: Int, max maxN: Int, wholeOnce: Bool,
                                      _ visitor: inout Visitor) {
        // Every scalar one byte (an ASCII word): offsets are positions, and a start's windows
        // up to eight bytes are masks of one word: `of(word:count:)` with its mask and seed
        // grown a byte at a time rather than computed per window (about 190 instructions a
        // listing of the default model).
        let ascii = Int(boundaries[length]) == length
        for start in 0..<length {
            let first = ascii ? start : Int(boundaries[start])
            let longest = Swift.min(maxN, length - start)
            if longest < 1 { break }
            let word = TermHash.word(at: bytes + first)
            var kept: UInt64 = 0, seed = TermHash.seeded(count: 0)
            for size in 1...longest {
                let end = ascii ? start + size : Int(boundaries[start + size])
                kept = kept << 8 | 0xFF
                seed &+= TermHash.lengthStep
                let emit = wholeOnce ? (size >= minN && size < length) || size == length : size >= minN
                guard emit else { continue }
                let count = end - first
                let hash = ascii && count <= 8 ? TermHash.finished(seed ^ word & kept)
                                               : TermHash.of(padded: bytes + first, count: count)
                visitor.visit(UnsafeBufferPointer(start: bytes + first, count: count), hash: hash)
            }
        }
    }

    /// Bytes after a term's start that a lookup may read in one load (`column(ofPadded:hash:)`).
    static let termPadding = 8

    /// Zeroes the `termPadding` bytes at `end` (one store, where `initialize(repeating:)`
    /// called memset).
    @inline(__always)
    static func zeroPadding(at end: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(end).storeBytes(of: 0, as: UInt64.self)
    }

    /// Runs `body` with `byteCount` temporary bytes (and `termPadding` more) and `offsetCount`
    /// Int32 offsets (each on the stack up to 1 KiB), the scratch every analyzer here needs.
    @inline(__always)
    static func withBuffers(bytes byteCount: Int, offsets offsetCount: Int,
                                    _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Int32>) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount + termPadding) { bytes in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: offsetCount) { offsets in
                guard let bytes = bytes.baseAddress, let offsets = offsets.baseAddress else { return }
                body(bytes, offsets)
            }
        }
    }

    /// Writes `scalar` as UTF-8 at `out`; returns the byte count (1…4).
    @inline(__always)
    static func writeUTF8(_ scalar: Unicode.Scalar, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let v = scalar.value
        if v < 0x80 {
            out[0] = UInt8(truncatingIfNeeded: v)
            return 1
        }
        var count = 0
        UTF8.encode(scalar) { out[count] = $0; count += 1 }
        return count
    }
}

/// A text as a block's term walk reads it: its analysed scalars (`AnalysedScalars`, any
/// analyzer), or its word tokens made straight from its UTF-8 (`WordTokens`, word analyzers
/// only). A protocol rather than an enum, so that each walk is compiled for what it reads.
protocol AnalysedText {
    /// About how many n-gram starts the text has.
    func estimatedStarts(_ analyzer: TextAnalyzer) -> Int
    /// The analysed scalars, when that is what the text is (the `char_wb` word cache reads
    /// them).
    var scalars: UnsafeBufferPointer<Unicode.Scalar>? { get }
    /// `extractor`'s terms of the text, unordered (`TermExtractor.visitUnorderedTerms`).
    func visitTerms<Visitor: TermVisitor>(of extractor: TermExtractor, _ visitor: inout Visitor)
}

/// A text's analysed scalars (`TermExtractor.withAnalysedScalars`), valid during the call
/// they are handed to.
struct AnalysedScalars: AnalysedText {
    let buffer: UnsafeBufferPointer<Unicode.Scalar>

    init(_ buffer: UnsafeBufferPointer<Unicode.Scalar>) {
        self.buffer = buffer
    }

    /// One start in four scalars for words (a word and its separator), every scalar for
    /// character n-grams.
    @inline(__always)
    func estimatedStarts(_ analyzer: TextAnalyzer) -> Int { analyzer == .word ? buffer.count / 4 : buffer.count }

    @inline(__always)
    var scalars: UnsafeBufferPointer<Unicode.Scalar>? { buffer }

    @inline(__always)
    func visitTerms<Visitor: TermVisitor>(of extractor: TermExtractor, _ visitor: inout Visitor) {
        extractor.visitUnorderedTerms(buffer, &visitor)
    }
}

extension WordTokens: AnalysedText {
    @inline(__always)
    func estimatedStarts(_ analyzer: TextAnalyzer) -> Int { count }

    @inline(__always)
    var scalars: UnsafeBufferPointer<Unicode.Scalar>? { nil }

    @inline(__always)
    func visitTerms<Visitor: TermVisitor>(of extractor: TermExtractor, _ visitor: inout Visitor) {
        TermExtractor.visitWordNGrams(self, extractor.ngramMin...extractor.ngramMax, &visitor)
    }
}

/// Word tokens as `TermExtractor.withWordTokens` and the scalar walk make them: token k is
/// `bytes[bounds[2k] ..< bounds[2k + 1]]`, tokens separated by single spaces, so every word
/// n-gram is a contiguous run of `bytes`; `termPadding` zero bytes follow the last token.
/// Valid during the call it is handed to.
struct WordTokens {
    let bytes: UnsafeMutablePointer<UInt8>
    let bounds: UnsafeMutablePointer<Int32>
    let count: Int
}

/// Python's `(?u)\b\w\w+\b` over analysed scalars as they come, written as UTF-8 into a
/// caller's buffers: maximal runs of ≥ 2 word scalars (stop words are dropped by `finish`).
/// A scalar sink, so that `TermExtractor.normalize` feeds it straight from the text's UTF-8;
/// plain values only, so that a local copy of it lives in registers.
struct WordTokenizer: ScalarSink {
    /// Bytes past `capacity` the buffer must have: eight bytes stored from just below it, and
    /// the zero padding after the last token.
    static let slack = 8 + TermExtractor.termPadding

    private let bytes: UnsafeMutablePointer<UInt8>
    /// Bytes the tokens may take; a text that needs more sets `overflowed`.
    private let capacity: Int
    private let bounds: UnsafeMutablePointer<Int32>
    /// Tokens `bounds` has room for; a text with more sets `overflowed`.
    private let tokenCapacity: Int
    private var byteCount = 0
    private var tokenCount = 0
    /// Where the current run's bytes start (after its separating space, when a token came
    /// before it).
    private var runStart = 0
    /// Scalars in the current run; 0 = not in a run.
    private var runScalars = 0
    private var overflowed = false

    /// `bytes` must hold `capacity + slack` bytes; `bounds`, `2 × tokenCapacity` Int32s.
    init(bytes: UnsafeMutablePointer<UInt8>, capacity: Int, bounds: UnsafeMutablePointer<Int32>, tokenCapacity: Int) {
        self.bytes = bytes
        self.capacity = capacity
        self.bounds = bounds
        self.tokenCapacity = tokenCapacity
    }

    // Wrapping arithmetic: counts are bounded by the buffers, and each overflow check was two
    // instructions a scalar.
    @inline(__always)
    mutating func put(_ scalar: Unicode.Scalar) {
        if PythonCharacterClass.isWord(scalar) {
            if runScalars == 0 { beginRun() }
            runScalars &+= 1
            guard byteCount < capacity else { overflowed = true; return }
            byteCount &+= TermExtractor.writeUTF8(scalar, to: bytes + byteCount)
        } else if runScalars > 0 {
            endRun()
        }
    }

    /// Up to eight ASCII scalars a run at a time: each stretch of word bytes is stored with one
    /// 8-byte store (the bytes past it are overwritten later or lie past the end).
    @inline(__always)
    mutating func putASCII(_ word: UInt64, count: Int) {
        var rest = word
        var wordBytes = ASCIIWord.wordCharacters(word)  // high bit of each byte: a word character
        var remaining = count
        while remaining > 0 {
            if runScalars == 0 {
                let skipped = wordBytes.trailingZeroBitCount >> 3  // 8 when none is a word byte
                if skipped >= remaining { return }
                rest &>>= UInt64(8 * skipped)
                wordBytes &>>= UInt64(8 * skipped)
                remaining &-= skipped
                beginRun()
            }
            let run = (~wordBytes & ASCIIWord.highBits).trailingZeroBitCount >> 3  // 8: all word bytes
            let taken = min(run, remaining)
            if taken > 0 {
                guard byteCount < capacity else { overflowed = true; return }
                UnsafeMutableRawPointer(bytes + byteCount).storeBytes(of: rest.littleEndian, as: UInt64.self)
                byteCount &+= taken
                runScalars &+= taken
            }
            if taken == remaining { return }
            endRun()
            // At most 7 bytes past the run here: the shift is below 64.
            rest &>>= UInt64(8 * (taken + 1))
            wordBytes &>>= UInt64(8 * (taken + 1))
            remaining &-= taken + 1
        }
    }

    /// A run's separating space is written even at `capacity` (`slack` has room for it):
    /// the run's first scalar then overflows.
    @inline(__always)
    private mutating func beginRun() {
        if tokenCount > 0 { bytes[byteCount] = 0x20; byteCount &+= 1 }
        runStart = byteCount
    }

    /// Keeps the run as a token when it has ≥ 2 scalars, else drops its bytes and the space
    /// before them.
    @inline(__always)
    private mutating func endRun() {
        if runScalars >= 2 && !overflowed {
            if tokenCount < tokenCapacity {
                bounds[2 * tokenCount] = Int32(truncatingIfNeeded: runStart)
                bounds[2 * tokenCount + 1] = Int32(truncatingIfNeeded: byteCount)
                tokenCount &+= 1
            } else {
                overflowed = true
            }
        } else {
            byteCount = tokenCount > 0 ? runStart &- 1 : runStart
        }
        runScalars = 0
    }

    /// The tokens, the last run ended, `stopWords` dropped and the padding written; nil when
    /// they outgrew the buffers.
    mutating func finish(droppingStopWords stopWords: Set<[UInt8]>) -> WordTokens? {
        if runScalars > 0 { endRun() }
        guard !overflowed else { return nil }
        if !stopWords.isEmpty {
            WordTokenizer.dropStopWords(stopWords, bytes: bytes, bounds: bounds, tokenCount: &tokenCount, byteCount: &byteCount)
        }
        TermExtractor.zeroPadding(at: bytes + byteCount)
        return WordTokens(bytes: bytes, bounds: bounds, count: tokenCount)
    }

    /// Removes the stop words among `tokenCount` tokens, moving the others (and single spaces
    /// between them) towards the start, so that n-grams span the tokens that are kept.
    @inline(never)
    static func dropStopWords(_ stopWords: Set<[UInt8]>, bytes: UnsafeMutablePointer<UInt8>, bounds: UnsafeMutablePointer<Int32>,
                              tokenCount: inout Int, byteCount: inout Int) {
        var kept = 0, end = 0
        for k in 0..<tokenCount {
            let start = Int(bounds[2 * k]), count = Int(bounds[2 * k + 1]) - start
            if stopWords.contains(Array(UnsafeBufferPointer(start: bytes + start, count: count))) { continue }
            if kept > 0 { bytes[end] = 0x20; end += 1 }
            (bytes + end).update(from: bytes + start, count: count)  // overlapping: memmove
            bounds[2 * kept] = Int32(truncatingIfNeeded: end)
            end += count
            bounds[2 * kept + 1] = Int32(truncatingIfNeeded: end)
            kept += 1
        }
        tokenCount = kept
        byteCount = end
    }
}
