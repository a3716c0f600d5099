import Inference
import Training

/// A fixed-decimal number, or an en dash for an undefined value.
func number(_ value: Double?, digits: Int = 4) -> String {
    value.map { formatFixed($0, digits: digits) } ?? "–"
}

/// `0.9830 [0.9781, 0.9873]`, or the value alone without an interval.
func withInterval(_ value: Double?, _ interval: ScoreAnalysis.Interval?, digits: Int = 3) -> String {
    guard let value else { return "–" }
    guard let interval else { return number(value, digits: digits) }
    return "\(number(value, digits: digits)) [\(number(interval.lower, digits: digits)), \(number(interval.upper, digits: digits))]"
}

/// A square plot of the unit square [0, 1]² as inline SVG: axes with ticks at 0.2, axis
/// titles, and whatever series the caller adds. Pure string building, no I/O.
struct UnitPlot {
    static let size = 320.0
    static let margin = (left: 48.0, right: 12.0, top: 28.0, bottom: 42.0)

    var title: String
    var xLabel: String
    var yLabel: String
    private var body: [String] = []

    init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// SVG coordinates of the unit-square point (x, y) (y grows upwards).
    static func point(_ x: Double, _ y: Double) -> String {
        let px = margin.left + min(1, max(0, x)) * size
        let py = margin.top + (1 - min(1, max(0, y))) * size
        return formatFixed(px, digits: 1) + "," + formatFixed(py, digits: 1)
    }

    /// A polyline through `points` (unit coordinates).
    mutating func line(_ points: [(Double, Double)], cssClass: String, dashed: Bool = false) {
        guard !points.isEmpty else { return }
        let path = points.map { Self.point($0.0, $0.1) }.joined(separator: " ")
        body.append("<polyline class=\"\(cssClass)\" fill=\"none\"\(dashed ? " stroke-dasharray=\"4 4\"" : "") points=\"\(path)\"/>")
    }

    /// Dots with a hover title each.
    mutating func dots(_ points: [(x: Double, y: Double, radius: Double, title: String)], cssClass: String) {
        for p in points {
            let xy = Self.point(p.x, p.y).split(separator: ",")
            body.append("<circle class=\"\(cssClass)\" cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"\(formatFixed(p.radius, digits: 1))\"><title>\(escapeHTML(p.title))</title></circle>")
        }
    }

    /// A bar from x₀ to x₁ (unit coordinates) of height h (0…1) with a hover title.
    mutating func bar(x0: Double, x1: Double, height: Double, cssClass: String, title: String) {
        let left = Self.margin.left + x0 * Self.size
        let width = max(0, (x1 - x0) * Self.size)
        let h = min(1, max(0, height)) * Self.size
        let top = Self.margin.top + Self.size - h
        body.append("<rect class=\"\(cssClass)\" x=\"\(formatFixed(left, digits: 1))\" y=\"\(formatFixed(top, digits: 1))\" width=\"\(formatFixed(width, digits: 1))\" height=\"\(formatFixed(h, digits: 1))\"><title>\(escapeHTML(title))</title></rect>")
    }

    /// A vertical marker at unit x with a caption.
    mutating func verticalMarker(at x: Double, caption: String) {
        line([(x, 0), (x, 1)], cssClass: "marker", dashed: true)
        let px = Self.margin.left + min(1, max(0, x)) * Self.size
        body.append("<text class=\"caption\" x=\"\(formatFixed(px + 4, digits: 1))\" y=\"\(formatFixed(Self.margin.top + 12, digits: 1))\">\(escapeHTML(caption))</text>")
    }

    /// A line of text inside the plot, `row` lines below the top-left corner.
    mutating func note(_ text: String, row: Int) {
        body.append("<text class=\"note\" x=\"\(formatFixed(Self.margin.left + 8, digits: 1))\" y=\"\(formatFixed(Self.margin.top + 16 + Double(row) * 15, digits: 1))\">\(escapeHTML(text))</text>")
    }

    /// The `<svg>` element; `yMax` labels the top of the y axis (1 for rates, a share for histograms).
    func svg(yMax: Double = 1, yDigits: Int = 1) -> String {
        let width = Self.margin.left + Self.size + Self.margin.right
        let height = Self.margin.top + Self.size + Self.margin.bottom
        var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\"><title>\(escapeHTML(title))</title>"]
        parts.append("<text class=\"title\" x=\"\(Int(Self.margin.left))\" y=\"18\">\(escapeHTML(title))</text>")
        let x0 = Self.margin.left, y0 = Self.margin.top + Self.size
        parts.append("<rect class=\"frame\" x=\"\(Int(x0))\" y=\"\(Int(Self.margin.top))\" width=\"\(Int(Self.size))\" height=\"\(Int(Self.size))\" fill=\"none\"/>")
        for k in 0...5 {
            let t = Double(k) / 5
            let px = x0 + t * Self.size, py = y0 - t * Self.size
            parts.append("<line class=\"grid\" x1=\"\(formatFixed(px, digits: 1))\" y1=\"\(Int(Self.margin.top))\" x2=\"\(formatFixed(px, digits: 1))\" y2=\"\(Int(y0))\"/>")
            parts.append("<line class=\"grid\" x1=\"\(Int(x0))\" y1=\"\(formatFixed(py, digits: 1))\" x2=\"\(Int(x0 + Self.size))\" y2=\"\(formatFixed(py, digits: 1))\"/>")
            parts.append("<text class=\"tick\" text-anchor=\"middle\" x=\"\(formatFixed(px, digits: 1))\" y=\"\(Int(y0 + 14))\">\(formatFixed(t, digits: 1))</text>")
            parts.append("<text class=\"tick\" text-anchor=\"end\" x=\"\(Int(x0 - 4))\" y=\"\(formatFixed(py + 4, digits: 1))\">\(formatFixed(t * yMax, digits: yDigits))</text>")
        }
        parts.append("<text class=\"axis\" text-anchor=\"middle\" x=\"\(Int(x0 + Self.size / 2))\" y=\"\(Int(y0 + 32))\">\(escapeHTML(xLabel))</text>")
        parts.append("<text class=\"axis\" text-anchor=\"middle\" transform=\"translate(12 \(Int(Self.margin.top + Self.size / 2))) rotate(-90)\">\(escapeHTML(yLabel))</text>")
        parts += body
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}

