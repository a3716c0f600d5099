// The scoring path's term enumeration: the same terms as `TermExtractor.forEachTerm(in:)`, in
// another order, from analysed scalars held in a caller's buffer, each with its vocabulary
// hash computed as the term grows (a bigram extends its first word's hash, a 4-gram its
// 3-gram's), in temporary buffers (on the stack up to 1 KiB each: titles up to about 120
// characters; Swift's runtime decides for larger ones).

/// The hash a `TermTable` files a term under: FNV-1a over the UTF-8 bytes, so that a term's
/// hash extends byte by byte, finished with a 64-bit mixer so that every bit of the result
/// depends on every byte (the table takes its slot from the low bits and keeps the high ones).
enum TermHash {
    static let start: UInt64 = 0xCBF2_9CE4_8422_2325

    @inline(__always)
    static func adding(_ byte: UInt8, to hash: UInt64) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
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

    /// The hash of a whole term.
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = start
        for byte in bytes { hash = adding(byte, to: hash) }
        return finished(hash)
    }
}

/// What a term walk (`TermExtractor.visitUnorderedTerms`) hands each term to: its UTF-8 bytes
/// (valid during the call) and its `TermHash`.
protocol TermVisitor {
    mutating func visit(_ term: UnsafeBufferPointer<UInt8>, hash: UInt64)
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
        let capacity = text.utf8.count + 16
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
        let filtersStopWords = !stopWords.isEmpty
        let ngramMin = self.ngramMin, ngramMax = self.ngramMax
        Self.withBuffers(bytes: 5 * n + 1, offsets: n + 2) { bytes, bounds in
            // Token k is bytes[bounds[2k] ..< bounds[2k + 1]]; at most n / 2 tokens of ≥ 2 scalars.
            // Wrapping arithmetic in the per-scalar loops: the counts are bounded by the buffer
            // sizes (at most 5n + 1 bytes), and each overflow check was two instructions a scalar.
            var byteCount = 0, tokenCount = 0
            var i = 0
            while i < n {
                guard PythonCharacterClass.isWord(scalars[i]) else { i &+= 1; continue }
                let runMark = byteCount  // before the run and its separating space
                if tokenCount > 0 { bytes[byteCount] = 0x20; byteCount &+= 1 }
                let runStart = byteCount
                let first = i
                repeat {
                    byteCount &+= Self.writeUTF8(scalars[i], to: bytes + byteCount)
                    i &+= 1
                } while i < n && PythonCharacterClass.isWord(scalars[i])
                if i - first >= 2
                    && (!filtersStopWords
                        || !Self.isStopWord(UnsafeBufferPointer(start: bytes + runStart, count: byteCount - runStart), in: stopWords)) {
                    bounds[2 * tokenCount] = Int32(truncatingIfNeeded: runStart)
                    bounds[2 * tokenCount + 1] = Int32(truncatingIfNeeded: byteCount)
                    tokenCount += 1
                } else {
                    byteCount = runMark
                }
            }
            Self.zeroPadding(at: bytes + byteCount)
            for i in 0..<tokenCount {
                let first = Int(bounds[2 * i])
                var hash = TermHash.start
                var position = first
                for length in 1...ngramMax {
                    let last = i + length - 1
                    if last >= tokenCount { break }
                    let end = Int(bounds[2 * last + 1])
                    while position < end { hash = TermHash.adding(bytes[position], to: hash); position &+= 1 }
                    if length >= ngramMin {
                        visitor.visit(UnsafeBufferPointer(start: bytes + first, count: end - first), hash: TermHash.finished(hash))
                    }
                }
            }
        }
    }

    /// Out of line, so that the set's generic machinery stays out of the tokenizer's loop.
    @inline(never)
    private static func isStopWord(_ token: UnsafeBufferPointer<UInt8>, in stopWords: Set<[UInt8]>) -> Bool {
        stopWords.contains(Array(token))
    }

    /// scikit-learn `_char_wb_ngrams`: per whitespace-separated word padded with a space on each
    /// side, every window of ngram_min…ngram_max scalars shorter than the padded word, and the
    /// padded word itself once when it is at most ngram_max long.
    private func forEachCharWBNGram<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                  _ visitor: inout Visitor) {
        forEachPaddedWord(scalars) { word in visitCharWBWindows(of: word, &visitor) }
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

    /// Each word of `scalars` as `char_wb` pads it, in order.
    @inline(__always)
    func forEachPaddedWord(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ body: (PaddedWord) -> Void) {
        let n = scalars.count
        Self.withBuffers(bytes: 4 * n + 2, offsets: n + 3) { padded, boundaries in
            var i = 0
            while i < n {
                if PythonCharacterClass.isSpace(scalars[i]) { i += 1; continue }
                var end = i
                while end < n && !PythonCharacterClass.isSpace(scalars[end]) { end += 1 }
                padded[0] = 0x20
                boundaries[0] = 0
                var byteCount = 1
                for k in i..<end {
                    boundaries[k - i + 1] = Int32(truncatingIfNeeded: byteCount)
                    byteCount += Self.writeUTF8(scalars[k], to: padded + byteCount)
                }
                let length = end - i + 2
                boundaries[length - 1] = Int32(truncatingIfNeeded: byteCount)
                padded[byteCount] = 0x20
                Self.zeroPadding(at: padded + byteCount + 1)
                boundaries[length] = Int32(truncatingIfNeeded: byteCount + 1)
                body(PaddedWord(bytes: UnsafeBufferPointer(start: padded, count: byteCount + 1), boundaries: boundaries, length: length))
                i = end
            }
        }
    }

    /// The `char_wb` n-grams of one padded word.
    @inline(__always)
    func visitCharWBWindows<Visitor: TermVisitor>(of word: PaddedWord, _ visitor: inout Visitor) {
        guard let base = word.bytes.baseAddress else { return }
        Self.forEachWindow(UnsafeMutablePointer(mutating: base), word.boundaries, length: word.length, min: ngramMin, max: ngramMax,
                           wholeOnce: true, &visitor)
    }

    /// scikit-learn `_char_ngrams`: runs of ≥ 2 whitespace scalars become one space, then every
    /// window of ngram_min…ngram_max scalars that fits.
    private func forEachCharNGram<Visitor: TermVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>,
                                  _ visitor: inout Visitor) {
        let n = scalars.count
        Self.withBuffers(bytes: 4 * n + 1, offsets: n + 1) { bytes, boundaries in
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
                byteCount += Self.writeUTF8(scalar, to: bytes + byteCount)
                length += 1
                i = end
            }
            boundaries[length] = Int32(truncatingIfNeeded: byteCount)
            Self.zeroPadding(at: bytes + byteCount)
            Self.forEachWindow(bytes, boundaries, length: length, min: ngramMin, max: ngramMax, wholeOnce: false, &visitor)
        }
    }

    /// Windows of `min…max` scalars over `length` scalars whose byte offsets are `boundaries`,
    /// by start then length, each hash extending the previous one. `wholeOnce` (char_wb): a
    /// window never covers the whole sequence unless it is the sequence itself, given once
    /// whatever `min` is, when `length ≤ max`.
    @inline(__always)
    private static func forEachWindow<Visitor: TermVisitor>(_ bytes: UnsafeMutablePointer<UInt8>, _ boundaries: UnsafeMutablePointer<Int32>,
                                      length: Int, min minN: Int, max maxN: Int, wholeOnce: Bool,
                                      _ visitor: inout Visitor) {
        // Every scalar one byte (an ASCII word): offsets are positions, one byte per step.
        let ascii = Int(boundaries[length]) == length
        for start in 0..<length {
            let first = ascii ? start : Int(boundaries[start])
            var hash = TermHash.start
            var position = first
            let longest = Swift.min(maxN, length - start)
            if longest < 1 { break }
            for size in 1...longest {
                let end = ascii ? start + size : Int(boundaries[start + size])
                if ascii {
                    hash = TermHash.adding(bytes[end - 1], to: hash)
                } else {
                    while position < end { hash = TermHash.adding(bytes[position], to: hash); position &+= 1 }
                }
                let emit = wholeOnce ? (size >= minN && size < length) || size == length : size >= minN
                if emit { visitor.visit(UnsafeBufferPointer(start: bytes + first, count: end - first), hash: TermHash.finished(hash)) }
            }
        }
    }

    /// Bytes after a term's start that a lookup may read in one load (`column(ofPadded:hash:)`).
    static let termPadding = 8

    /// Zeroes the `termPadding` bytes at `end` (one store, where `initialize(repeating:)`
    /// called memset).
    @inline(__always)
    private static func zeroPadding(at end: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(end).storeBytes(of: 0, as: UInt64.self)
    }

    /// Runs `body` with `byteCount` temporary bytes (and `termPadding` more) and `offsetCount`
    /// Int32 offsets (each on the stack up to 1 KiB), the scratch every analyzer here needs.
    @inline(__always)
    private static func withBuffers(bytes byteCount: Int, offsets offsetCount: Int,
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
