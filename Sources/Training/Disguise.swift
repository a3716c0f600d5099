/// The ways sellers of prohibited items disguise the words a filter looks for. Used to measure
/// robustness (`vigia evaluate --robustness`) and to augment training rows (`augmentation`).
///
/// Each kind rewrites every *longer word* of a text — a maximal run of at least
/// `Disguiser.minimumWordLength` letters (Unicode alphabetic scalars) — and leaves everything
/// else (digits, punctuation, short words, spacing) as it is.
public enum DisguiseKind: String, CaseIterable, Sendable, Codable {
    /// Letters written as digits and symbols: a→4 or @, e→3, i→1 or !, o→0, and, on a coin
    /// toss each, s→5 or $, t→7 (`rivotril` → `r1v0tr1l`).
    case leetspeak
    /// Letters separated by dots (`r.i.v.o.t.r.i.l`).
    case dots
    /// Letters separated by spaces (`r i v o t r i l`).
    case spaces
    /// Letters separated by hyphens (`r-i-v-o-t-r-i-l`).
    case hyphens
    /// Letters separated by underscores (`r_i_v_o_t_r_i_l`).
    case underscores
    /// Letters separated by an invisible zero-width space, U+200B (`r​i​v​o​t​r​i​l`).
    case zeroWidth = "zero_width"
    /// One letter of the word written three to five times (`riiivotril`).
    case repeats
    /// Each letter that has a look-alike in another script replaced by it on a coin toss:
    /// Cyrillic, Greek, full-width or mathematical bold (`rіvоtrіl` with Cyrillic і, о).
    case homoglyphs
    /// The word split in two by a hyphen at a position inside it (`rivo-tril`).
    case split
}

/// Applies a `DisguiseKind` to a text. Pure: the result depends only on the kind, the text and
/// the generator's state, so a seed reproduces every disguised copy.
public enum Disguiser {
    /// Words shorter than this many letters are left alone (articles, units, sizes). Default 4.
    public static let minimumWordLength = 4

    /// `text` with every longer word disguised by `kind`; `generator` supplies the coin tosses.
    public static func disguise(_ text: String, as kind: DisguiseKind, using generator: inout SeededGenerator) -> String {
        var output = String.UnicodeScalarView()
        var word: [Unicode.Scalar] = []
        func flush() {
            if word.count >= minimumWordLength {
                output.append(contentsOf: disguiseWord(word, as: kind, using: &generator))
            } else {
                output.append(contentsOf: word)
            }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic {
                word.append(scalar)
            } else {
                flush()
                output.append(scalar)
            }
        }
        flush()
        return String(output)
    }

    /// One word (letters only, at least `minimumWordLength` of them) disguised.
    static func disguiseWord(_ word: [Unicode.Scalar], as kind: DisguiseKind, using generator: inout SeededGenerator) -> [Unicode.Scalar] {
        switch kind {
        case .leetspeak:
            return word.map { leet($0, using: &generator) }
        case .dots: return interleave(word, with: ".")
        case .spaces: return interleave(word, with: " ")
        case .hyphens: return interleave(word, with: "-")
        case .underscores: return interleave(word, with: "_")
        case .zeroWidth: return interleave(word, with: "\u{200B}")
        case .repeats:
            let position = generator.nextIndex(below: word.count)
            let times = 3 + generator.nextIndex(below: 3)
            var result = Array(word[..<position])
            result.append(contentsOf: repeatElement(word[position], count: times))
            result.append(contentsOf: word[(position + 1)...])
            return result
        case .homoglyphs:
            return word.map { scalar in
                guard let choices = lookAlikes[scalar], generator.nextIndex(below: 2) == 1 else { return scalar }
                return choices[generator.nextIndex(below: choices.count)]
            }
        case .split:
            let cut = 2 + generator.nextIndex(below: word.count - 3)  // at least two letters each side
            return Array(word[..<cut]) + ["-"] + Array(word[cut...])
        }
    }

