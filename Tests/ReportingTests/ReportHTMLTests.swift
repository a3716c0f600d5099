import Inference
import Testing
import Training
@testable import Reporting

/// A small report: 40 rows over two sites, scores that rank well but not perfectly.
func sampleReport() -> EvaluationReport {
    var scores: [Double] = []
    var labels: [Int] = []
    var keys: [[String?]] = []
    for k in 0..<40 {
        let label = k % 3 == 0 ? 1 : 0
        scores.append(label == 1 ? 0.55 + Double(k % 7) * 0.06 : 0.05 + Double(k % 11) * 0.06)
        labels.append(label)
        keys.append([k % 2 == 0 ? "MLB" : "MLA<&>", nil])
    }
    return EvaluationReport(
        model: .init(name: "items", version: 3, algorithm: "logistic_regression"), data: "test rows",
        labels: ["allowed", "prohibited"], scores: scores, rowLabels: labels, threshold: 0.5,
        dimensions: [SliceDimension(name: "site", column: "site_id"), SliceDimension(name: "family", column: "family")],
        sliceKeys: keys, bootstrapResamples: 50)
}

@Suite(.timeLimit(.minutes(10))) struct ReportHTMLTests {
    @Test func pageIsSelfContained() {
        let html = ReportHTML.render(sampleReport())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // No script, no stylesheet link, no image or font fetched from anywhere.
        for forbidden in ["<script", "<link", "src=", "url(", "@import", "http://", "https://"] where forbidden != "http://" {
            #expect(!html.contains(forbidden), "found \(forbidden)")
        }
        // The only http:// is the SVG namespace, which is an identifier, not a fetch.
        #expect(html.replacing("xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http://") == false)
    }

    @Test func drawsFourChartsAndTheTables() {
        let html = ReportHTML.render(sampleReport())
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
        for title in ["ROC curve", "Precision–recall curve", "Reliability diagram", "Scores by class"] {
            #expect(html.contains("<title>\(title)</title>"))
        }
        #expect(html.contains("true positive"))
        #expect(html.contains("Brier score"))
        // The ROC curve is a polyline with one point per kept curve point.
        #expect(html.contains("class=\"curve\""))
    }

    @Test func sliceKeysAreEscapedAndDimensionsWithoutKeysLeftOut() {
        let report = sampleReport()
        #expect(report.sliceDimensions.map(\.name) == ["site"])
        let html = ReportHTML.render(report)
        #expect(html.contains("MLA&lt;&amp;&gt;"))
        #expect(!html.contains("MLA<&>"))
        #expect(html.contains("<td colspan=\"9\">site</td>"))
    }

    @Test func sameReportSamePage() {
        #expect(ReportHTML.render(sampleReport()) == ReportHTML.render(sampleReport()))
    }

    @Test func robustnessSectionShowsEveryDisguiseAsTableRowAndBars() throws {
        var report = sampleReport()
        #expect(!ReportHTML.render(report).contains("Disguised words"))
        report.robustness = RobustnessReport(rows: [
            .init(kind: nil, confusion: ConfusionCounts(truePositives: 40, falsePositives: 2, trueNegatives: 98, falseNegatives: 3)),
            .init(kind: .leetspeak, confusion: ConfusionCounts(truePositives: 29, falsePositives: 5, trueNegatives: 95, falseNegatives: 14)),
            .init(kind: .zeroWidth, confusion: ConfusionCounts(truePositives: 43, falsePositives: 0, trueNegatives: 100, falseNegatives: 0)),
        ], seed: 9)
        let html = ReportHTML.render(report)
        #expect(html.contains("<h2 id=\"robustness\">Disguised words</h2>"))
        #expect(html.contains("(seed 9)"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 5)
        let lines = html.split(separator: "\n")
        // 29 of 43 caught, 5 of 100 allowed flagged.
        #expect(lines.contains { $0.hasPrefix("<tr><td class=\"k\">leetspeak</td>") && $0.hasSuffix("<td>0.6744</td><td>29 / 43</td><td>0.0500</td><td>5 / 100</td></tr>") })
        #expect(lines.contains { $0.hasPrefix("<tr><td class=\"k\">zero_width</td><td class=\"k\"><code>r·i·v·o·t·r·i·l</code>") })
        // Two bars per disguise: recall in blue, false alarms in red, each titled with its counts.
        #expect(html.components(separatedBy: "<rect class=\"recall\" x=").count - 1 == 3 + 1)  // and the legend
        #expect(html.contains("<title>leetspeak: recall 0.6744 (29 of 43)</title>"))
        #expect(html.contains("<title>leetspeak: false-alarm rate 0.0500 (5 of 100)</title>"))
        #expect(html.contains("clean recall 0.930"))
        // The figures travel in metrics.json and come back the same.
        let decoded = try EvaluationReport.decode(try report.jsonData())
        #expect(decoded.robustness == report.robustness)
        #expect(String(decoding: try report.jsonData(), as: UTF8.self).contains("\"false_alarm_rate\" : 0.05"))
    }

    @Test func groupedBarsScaleToThePlotWidth() {
        var chart = GroupedBarChart(title: "t", series: [("a", "recall")])
        chart.groups = [("x", [0.5], []), ("y", [2], [])]
        let svg = chart.svg()
        #expect(svg.contains("width=\"\(formatFixed(GroupedBarChart.plotWidth / 2, digits: 1))\" height"))
        // Out-of-range values are clamped to the plot.
        #expect(svg.contains("width=\"\(formatFixed(GroupedBarChart.plotWidth, digits: 1))\" height"))
    }

    @Test func unitPlotMapsTheUnitSquareInsideTheFrame() {
        #expect(UnitPlot.point(0, 0) == "48.0,348.0")
        #expect(UnitPlot.point(1, 1) == "368.0,28.0")
        // Out-of-range values are clamped to the frame.
        #expect(UnitPlot.point(2, -1) == "368.0,348.0")
    }
}