/// Horizontal bars on a 0–1 scale, one group per row label, each group one bar per series
/// (e.g. recall and false-alarm rate per disguise), with the value written after each bar
/// and an optional dashed reference line. Inline SVG; pure string building.
struct GroupedBarChart {
    static let labelWidth = 110.0, plotWidth = 360.0, valueWidth = 56.0
    static let top = 44.0, bottom = 34.0, barHeight = 9.0, groupGap = 8.0

    var title: String
    /// Name and CSS class of each series, in the order the bars of a group are drawn.
    var series: [(name: String, cssClass: String)]
    /// One label and one value (0…1) per series each.
    var groups: [(label: String, values: [Double], titles: [String])] = []
    /// A dashed vertical line at this value, with its caption.
    var reference: (value: Double, caption: String)?

    func svg() -> String {
        let groupHeight = Double(series.count) * Self.barHeight + Self.groupGap
        let width = Self.labelWidth + Self.plotWidth + Self.valueWidth
        let height = Self.top + Double(groups.count) * groupHeight + Self.bottom
        let x0 = Self.labelWidth, y1 = Self.top + Double(groups.count) * groupHeight
        func x(_ value: Double) -> Double { x0 + min(1, max(0, value)) * Self.plotWidth }
        var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\"><title>\(escapeHTML(title))</title>"]
        parts.append("<text class=\"title\" x=\"0\" y=\"16\">\(escapeHTML(title))</text>")
        var legendX = x0
        for entry in series {
            parts.append("<rect class=\"\(entry.cssClass)\" x=\"\(formatFixed(legendX, digits: 1))\" y=\"24\" width=\"10\" height=\"10\"/>")
            parts.append("<text x=\"\(formatFixed(legendX + 14, digits: 1))\" y=\"33\">\(escapeHTML(entry.name))</text>")
            legendX += 24 + Double(entry.name.count) * 6.5
        }
        for k in 0...5 {
            let t = Double(k) / 5
            parts.append("<line class=\"grid\" x1=\"\(formatFixed(x(t), digits: 1))\" y1=\"\(Int(Self.top))\" x2=\"\(formatFixed(x(t), digits: 1))\" y2=\"\(formatFixed(y1, digits: 1))\"/>")
            parts.append("<text class=\"tick\" text-anchor=\"middle\" x=\"\(formatFixed(x(t), digits: 1))\" y=\"\(formatFixed(y1 + 14, digits: 1))\">\(formatFixed(t, digits: 1))</text>")
        }
        for (g, group) in groups.enumerated() {
            let groupTop = Self.top + Double(g) * groupHeight + Self.groupGap / 2
            let middle = groupTop + Double(series.count) * Self.barHeight / 2
            parts.append("<text class=\"k\" text-anchor=\"end\" x=\"\(Int(x0 - 6))\" y=\"\(formatFixed(middle + 4, digits: 1))\">\(escapeHTML(group.label))</text>")
            for (s, value) in group.values.enumerated() where s < series.count {
                let y = groupTop + Double(s) * Self.barHeight
                let title = s < group.titles.count ? group.titles[s] : "\(series[s].name) \(formatFixed(value, digits: 4))"
                parts.append("<rect class=\"\(series[s].cssClass)\" x=\"\(Int(x0))\" y=\"\(formatFixed(y, digits: 1))\" width=\"\(formatFixed(x(value) - x0, digits: 1))\" height=\"\(formatFixed(Self.barHeight - 1, digits: 1))\"><title>\(escapeHTML(title))</title></rect>")
                parts.append("<text class=\"note\" x=\"\(formatFixed(x(value) + 3, digits: 1))\" y=\"\(formatFixed(y + Self.barHeight - 1.5, digits: 1))\">\(formatFixed(value, digits: 3))</text>")
            }
        }
        parts.append("<line class=\"frame\" x1=\"\(Int(x0))\" y1=\"\(Int(Self.top))\" x2=\"\(Int(x0))\" y2=\"\(formatFixed(y1, digits: 1))\"/>")
        if let reference {
            parts.append("<line class=\"marker\" stroke-dasharray=\"4 4\" x1=\"\(formatFixed(x(reference.value), digits: 1))\" y1=\"\(Int(Self.top))\" x2=\"\(formatFixed(x(reference.value), digits: 1))\" y2=\"\(formatFixed(y1, digits: 1))\"/>")
            parts.append("<text class=\"caption\" text-anchor=\"middle\" x=\"\(formatFixed(x(reference.value), digits: 1))\" y=\"\(formatFixed(y1 + 28, digits: 1))\">\(escapeHTML(reference.caption))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
