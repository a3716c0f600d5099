import Inference
import Training

/// The evaluation report as one self-contained HTML page: inline CSS and SVG, no script, no
/// external asset (it opens offline and from a model directory as is). A pure function of
/// the `EvaluationReport`.
public enum ReportHTML {
    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1b1f24;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
        .sub{color:#57606a}.charts{display:flex;flex-wrap:wrap;gap:16px}
        figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:6px}figcaption{color:#57606a;font-size:12px;max-width:380px}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
        th{background:#f6f8fa}td.k,th.k{text-align:left}tr.dim td{background:#f6f8fa;font-weight:600;text-align:left}
        .cm td{width:120px;height:44px;text-align:center;font-size:15px}.cm .good{background:#dafbe1}.cm .bad{background:#ffebe9}
        svg text{font:11px system-ui,sans-serif;fill:#1b1f24}svg .title{font-size:13px;font-weight:600}
        svg .grid{stroke:#eaeef2}svg .frame{stroke:#8c959f}svg .diag{stroke:#8c959f}svg .marker{stroke:#cf222e}
        svg .curve{stroke:#0969da;stroke-width:2}svg .note{fill:#57606a}svg .caption{fill:#cf222e}
        svg .pos{fill:#cf222e;fill-opacity:.55}svg .neg{fill:#0969da;fill-opacity:.55}svg .count{fill:#8c959f;fill-opacity:.25}
        svg .dot{fill:#0969da}svg .recall{fill:#0969da}svg .alarm{fill:#cf222e}
        """

    public static func render(_ report: EvaluationReport) -> String {
        let model = report.model
        let positive = report.labels.count == 2 ? report.labels[1] : "positive"
        let negative = report.labels.count == 2 ? report.labels[0] : "negative"
        var html = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                    "<title>\(escapeHTML("Evaluation: \(model.name) version \(model.version)"))</title>",
                    "<style>\(style)</style></head><body>"]
        html.append("<h1>\(escapeHTML("\(model.name) version \(model.version)"))</h1>")
        html.append("<p class=\"sub\">\(escapeHTML("\(model.algorithm) · \(report.data) · \(report.overall.rows) rows, \(report.overall.positives) \(positive) · threshold \(formatFixed(report.threshold, digits: 4))"))</p>")

        html.append("<h2>Overall</h2>")
        html.append(summaryTable(report))

        html.append("<h2>Ranking, calibration and scores</h2><div class=\"charts\">")
        html.append(figure(rocChart(report), caption: "ROC curve of the scores (one step per distinct score); the dashed diagonal is a random ranking. 95 % interval of the AUC: stratified bootstrap, 200 resamples, fixed seed."))
        html.append(figure(precisionRecallChart(report), caption: "Precision against recall as the threshold falls; the dashed line is the share of \(positive) rows (a random ranking). The dot is the model's threshold."))
        html.append(figure(reliabilityChart(report), caption: "Reliability: the share of \(positive) rows in each score bin against the bin's mean score (on the diagonal = calibrated); grey bars show how many rows each bin holds."))
        html.append(figure(histogramChart(report, positive: positive, negative: negative), caption: "Score distribution of each class as a share of that class, 20 bins: blue \(negative) (\(report.overall.rows - report.overall.positives) rows), red \(positive) (\(report.overall.positives) rows); the dashed line is the threshold."))
        html.append("</div>")

        html.append("<h2>Confusion matrix at threshold \(formatFixed(report.threshold, digits: 4))</h2>")
        html.append(confusionTable(report, positive: positive, negative: negative))

        html.append("<h2>Slices</h2>")
        html.append("<p class=\"sub\">Metrics at the model's threshold within each slice. Intervals are 95 %: Wilson for precision and recall, stratified bootstrap (200 resamples, fixed seed) for ROC-AUC. A dash: undefined in that slice (one class only, or nothing flagged). Dimensions: \(escapeHTML(report.sliceDimensions.map { "\($0.name) (\($0.column))" }.joined(separator: ", ")))</p>")
        html.append(sliceTable(report))
        if let robustness = report.robustness {
            html.append("<h2 id=\"robustness\">Disguised words</h2>")
            html.append("<p class=\"sub\">\(escapeHTML("The same rows with every word of four or more letters in the text fields disguised one way (seed \(robustness.seed)), scored at the model's threshold: the recall on \(positive) rows and the false-alarm rate on \(negative) rows, beside the clean text. The same figures as vigia evaluate --robustness."))</p>")
            html.append("<div class=\"charts\">" + figure(robustnessChart(robustness), caption: "Recall (blue) and false-alarm rate (red) per disguise; the dashed line is the clean recall.") + "</div>")
            html.append(robustnessTable(robustness, positive: positive, negative: negative))
        }
        html.append("</body></html>")
        return html.joined(separator: "\n") + "\n"
    }

    static func figure(_ svg: String, caption: String) -> String {
        "<figure>\(svg)<figcaption>\(escapeHTML(caption))</figcaption></figure>"
    }

    static func summaryTable(_ report: EvaluationReport) -> String {
        let o = report.overall
        let c = report.calibration
        let rows: [(String, String)] = [
            ("ROC-AUC", withInterval(o.rocAUC, o.rocAUCInterval, digits: 4)),
            ("PR-AUC (average precision)", number(o.prAUC)),
            ("precision", withInterval(o.precision, o.precisionInterval, digits: 4)),
            ("recall", withInterval(o.recall, o.recallInterval, digits: 4)),
            ("F1", number(report.f1)), ("accuracy", number(report.accuracy)),
            ("false-positive rate", number(o.falsePositiveRate)),
            ("Brier score", number(c.brierScore)),
            ("expected calibration error (10 bins)", number(c.expectedCalibrationError)),
            ("maximum calibration error", number(c.maximumCalibrationError)),
        ]
        return "<table><tr><th class=\"k\">metric</th><th>value [95 % interval]</th></tr>"
            + rows.map { "<tr><td class=\"k\">\(escapeHTML($0.0))</td><td>\(escapeHTML($0.1))</td></tr>" }.joined()
            + "</table>"
    }

    static func rocChart(_ report: EvaluationReport) -> String {
        var plot = UnitPlot(title: "ROC curve", xLabel: "false-positive rate", yLabel: "true-positive rate")
        plot.line([(0, 0), (1, 1)], cssClass: "diag", dashed: true)
        plot.line(report.rocCurve.map { ($0.x, $0.y) }, cssClass: "curve")
        if let fpr = report.overall.falsePositiveRate, let tpr = report.overall.recall {
            plot.dots([(fpr, tpr, 4, "threshold \(formatFixed(report.threshold, digits: 4)): FPR \(formatFixed(fpr, digits: 4)), TPR \(formatFixed(tpr, digits: 4))")], cssClass: "dot")
        }
        plot.note("AUC " + withInterval(report.overall.rocAUC, report.overall.rocAUCInterval, digits: 4), row: 18)
        return plot.svg()
    }

    static func precisionRecallChart(_ report: EvaluationReport) -> String {
        var plot = UnitPlot(title: "Precision–recall curve", xLabel: "recall", yLabel: "precision")
        let prevalence = report.overall.rows > 0 ? Double(report.overall.positives) / Double(report.overall.rows) : 0
        plot.line([(0, prevalence), (1, prevalence)], cssClass: "diag", dashed: true)
        plot.line(report.precisionRecallCurve.map { ($0.x, $0.y) }, cssClass: "curve")
        if let recall = report.overall.recall, let precision = report.overall.precision {
            plot.dots([(recall, precision, 4, "threshold \(formatFixed(report.threshold, digits: 4)): recall \(formatFixed(recall, digits: 4)), precision \(formatFixed(precision, digits: 4))")], cssClass: "dot")
        }
        plot.note("average precision " + number(report.overall.prAUC), row: 18)
        return plot.svg()
    }

    static func reliabilityChart(_ report: EvaluationReport) -> String {
        var plot = UnitPlot(title: "Reliability diagram", xLabel: "mean score in bin", yLabel: "observed share positive")
        let largest = max(1, report.calibration.bins.map(\.count).max() ?? 1)
        for bin in report.calibration.bins {
            plot.bar(x0: bin.lower, x1: bin.upper, height: 0.25 * Double(bin.count) / Double(largest), cssClass: "count",
                     title: "scores \(formatFixed(bin.lower, digits: 1))–\(formatFixed(bin.upper, digits: 1)): \(bin.count) rows")
        }
        plot.line([(0, 0), (1, 1)], cssClass: "diag", dashed: true)
        let filled = report.calibration.bins.compactMap { bin -> (Double, Double, Int)? in
            guard let mean = bin.meanScore, let rate = bin.observedRate else { return nil }
            return (mean, rate, bin.count)
        }
        plot.line(filled.map { ($0.0, $0.1) }, cssClass: "curve")
        plot.dots(filled.map { ($0.0, $0.1, 3.5, "mean score \(formatFixed($0.0, digits: 3)), observed \(formatFixed($0.1, digits: 3)), \($0.2) rows") }, cssClass: "dot")
        plot.note("Brier \(number(report.calibration.brierScore)) · ECE \(number(report.calibration.expectedCalibrationError))", row: 0)
        return plot.svg()
    }

    static func histogramChart(_ report: EvaluationReport, positive: String, negative: String) -> String {
        var plot = UnitPlot(title: "Scores by class", xLabel: "score", yLabel: "share of the class")
        let h = report.histograms
        let totalPositives = max(1, h.positives.reduce(0, +))
        let totalNegatives = max(1, h.negatives.reduce(0, +))
        let shares = h.positives.map { Double($0) / Double(totalPositives) } + h.negatives.map { Double($0) / Double(totalNegatives) }
        // The y axis runs to the next tenth above the tallest bar.
        let top = max(0.1, ((shares.max() ?? 0) * 10).rounded(.up) / 10)
        let width = 1 / Double(h.binCount)
        for k in 0..<h.binCount {
            let x0 = Double(k) * width
            let range = "\(formatFixed(x0, digits: 2))–\(formatFixed(x0 + width, digits: 2))"
            plot.bar(x0: x0, x1: x0 + width / 2, height: Double(h.negatives[k]) / Double(totalNegatives) / top, cssClass: "neg",
                     title: "\(negative), scores \(range): \(h.negatives[k]) rows")
            plot.bar(x0: x0 + width / 2, x1: x0 + width, height: Double(h.positives[k]) / Double(totalPositives) / top, cssClass: "pos",
                     title: "\(positive), scores \(range): \(h.positives[k]) rows")
        }
        plot.verticalMarker(at: report.threshold, caption: "threshold")
        return plot.svg(yMax: top, yDigits: 2)
    }

    static func confusionTable(_ report: EvaluationReport, positive: String, negative: String) -> String {
        let c = report.confusion
        return """
            <table class="cm"><tr><th></th><th>predicted \(escapeHTML(negative))</th><th>predicted \(escapeHTML(positive))</th></tr>
            <tr><th>actual \(escapeHTML(negative))</th><td class="good">\(c.trueNegatives)<br><small>true negative</small></td><td class="bad">\(c.falsePositives)<br><small>false positive</small></td></tr>
            <tr><th>actual \(escapeHTML(positive))</th><td class="bad">\(c.falseNegatives)<br><small>false negative</small></td><td class="good">\(c.truePositives)<br><small>true positive</small></td></tr>
            </table>
            """
    }

    static func robustnessChart(_ robustness: RobustnessReport) -> String {
        var chart = GroupedBarChart(title: "Recall and false alarms by disguise",
                                    series: [("recall", "recall"), ("false-alarm rate", "alarm")])
        for row in robustness.rows {
            let c = row.confusion
            chart.groups.append((row.name, [row.recall, row.falseAlarmRate], [
                "\(row.name): recall \(formatFixed(row.recall, digits: 4)) (\(c.truePositives) of \(c.truePositives + c.falseNegatives))",
                "\(row.name): false-alarm rate \(formatFixed(row.falseAlarmRate, digits: 4)) (\(c.falsePositives) of \(c.falsePositives + c.trueNegatives))",
            ]))
        }
        if let clean = robustness.rows.first(where: { $0.kind == nil }) {
            chart.reference = (clean.recall, "clean recall \(formatFixed(clean.recall, digits: 3))")
        }
        return chart.svg()
    }

    static func robustnessTable(_ robustness: RobustnessReport, positive: String, negative: String) -> String {
        var lines = ["<table><tr><th class=\"k\">disguise</th><th class=\"k\">example (· invisible)</th><th>recall</th><th>\(escapeHTML(positive)) caught</th><th>false-alarm rate</th><th>\(escapeHTML(negative)) flagged</th></tr>"]
        for row in robustness.rows {
            let c = row.confusion
            let cells = [formatFixed(row.recall, digits: 4), "\(c.truePositives) / \(c.truePositives + c.falseNegatives)",
                         formatFixed(row.falseAlarmRate, digits: 4), "\(c.falsePositives) / \(c.falsePositives + c.trueNegatives)"]
            lines.append("<tr><td class=\"k\">\(escapeHTML(row.name))</td><td class=\"k\"><code>\(escapeHTML(Self.disguiseExample(row.kind)))</code></td>"
                + cells.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>")
        }
        lines.append("</table>")
        return lines.joined(separator: "\n")
    }

    /// What a disguise does to one word (the disguiser itself, a fixed seed), invisible
    /// characters shown as `·`.
    static func disguiseExample(_ kind: DisguiseKind?) -> String {
        let word = "rivotril"
        guard let kind else { return word }
        var generator = SeededGenerator(seed: RobustnessReport.defaultSeed)
        let disguised = Disguiser.disguise(word, as: kind, using: &generator)
        return String(String.UnicodeScalarView(disguised.unicodeScalars.map { invisible.contains($0.value) ? "·" : $0 }))
    }

    static let invisible: Set<UInt32> = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]

    static func sliceTable(_ report: EvaluationReport) -> String {
        var lines = ["<table><tr><th class=\"k\">slice</th><th>rows</th><th>positive</th><th>flagged</th><th>ROC-AUC [95 %]</th><th>PR-AUC</th><th>precision [95 %]</th><th>recall [95 %]</th><th>FPR</th></tr>"]
        var dimension = ""
        for slice in report.slices {
            if slice.dimension != dimension {
                dimension = slice.dimension
                lines.append("<tr class=\"dim\"><td colspan=\"9\">\(escapeHTML(dimension))</td></tr>")
            }
            let cells = [String(slice.rows), String(slice.positives), String(slice.flagged),
                         withInterval(slice.rocAUC, slice.rocAUCInterval), number(slice.prAUC, digits: 3),
                         withInterval(slice.precision, slice.precisionInterval), withInterval(slice.recall, slice.recallInterval),
                         number(slice.falsePositiveRate, digits: 3)]
            lines.append("<tr><td class=\"k\">\(escapeHTML(slice.key))</td>" + cells.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>")
        }
        lines.append("</table>")
        return lines.joined(separator: "\n")
    }
}