@Suite(.timeLimit(.minutes(10))) struct ModelCardTests {
    func manifest() -> ModelManifest {
        ModelManifest(
            name: "items", version: 3, created: "2026-12-04T00:00:00Z", algorithm: .logisticRegression,
            signature: Signature(fields: [FieldSpec(name: "title", type: .string, required: true),
                                          FieldSpec(name: "price_usd", type: .number, required: false)]),
            pipeline: PipelineSpec(transformers: []), model: .logisticRegression(weights: .inline([]), intercept: 0),
            threshold: 0.5, labels: ["allowed", "prohibited"], example: Example(input: [:], expectedScore: 0.5),
            dataset: DatasetInfo(name: "listings", version: "1", fingerprint: "sha256:abc"))
    }

    @Test func cardHasEverySection() {
        let card = ModelCard(
            manifest: manifest(), report: sampleReport(), datasetRows: (24_000, 5_489),
            thresholdRule: "maximise out-of-fold F1", configuration: [("seed", "42"), ("a|b", "c")],
            text: ModelCardText(data: "Synthetic listings.", limitations: ["Own limit."]),
            companions: ["report.html", "metrics.json"]).render()
        for heading in ["# Model card: items version 3", "## Intended use", "## Data", "## Metrics", "### By slice",
                        "## Threshold rule", "## Training configuration", "## Limitations", "## Files"] {
            #expect(card.contains(heading + "\n"), "missing \(heading)")
        }
        #expect(card.contains("Synthetic listings."))
        #expect(card.contains("sha256:abc"))
        #expect(card.contains("24000 rows, 5489 `prohibited`"))
        #expect(card.contains("- Own limit."))
        #expect(card.contains("| a\\|b | c |"))
        #expect(card.contains("`price_usd` (optional)"))
        #expect(card.contains("**site** (`site_id`)"))
    }

    @Test func cardListsTheRobustnessRows() {
        var report = sampleReport()
        report.robustness = RobustnessReport(rows: [
            .init(kind: nil, confusion: ConfusionCounts(truePositives: 40, falsePositives: 2, trueNegatives: 98, falseNegatives: 3)),
            .init(kind: .dots, confusion: ConfusionCounts(truePositives: 28, falsePositives: 1, trueNegatives: 99, falseNegatives: 15)),
        ])
        let card = ModelCard(manifest: manifest(), report: report, datasetRows: nil, thresholdRule: "r",
                             configuration: [], text: ModelCardText(), companions: []).render()
        #expect(card.contains("### Disguised words"))
        #expect(card.contains("| dots | 0.6512 | 28 / 43 | 0.0100 | 1 / 100 |"), "\(card)")
    }

    @Test func cardWithoutEvaluationSaysSo() {
        let card = ModelCard(manifest: manifest(), report: nil, datasetRows: nil, thresholdRule: "0.5",
                             configuration: [], text: ModelCardText(), companions: []).render()
        #expect(card.contains("No labelled evaluation was stored with this version."))
        #expect(card.contains("Not recorded."))
        #expect(!card.contains("## Files"))
    }

    @Test func documentsAreTheReportAndTheCard() {
        let card = ModelCard(manifest: manifest(), report: nil, datasetRows: nil, thresholdRule: "0.5",
                             configuration: [], text: ModelCardText(), companions: [])
        #expect(VersionDocuments.files(report: sampleReport(), card: card).map(\.name) == ["report.html", "MODEL_CARD.md"])
        #expect(VersionDocuments.files(report: nil, card: card).map(\.name) == ["MODEL_CARD.md"])
    }
}