    static func interleave(_ word: [Unicode.Scalar], with separator: Unicode.Scalar) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(word.count * 2)
        for (k, scalar) in word.enumerated() {
            if k > 0 { result.append(separator) }
            result.append(scalar)
        }
        return result
    }

    static func leet(_ scalar: Unicode.Scalar, using generator: inout SeededGenerator) -> Unicode.Scalar {
        switch scalar {
        case "a", "A": return generator.nextIndex(below: 4) == 0 ? "@" : "4"
        case "e", "E": return "3"
        case "i", "I": return generator.nextIndex(below: 4) == 0 ? "!" : "1"
        case "o", "O": return "0"
        case "s", "S":
            guard generator.nextIndex(below: 2) == 1 else { return scalar }
            return generator.nextIndex(below: 4) == 0 ? "$" : "5"
        case "t", "T": return generator.nextIndex(below: 2) == 1 ? "7" : scalar
        default: return scalar
        }
    }

    /// Look-alikes of Latin letters: Cyrillic, Greek, full-width (U+FF21…) and mathematical bold
    /// (U+1D400…) forms. Every letter has at least the full-width and bold forms.
    static let lookAlikes: [Unicode.Scalar: [Unicode.Scalar]] = {
        let scriptForms: [Unicode.Scalar: String] = [
            "a": "\u{0430}\u{03B1}", "c": "\u{0441}\u{03F2}", "e": "\u{0435}\u{03B5}", "i": "\u{0456}\u{03B9}",
            "j": "\u{0458}", "k": "\u{043A}\u{03BA}", "o": "\u{043E}\u{03BF}", "p": "\u{0440}\u{03C1}",
            "s": "\u{0455}", "t": "\u{0442}\u{03C4}", "x": "\u{0445}\u{03C7}", "y": "\u{0443}", "h": "\u{04BB}",
            "d": "\u{0501}", "n": "\u{043F}\u{03B7}", "u": "\u{03C5}", "v": "\u{03BD}", "w": "\u{051D}", "l": "\u{04CF}",
            "A": "\u{0410}\u{0391}", "B": "\u{0412}\u{0392}", "C": "\u{0421}\u{03F9}", "E": "\u{0415}\u{0395}",
            "H": "\u{041D}\u{0397}", "I": "\u{0406}\u{0399}", "J": "\u{0408}", "K": "\u{041A}\u{039A}",
            "M": "\u{041C}\u{039C}", "N": "\u{039D}", "O": "\u{041E}\u{039F}", "P": "\u{0420}\u{03A1}",
            "S": "\u{0405}", "T": "\u{0422}\u{03A4}", "X": "\u{0425}\u{03A7}", "Y": "\u{04AE}\u{03A5}", "Z": "\u{0396}",
        ]
        var table: [Unicode.Scalar: [Unicode.Scalar]] = [:]
        for (offset, letter) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".unicodeScalars.enumerated() {
            let upper = letter.value < 0x61
            let index = upper ? letter.value - 0x41 : letter.value - 0x61
            var forms = Array(scriptForms[letter]?.unicodeScalars ?? "".unicodeScalars)
            // Full-width: U+FF21 (A) / U+FF41 (a); mathematical bold: U+1D400 (A) / U+1D41A (a).
            forms.append(Unicode.Scalar((upper ? 0xFF21 : 0xFF41) + index)!)
            forms.append(Unicode.Scalar(0x1D400 + UInt32(offset))!)
            table[letter] = forms
        }
        return table
    }()
}

/// Disguised copies of training rows (`AugmentationConfig`). Pure: the copies depend only on
/// the rows, the configuration and the seed.
public enum Augmenter {
    /// For each row, in order, with probability `config.fraction`: one copy whose text columns
    /// are disguised by a kind drawn uniformly from `config.kinds`. Returns each copy with the
    /// index of the row it copies.
    public static func copies(of rows: [DatasetRow], schema: DatasetSchema, config: AugmentationConfig,
                              seed: UInt64) -> [(source: Int, row: DatasetRow)] {
        let textColumns = schema.columns.indices.filter { schema.columns[$0].kind == .text }
        var generator = SeededGenerator(seed: seed)
        var result: [(source: Int, row: DatasetRow)] = []
        let resolution = 1 << 20
        let cut = Int((config.fraction * Double(resolution)).rounded())
        for (index, row) in rows.enumerated() {
            guard generator.nextIndex(below: resolution) < cut else { continue }
            let kind = config.kinds[generator.nextIndex(below: config.kinds.count)]
            var copy = row
            copy.values = RobustnessReport.disguise(row.values, fields: textColumns, as: kind, using: &generator)
            result.append((index, copy))
        }
        return result
    }
}
